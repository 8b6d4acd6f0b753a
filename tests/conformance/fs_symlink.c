/*
 * fs_symlink: see the checks below; runs in a fresh directory under /tmp
 * (made with mkdtemp, removed at the end) and prints properties only.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>

/* Each program works in a fresh directory under /tmp and removes it. */
static char dir_[] = "/tmp/carapace-fs-XXXXXX";
__attribute__((unused)) static void enter_tmpdir(void)
{
	umask(022);
	if (!mkdtemp(dir_)) {
		printf("FAIL: mkdtemp: %s\n", errno_name(errno));
		exit(1);
	}
	if (chdir(dir_) != 0) {
		printf("FAIL: chdir: %s\n", errno_name(errno));
		exit(1);
	}
}
__attribute__((unused)) static void leave_tmpdir(void)
{
	CHECK(chdir("/") == 0);
	EXPECT_OK("remove the directory", rmdir(dir_));
}

int main(void)
{
	conformance_init();
	enter_tmpdir();
	char buf[256];
	close(open("target", O_CREAT | O_WRONLY, 0644));
	EXPECT_OK("symlink", symlink("target", "l"));
	struct stat st;
	EXPECT_OK("lstat", lstat("l", &st));
	CHECK(S_ISLNK(st.st_mode) && st.st_size == 6 && (st.st_mode & 0777) == 0777);
	EXPECT_OK("stat follows", stat("l", &st));
	CHECK(S_ISREG(st.st_mode));
	EXPECT_VAL("readlink", readlink("l", buf, sizeof buf), 6);
	CHECK(memcmp(buf, "target", 6) == 0);
	EXPECT_VAL("readlink short buffer", readlink("l", buf, 3), 3);
	EXPECT_ERR("readlink a file", readlink("target", buf, sizeof buf), EINVAL);
	EXPECT_ERR("symlink existing", symlink("x", "l"), EEXIST);
	EXPECT_ERR("O_NOFOLLOW", open("l", O_RDONLY | O_NOFOLLOW), ELOOP);
	int fd = EXPECT_OK("O_PATH|O_NOFOLLOW", open("l", O_PATH | O_NOFOLLOW));
	close(fd);
	EXPECT_OK("dangling", symlink("nowhere", "dangling"));
	EXPECT_ERR("stat dangling", stat("dangling", &st), ENOENT);
	fd = EXPECT_OK("O_CREAT through a dangling link", open("dangling", O_CREAT | O_WRONLY, 0644));
	close(fd);
	EXPECT_OK("the target now exists", access("nowhere", F_OK));
	EXPECT_ERR("O_CREAT|O_EXCL on a link", open("l", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	EXPECT_OK("loop a", symlink("loop_b", "loop_a"));
	EXPECT_OK("loop b", symlink("loop_a", "loop_b"));
	EXPECT_ERR("loop", open("loop_a", O_RDONLY), ELOOP);
	EXPECT_ERR("loop in the middle", open("loop_a/x", O_RDONLY), ELOOP);
	/* A chain of 40 links resolves; 41 do not. */
	for (int i = 1; i <= 41; i++) {
		char name[16], to[16];
		snprintf(name, sizeof name, "c%d", i);
		if (i == 1) snprintf(to, sizeof to, "target");
		else snprintf(to, sizeof to, "c%d", i - 1);
		if (symlink(to, name) != 0) printf("FAIL: symlink %s\n", name);
	}
	EXPECT_OK("40 links", stat("c40", &st));
	EXPECT_ERR("41 links", stat("c41", &st), ELOOP);
	EXPECT_OK("mkdir", mkdir("d", 0755));
	EXPECT_OK("dir link", symlink("d", "dl"));
	EXPECT_OK("create through a dir link", close(open("dl/f", O_CREAT | O_WRONLY, 0644)));
	EXPECT_OK("file is in d", access("d/f", F_OK));
	EXPECT_OK("relative up link", symlink("../target", "d/up"));
	EXPECT_OK("stat through ..", stat("d/up", &st));
	EXPECT_ERR("empty target", symlink("", "e"), ENOENT);
	EXPECT_ERR("unlink a link with a slash", unlink("l/"), ENOTDIR);
	EXPECT_OK("unlink a dir link", unlink("dl"));
	EXPECT_OK("d survives", access("d/f", F_OK));
	unlink("d/f"); unlink("d/up"); rmdir("d");
	for (int i = 1; i <= 41; i++) { char name[16]; snprintf(name, sizeof name, "c%d", i); unlink(name); }
	unlink("loop_a"); unlink("loop_b"); unlink("dangling"); unlink("nowhere"); unlink("l"); unlink("target");
	leave_tmpdir();
	return conformance_done();
}
