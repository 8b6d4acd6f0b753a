/*
 * fs_chmod_chown: see the checks below; runs in a fresh directory under /tmp
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
	struct stat st;
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	EXPECT_OK("chmod", chmod("f", 0600));
	EXPECT_OK("stat", stat("f", &st));
	CHECK((st.st_mode & 07777) == 0600 && S_ISREG(st.st_mode));
	EXPECT_OK("fchmod with set-id bits", fchmod(fd, 06755));
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK((st.st_mode & 07777) == 06755);
	EXPECT_OK("chown -1 -1 clears set-id", fchown(fd, -1, -1));
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK((st.st_mode & 07777) == 0755);
	EXPECT_OK("chmod 2644 (setgid, no group x)", chmod("f", 02644));
	EXPECT_OK("chown keeps setgid without group x", chown("f", 0, 0));
	EXPECT_OK("stat", stat("f", &st));
	CHECK((st.st_mode & 07777) == 02644);
	EXPECT_OK("chown to others", chown("f", 1234, 5678));
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_uid == 1234 && st.st_gid == 5678);
	EXPECT_OK("lchown a symlink", (symlink("f", "l"), lchown("l", 42, 43)));
	EXPECT_OK("lstat", lstat("l", &st));
	CHECK(st.st_uid == 42 && st.st_gid == 43);
	EXPECT_OK("stat f unchanged", stat("f", &st));
	CHECK(st.st_uid == 1234);
	EXPECT_OK("fchownat NOFOLLOW", fchownat(AT_FDCWD, "l", 7, 7, AT_SYMLINK_NOFOLLOW));
	EXPECT_ERR("chmod missing", chmod("nope", 0644), ENOENT);
	EXPECT_ERR("fchmod bad fd", fchmod(999, 0644), EBADF);
	EXPECT_OK("mkdir with setgid", mkdir("g", 0755));
	EXPECT_OK("chmod g+s", chmod("g", 02755));
	EXPECT_OK("chown group", chown("g", 0, 4321));
	close(open("g/inner", O_CREAT | O_WRONLY, 0644));
	EXPECT_OK("mkdir g/sub", mkdir("g/sub", 0755));
	EXPECT_OK("stat inner", stat("g/inner", &st));
	CHECK(st.st_gid == 4321);
	EXPECT_OK("stat sub", stat("g/sub", &st));
	CHECK(st.st_gid == 4321 && (st.st_mode & S_ISGID));
	EXPECT_OK("stat g", stat("g", &st));
	CHECK((st.st_mode & 07777) == 02755);
	close(fd);
	unlink("g/inner"); rmdir("g/sub"); rmdir("g"); unlink("l"); unlink("f");
	leave_tmpdir();
	return conformance_done();
}
