/*
 * readlink(2)/readlinkat(2): targets, truncation, and errors.
 */
#include "conformance.h"

#include <fcntl.h>

int main(void)
{
	conformance_init();
	char buf[256];
	long n = EXPECT_VAL("readlink /bin/sh", readlink("/bin/sh", buf, sizeof buf), 4);
	CHECK(n == 4 && memcmp(buf, "dash", 4) == 0);
	n = EXPECT_VAL("readlink /bin", readlink("/bin", buf, sizeof buf), 7);
	CHECK(memcmp(buf, "usr/bin", 7) == 0);
	memset(buf, 'X', sizeof buf);
	EXPECT_VAL("truncated to bufsiz", readlink("/bin/sh", buf, 2), 2);
	CHECK(buf[0] == 'd' && buf[1] == 'a' && buf[2] == 'X');
	EXPECT_ERR("readlink a regular file", readlink("/etc/passwd", buf, sizeof buf), EINVAL);
	EXPECT_ERR("readlink a directory", readlink("/etc", buf, sizeof buf), EINVAL);
	EXPECT_ERR("bufsiz 0", syscall(SYS_readlink, "/bin/sh", buf, 0), EINVAL);
	EXPECT_ERR("bufsiz -1", syscall(SYS_readlink, "/bin/sh", buf, -1), EINVAL);
	EXPECT_ERR("readlink missing", readlink("/nonexistent-carapace", buf, sizeof buf), ENOENT);
	EXPECT_ERR("readlink bad buffer", syscall(SYS_readlink, "/bin/sh", BAD_PTR, sizeof buf), EFAULT);
	EXPECT_ERR("readlink bad path", readlink(BAD_PTR, buf, sizeof buf), EFAULT);
	EXPECT_ERR("readlink empty path", readlink("", buf, sizeof buf), ENOENT);
	int usr = open("/usr", O_RDONLY | O_DIRECTORY);
	EXPECT_VAL("readlinkat relative", readlinkat(usr, "../bin/sh", buf, sizeof buf), 4);
	int link = open("/bin/sh", O_PATH | O_NOFOLLOW);
	EXPECT_VAL("readlinkat O_PATH fd, empty path", readlinkat(link, "", buf, sizeof buf), 4);
	int file = open("/etc/passwd", O_RDONLY);
	EXPECT_ERR("readlinkat file fd, empty path", readlinkat(file, "", buf, sizeof buf), ENOENT);
	EXPECT_ERR("readlinkat bad fd", readlinkat(4444, "x", buf, sizeof buf), EBADF);
	EXPECT_ERR("readlink /bin/sh/ (follows)", readlink("/bin/sh/", buf, sizeof buf), ENOTDIR);
	EXPECT_ERR("readlink /bin/ (follows, a dir)", readlink("/bin/", buf, sizeof buf), EINVAL);
	return conformance_done();
}
