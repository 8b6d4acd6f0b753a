/*
 * stat, lstat, fstat, fstatat and statx agree on a file, a symlink and a
 * device; their flag and pointer errors.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

int main(void)
{
	conformance_init();
	struct stat s1, s2, s3, s4;
	EXPECT_OK("stat /etc/passwd", stat("/etc/passwd", &s1));
	EXPECT_OK("lstat /etc/passwd", lstat("/etc/passwd", &s2));
	int fd = open("/etc/passwd", O_RDONLY);
	EXPECT_OK("fstat", fstat(fd, &s3));
	EXPECT_OK("fstatat AT_EMPTY_PATH", fstatat(fd, "", &s4, AT_EMPTY_PATH));
	CHECK(S_ISREG(s1.st_mode));
	CHECK(s1.st_ino == s2.st_ino && s2.st_ino == s3.st_ino && s3.st_ino == s4.st_ino);
	CHECK(s1.st_dev == s3.st_dev && s1.st_size == s3.st_size && s1.st_mode == s4.st_mode);
	CHECK(s1.st_size > 0 && s1.st_nlink >= 1);

	struct statx sx;
	EXPECT_OK("statx", statx(AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, &sx));
	CHECK((sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	CHECK(sx.stx_ino == s1.st_ino && sx.stx_size == (unsigned long)s1.st_size);
	CHECK(sx.stx_mode == s1.st_mode && makedev(sx.stx_dev_major, sx.stx_dev_minor) == s1.st_dev);
	EXPECT_OK("statx on an fd", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	CHECK(sx.stx_ino == s1.st_ino);
	EXPECT_ERR("statx reserved mask", statx(AT_FDCWD, "/etc/passwd", 0, 0x80000000u, &sx), EINVAL);
	EXPECT_ERR("statx both sync flags", statx(AT_FDCWD, "/etc/passwd", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx), EINVAL);
	EXPECT_ERR("statx bad flags", statx(AT_FDCWD, "/etc/passwd", 0x1, STATX_BASIC_STATS, &sx), EINVAL);
	EXPECT_ERR("statx bad buffer", statx(AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, BAD_PTR), EFAULT);

	/* A symlink: /bin/sh -> dash. */
	EXPECT_OK("lstat /bin/sh", lstat("/bin/sh", &s2));
	CHECK(S_ISLNK(s2.st_mode));
	EXPECT_OK("stat /bin/sh", stat("/bin/sh", &s1));
	CHECK(S_ISREG(s1.st_mode) && s1.st_ino != s2.st_ino);
	EXPECT_OK("statx nofollow", statx(AT_FDCWD, "/bin/sh", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
	CHECK(S_ISLNK(sx.stx_mode) && sx.stx_ino == s2.st_ino);
	int link = open("/bin/sh", O_PATH | O_NOFOLLOW);
	EXPECT_OK("fstat O_PATH symlink", fstat(link, &s3));
	CHECK(S_ISLNK(s3.st_mode) && s3.st_ino == s2.st_ino);
	EXPECT_OK("fstatat empty on O_PATH symlink", fstatat(link, "", &s4, AT_EMPTY_PATH));
	CHECK(s4.st_ino == s2.st_ino);
	EXPECT_OK("lstat /bin/sh/ follows", lstat("/bin/", &s4));
	CHECK(S_ISDIR(s4.st_mode));

	/* A device. */
	EXPECT_OK("stat /dev/null", stat("/dev/null", &s1));
	CHECK(S_ISCHR(s1.st_mode) && major(s1.st_rdev) == 1 && minor(s1.st_rdev) == 3);
	EXPECT_OK("stat /dev/zero", stat("/dev/zero", &s1));
	CHECK(S_ISCHR(s1.st_mode) && major(s1.st_rdev) == 1 && minor(s1.st_rdev) == 5);
	EXPECT_OK("stat /dev", stat("/dev", &s1));
	CHECK(S_ISDIR(s1.st_mode));

	EXPECT_ERR("stat missing", stat("/nonexistent-carapace", &s1), ENOENT);
	EXPECT_ERR("stat empty path", stat("", &s1), ENOENT);
	EXPECT_ERR("stat bad buffer", stat("/etc/passwd", BAD_PTR), EFAULT);
	EXPECT_ERR("stat bad path", stat(BAD_PTR, &s1), EFAULT);
	EXPECT_ERR("fstat bad fd", fstat(777, &s1), EBADF);
	EXPECT_ERR("fstatat bad flags", fstatat(AT_FDCWD, "/etc/passwd", &s1, 0x2), EINVAL);
	EXPECT_ERR("fstatat relative, bad dirfd", fstatat(555, "passwd", &s1, 0), EBADF);
	EXPECT_ERR("fstatat relative to a file", fstatat(fd, "x", &s1, 0), ENOTDIR);
	EXPECT_ERR("stat through a file", stat("/etc/passwd/x", &s1), ENOTDIR);
	return conformance_done();
}
