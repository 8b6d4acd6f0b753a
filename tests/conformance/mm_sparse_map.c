/*
 * mm_sparse_map: mappings of a sparse tmpfs file (/dev/shm). A fault on a
 * page gives that page (allocated, for a tmpfs hole) and only maps the
 * pages around it that exist, so st_blocks counts the pages touched, not
 * their neighbours; a hole punched after a private mapping read a page
 * (without writing it) reads as zeros there, while its private copies
 * keep their data; shared mappings see the hole.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096L

static char path_[] = "/dev/shm/carapace-sparse-XXXXXX";

static long blocks(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	return (long)st.st_blocks;
}

int main(void)
{
	conformance_init();
	int fd = EXPECT_OK("mkstemp in /dev/shm", mkstemp(path_));
	EXPECT_OK("unlink", unlink(path_));
	EXPECT_OK("ftruncate 1 MiB", ftruncate(fd, 256 * PG));
	EXPECT_VAL("st_blocks of the empty sparse file", blocks(fd), 0);
	EXPECT_VAL("write one page at 512 KiB", pwrite(fd, "data", 4, 128 * PG), 4);
	EXPECT_VAL("st_blocks after the write", blocks(fd), 8);

	/* Reading through a shared mapping. */
	volatile char *m = mmap(NULL, 256 * PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	EXPECT_VAL("st_blocks after mmap", blocks(fd), 8);
	CHECK(m[128 * PG] == 'd');
	EXPECT_VAL("st_blocks after reading the data page", blocks(fd), 8);
	CHECK(m[130 * PG] == 0);
	EXPECT_VAL("st_blocks after reading a hole next to it", blocks(fd), 16);
	CHECK(m[7 * PG + 100] == 0);
	EXPECT_VAL("st_blocks after reading another hole", blocks(fd), 24);
	char buf[8] = {1};
	EXPECT_VAL("read(2) of a hole", pread(fd, buf, 8, 64 * PG), 8);
	CHECK(buf[0] == 0);
	EXPECT_VAL("st_blocks after read(2) of a hole", blocks(fd), 24);
	munmap((void *)m, 256 * PG);

	/* A private read-only mapping. */
	m = mmap(NULL, 256 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK(m[129 * PG] == 0 && m[128 * PG] == 'd');
	munmap((void *)m, 256 * PG);
	close(fd);

	/* Punching holes under private and shared mappings. */
	fd = EXPECT_OK("a second file", mkstemp(strcpy(path_, "/dev/shm/carapace-sparse-XXXXXX")));
	EXPECT_OK("unlink", unlink(path_));
	char page[PG];
	for (int i = 0; i < 4; i++) {
		memset(page, 'a' + i, PG);
		if (pwrite(fd, page, PG, i * PG) != PG)
			printf("FAIL: pwrite %d\n", i);
	}
	EXPECT_VAL("st_blocks of four pages", blocks(fd), 32);
	volatile char *priv = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	volatile char *shared = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(priv != MAP_FAILED && shared != MAP_FAILED);
	CHECK(priv[0] == 'a' && priv[PG] == 'b' && priv[3 * PG] == 'd');
	priv[2 * PG] = 'P';
	CHECK(shared[0] == 'a' && shared[2 * PG] == 'c');
	EXPECT_OK("punch the first three pages",
		  fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 3 * PG));
	EXPECT_VAL("st_blocks after the punch", blocks(fd), 8);
	EXPECT_VAL("private page read before the punch", priv[0], 0);
	EXPECT_VAL("another one", priv[PG + 5], 0);
	EXPECT_VAL("private copy written before the punch", priv[2 * PG], 'P');
	EXPECT_VAL("its unwritten rest", priv[2 * PG + 1], 'c');
	EXPECT_VAL("private page outside the hole", priv[3 * PG], 'd');
	EXPECT_VAL("shared mapping in the hole", shared[0], 0);
	EXPECT_VAL("shared mapping outside it", shared[3 * PG], 'd');
	shared[PG] = 'S';
	EXPECT_VAL("a shared store in the hole shows privately", priv[PG], 'S');
	EXPECT_VAL("and through read(2)", (pread(fd, buf, 1, PG), buf[0]), 'S');

	/* A partial punch zeroes bytes in place, in both kinds of mapping. */
	EXPECT_OK("punch part of the last page",
		  fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * PG + 10, 20));
	EXPECT_VAL("private, in the partial hole", priv[3 * PG + 15], 0);
	EXPECT_VAL("shared, in the partial hole", shared[3 * PG + 15], 0);
	EXPECT_VAL("shared, past it", shared[3 * PG + 30], 'd');
	munmap((void *)priv, 4 * PG);
	munmap((void *)shared, 4 * PG);
	close(fd);
	return conformance_done();
}
