/*
 * fs_open_flags: see the checks below; runs in a fresh directory under /tmp
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
	EXPECT_OK("mkdir", mkdir("d", 0755));
	close(open("f", O_CREAT | O_WRONLY, 0644));
	EXPECT_ERR("O_CREAT on a dir", open("d", O_CREAT | O_RDONLY, 0644), EISDIR);
	EXPECT_ERR("O_DIRECTORY on a file", open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
	EXPECT_ERR("O_CREAT|O_DIRECTORY", open("new", O_CREAT | O_DIRECTORY | O_RDONLY, 0644), EINVAL);
	EXPECT_ERR("O_RDWR on a dir", open("d", O_RDWR), EISDIR);
	EXPECT_ERR("create with a trailing slash", open("new/", O_CREAT | O_WRONLY, 0644), EISDIR);
	EXPECT_ERR("create in a missing dir", open("nope/x", O_CREAT | O_WRONLY, 0644), ENOENT);
	EXPECT_ERR("file with a trailing slash", open("f/", O_RDONLY), ENOTDIR);
	EXPECT_ERR("create under a file", open("f/x", O_CREAT | O_WRONLY, 0644), ENOTDIR);
	close(EXPECT_OK("open ignores high mode bits", syscall(SYS_openat, AT_FDCWD, "x", O_CREAT | O_WRONLY, 0170644)));
	int fd = EXPECT_OK("openat relative to a dir fd", open("d", O_RDONLY | O_DIRECTORY));
	int f2 = EXPECT_OK("create via openat", openat(fd, "inner", O_CREAT | O_RDWR, 0640));
	struct stat st;
	EXPECT_OK("stat inner", stat("d/inner", &st));
	CHECK((st.st_mode & 0777) == 0640);
	EXPECT_VAL("F_GETFL", fcntl(f2, F_GETFL) & (O_ACCMODE | O_APPEND), O_RDWR);
	close(f2);
	f2 = EXPECT_OK("O_PATH", open("d/inner", O_PATH));
	EXPECT_ERR("write on O_PATH", write(f2, "x", 1), EBADF);
	close(f2);
	EXPECT_OK("unlinkat", unlinkat(fd, "inner", 0));
	close(fd);
	EXPECT_ERR("creat a dir", creat("d", 0644), EISDIR);
	fd = EXPECT_OK("O_EXCL new", open("excl", O_CREAT | O_EXCL | O_WRONLY, 0644));
	close(fd);
	unlink("excl"); unlink("x"); unlink("f"); rmdir("d");
	leave_tmpdir();
	return conformance_done();
}
