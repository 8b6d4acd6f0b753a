/*
 * lseek(2): SEEK_SET/CUR/END, SEEK_DATA/SEEK_HOLE, and its errors.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	conformance_init();
	int fd = open("/etc/passwd", O_RDONLY);
	struct stat st;
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	long size = st.st_size;
	EXPECT_VAL("SEEK_SET 3", lseek(fd, 3, SEEK_SET), 3);
	EXPECT_VAL("SEEK_CUR +2", lseek(fd, 2, SEEK_CUR), 5);
	char c;
	CHECK(read(fd, &c, 1) == 1);
	EXPECT_VAL("offset after read", lseek(fd, 0, SEEK_CUR), 6);
	CHECK(lseek(fd, 0, SEEK_END) == size);
	CHECK(lseek(fd, -1, SEEK_END) == size - 1);
	CHECK(lseek(fd, 100, SEEK_END) == size + 100);
	EXPECT_VAL("read past the end", read(fd, &c, 1), 0);
	EXPECT_ERR("negative SEEK_SET", lseek(fd, -1, SEEK_SET), EINVAL);
	EXPECT_ERR("negative SEEK_CUR result", lseek(fd, -(size + 1000), SEEK_CUR), EINVAL);
	EXPECT_ERR("bad whence", lseek(fd, 0, 5), EINVAL);
	EXPECT_ERR("bad whence 99", lseek(fd, 0, 99), EINVAL);
	EXPECT_VAL("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA), 0);
	CHECK(lseek(fd, 0, SEEK_HOLE) == size);
	EXPECT_ERR("SEEK_DATA at end", lseek(fd, size, SEEK_DATA), ENXIO);
	EXPECT_ERR("SEEK_HOLE past end", lseek(fd, size + 1, SEEK_HOLE), ENXIO);
	EXPECT_ERR("lseek bad fd", lseek(4321, 0, SEEK_SET), EBADF);
	int p = open("/etc/passwd", O_PATH);
	EXPECT_ERR("lseek O_PATH", lseek(p, 0, SEEK_SET), EBADF);
	int dn = open("/dev/null", O_RDWR);
	EXPECT_VAL("lseek /dev/null", lseek(dn, 100, SEEK_SET), 0);
	int dir = open("/etc", O_RDONLY | O_DIRECTORY);
	EXPECT_VAL("lseek dir to 0", lseek(dir, 0, SEEK_SET), 0);
	lseek(fd, 9, SEEK_SET);
	CHECK(pread(fd, &c, 1, 0) == 1);
	EXPECT_VAL("pread leaves the offset", lseek(fd, 0, SEEK_CUR), 9);
	int dup_fd = dup(fd);
	lseek(fd, 7, SEEK_SET);
	EXPECT_VAL("dup shares the offset", lseek(dup_fd, 0, SEEK_CUR), 7);
	int other = open("/etc/passwd", O_RDONLY);
	EXPECT_VAL("a new open has its own", lseek(other, 0, SEEK_CUR), 0);
	return conformance_done();
}
