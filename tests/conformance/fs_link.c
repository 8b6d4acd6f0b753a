/*
 * fs_link: see the checks below; runs in a fresh directory under /tmp
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
	struct stat a, b;
	close(open("a", O_CREAT | O_WRONLY, 0644));
	EXPECT_OK("link", link("a", "b"));
	EXPECT_OK("stat a", stat("a", &a));
	EXPECT_OK("stat b", stat("b", &b));
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_nlink == 2);
	EXPECT_OK("linkat", linkat(AT_FDCWD, "a", AT_FDCWD, "c", 0));
	EXPECT_OK("stat", stat("a", &a));
	CHECK(a.st_nlink == 3);
	int fd = open("b", O_WRONLY);
	CHECK(write(fd, "shared", 6) == 6);
	close(fd);
	EXPECT_OK("stat c", stat("c", &b));
	CHECK(b.st_size == 6);
	EXPECT_OK("unlink a", unlink("a"));
	EXPECT_OK("stat b", stat("b", &b));
	CHECK(b.st_nlink == 2);
	EXPECT_ERR("link onto existing", link("b", "c"), EEXIST);
	EXPECT_ERR("link missing", link("a", "z"), ENOENT);
	EXPECT_OK("mkdir", mkdir("d", 0755));
	EXPECT_ERR("link a directory", link("d", "d2"), EPERM);
	EXPECT_ERR("link into a missing dir", link("b", "nope/x"), ENOENT);
	EXPECT_ERR("link bad flags", linkat(AT_FDCWD, "b", AT_FDCWD, "x", 0x1), EINVAL);
	EXPECT_ERR("link to trailing slash", link("b", "x/"), ENOENT);
	EXPECT_OK("symlink", symlink("b", "s"));
	EXPECT_OK("link the symlink itself", linkat(AT_FDCWD, "s", AT_FDCWD, "s2", 0));
	EXPECT_OK("lstat s2", lstat("s2", &a));
	CHECK(S_ISLNK(a.st_mode) && a.st_nlink == 2);
	EXPECT_OK("link following the symlink", linkat(AT_FDCWD, "s", AT_FDCWD, "f2", AT_SYMLINK_FOLLOW));
	EXPECT_OK("lstat f2", lstat("f2", &a));
	CHECK(S_ISREG(a.st_mode) && a.st_nlink == 3);
	fd = open("b", O_RDONLY);
	EXPECT_OK("AT_EMPTY_PATH as root", linkat(fd, "", AT_FDCWD, "e", AT_EMPTY_PATH));
	close(fd);
	EXPECT_OK("stat e", stat("e", &a));
	CHECK(a.st_nlink == 4);
	EXPECT_ERR("link to /dev/shm", link("b", "/dev/shm/carapace-x"), EXDEV);
	unlink("b"); unlink("c"); unlink("s"); unlink("s2"); unlink("f2"); unlink("e"); rmdir("d");
	leave_tmpdir();
	return conformance_done();
}
