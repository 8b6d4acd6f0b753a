/*
 * File-backed mappings: a private mapping of /etc/passwd matches read(2),
 * is zero-padded to the page end, keeps writes private, and honours the
 * file offset; MAP_SHARED read-only works; the fd's access mode and type
 * are checked; /dev/zero maps zeroed memory.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096L

static char filebuf[1 << 16];

int main(void)
{
	conformance_init();
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	long n = read(fd, filebuf, sizeof(filebuf));
	CHECK(n > 0);
	printf("file size > 0: %d\n", n > 0);
	long mlen = (n + PG - 1) / PG * PG;

	/* Private mapping equals the file, zero-padded to the page end. */
	char *m = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK(memcmp(m, filebuf, (size_t)n) == 0);
	int pad_zero = 1;
	for (long i = n; i < mlen; i++)
		pad_zero &= m[i] == 0;
	CHECK(pad_zero);

	/* Writes stay private: the file does not change. */
	char first = m[0];
	m[0] = first ^ 0x55;
	char again;
	EXPECT_VAL("pread first byte", pread(fd, &again, 1, 0), 1);
	CHECK(again == first);
	CHECK(m[0] == (char)(first ^ 0x55));
	EXPECT_OK("munmap private", munmap(m, (size_t)n));

	/* A second mapping sees the file, not the first one's write. */
	m = mmap(NULL, (size_t)n, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && m[0] == first);
	munmap(m, (size_t)n);

	/* Shared read-only mapping of a read-only fd. */
	m = mmap(NULL, (size_t)n, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK(memcmp(m, filebuf, (size_t)n) == 0);
	EXPECT_ERR("mprotect shared read-only mapping writable", mprotect(m, PG, PROT_READ | PROT_WRITE), EACCES);
	munmap(m, (size_t)n);
	EXPECT_ERR("MAP_SHARED PROT_WRITE on O_RDONLY fd",
		   (long)mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
	EXPECT_ERR("MAP_SHARED_VALIDATE with MAP_SYNC on a non-DAX file",
		   (long)mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0), EOPNOTSUPP);

	/* A mapping at a file offset (two pages of the file, if it has them). */
	char *two = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(two != MAP_FAILED);
	if (n > PG) {
		char *off = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, PG);
		CHECK(off != MAP_FAILED && memcmp(off, filebuf + PG, (size_t)(n - PG < PG ? n - PG : PG)) == 0);
		munmap(off, PG);
	}
	printf("offset mapping checked\n");
	munmap(two, 2 * PG);
	EXPECT_ERR("unaligned file offset", (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
	EXPECT_ERR("MAP_GROWSDOWN file mapping",
		   (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0), EINVAL);
	EXPECT_ERR("no map type", (long)mmap(NULL, PG, PROT_READ, 0, fd, 0), EINVAL);
	close(fd);

	/* The fd must be open and mappable. */
	EXPECT_ERR("closed fd", (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0), EBADF);
	EXPECT_ERR("fd -1 without MAP_ANONYMOUS", (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	int pfd = open("/etc/passwd", O_PATH);
	CHECK(pfd >= 0);
	EXPECT_ERR("O_PATH fd", (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pfd, 0), EBADF);
	close(pfd);
	int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	EXPECT_ERR("directory", (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dfd, 0), ENODEV);
	close(dfd);

	/* /dev/zero maps fresh zeroed memory, private or shared. */
	int z = open("/dev/zero", O_RDWR);
	CHECK(z >= 0);
	unsigned char *zp = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	CHECK(zp != MAP_FAILED && zp[0] == 0 && zp[2 * PG - 1] == 0);
	zp[10] = 3;
	CHECK(zp[10] == 3);
	munmap(zp, 2 * PG);
	zp = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	CHECK(zp != MAP_FAILED && zp[100] == 0);
	munmap(zp, PG);
	close(z);

	return conformance_done();
}
