/*
 * pread, readv, preadv, preadv2 and sendfile agree with read.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

int main(void)
{
	conformance_init();
	char all[256], a[100], b[50], c[106];
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(read(fd, all, sizeof all) == sizeof all);
	lseek(fd, 0, SEEK_SET);
	struct iovec iov[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
	EXPECT_VAL("readv 3 iovecs", readv(fd, iov, 3), 256);
	CHECK(memcmp(a, all, 100) == 0 && memcmp(b, all + 100, 50) == 0 && memcmp(c, all + 150, 106) == 0);
	EXPECT_VAL("offset after readv", lseek(fd, 0, SEEK_CUR), 256);
	EXPECT_VAL("preadv at 10", preadv(fd, iov, 2, 10), 150);
	CHECK(memcmp(a, all + 10, 100) == 0 && memcmp(b, all + 110, 50) == 0);
	EXPECT_VAL("offset after preadv", lseek(fd, 0, SEEK_CUR), 256);
	lseek(fd, 5, SEEK_SET);
	EXPECT_VAL("preadv2 at -1 uses the offset", preadv2(fd, iov, 1, -1, 0), 100);
	CHECK(memcmp(a, all + 5, 100) == 0);
	EXPECT_VAL("offset after preadv2 -1", lseek(fd, 0, SEEK_CUR), 105);
	EXPECT_VAL("preadv2 at 0", preadv2(fd, iov, 1, 0, RWF_HIPRI), 100);
	EXPECT_ERR("preadv2 unknown flag", preadv2(fd, iov, 1, 0, 0x10000), EOPNOTSUPP);
	EXPECT_VAL("readv 0 iovecs", readv(fd, iov, 0), 0);
	EXPECT_ERR("readv bad fd", readv(999, iov, 1), EBADF);
	EXPECT_VAL("pread", pread(fd, a, 20, 30), 20);
	CHECK(memcmp(a, all + 30, 20) == 0);
	EXPECT_VAL("pread past the end", pread(fd, a, 20, 1 << 30), 0);
	int dir = open("/etc", O_RDONLY | O_DIRECTORY);
	EXPECT_ERR("pread a directory", pread(dir, a, 20, 0), EISDIR);
	int wo = open("/dev/null", O_WRONLY);
	EXPECT_ERR("pread O_WRONLY", pread(wo, a, 20, 0), EBADF);
	EXPECT_ERR("readv O_WRONLY", readv(wo, iov, 1), EBADF);
	struct iovec wv[2] = {{"ab", 2}, {"cde", 3}};
	EXPECT_VAL("writev /dev/null", writev(wo, wv, 2), 5);
	EXPECT_VAL("pwritev /dev/null", pwritev(wo, wv, 2, 7), 5);

	off_t off = 10;
	EXPECT_VAL("sendfile to /dev/null", sendfile(wo, fd, &off, 100), 100);
	EXPECT_VAL("sendfile moved the offset argument", off, 110);
	lseek(fd, 0, SEEK_SET);
	EXPECT_VAL("sendfile from the file offset", sendfile(wo, fd, NULL, 30), 30);
	EXPECT_VAL("file offset after sendfile", lseek(fd, 0, SEEK_CUR), 30);
	EXPECT_ERR("sendfile to O_RDONLY", sendfile(fd, fd, NULL, 10), EBADF);
	return conformance_done();
}
