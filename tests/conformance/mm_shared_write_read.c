/*
 * MAP_SHARED file mappings write the file: stores through a mapping are
 * what read(2) returns at once, what a second mapping of the file shows,
 * and what stays in the file after munmap.
 */
#include "mm_shared.h"

#include <sys/stat.h>

int main(void)
{
	conformance_init();
	int other = -1;
	int fd = temp_file(&other, O_RDONLY);
	CHECK(fd >= 0 && other >= 0);
	EXPECT_OK("ftruncate 3 pages", ftruncate(fd, 3 * PG));
	char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK(m[0] == 0 && m[3 * PG - 1] == 0);

	/* Stores are seen by read(2) at once, in every page. */
	memcpy(m + 10, "hello", 5);
	memcpy(m + 2 * PG + 100, "world", 5);
	char buf[8] = {0};
	EXPECT_VAL("pread page 0", pread(fd, buf, 5, 10), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	EXPECT_VAL("pread page 2", pread(fd, buf, 5, 2 * PG + 100), 5);
	CHECK(memcmp(buf, "world", 5) == 0);
	EXPECT_VAL("lseek", lseek(fd, 10, SEEK_SET), 10);
	EXPECT_VAL("read", read(fd, buf, 5), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);

	/* The size does not change, and holes the mapping wrote are data. */
	struct stat st;
	EXPECT_OK("fstat", fstat(fd, &st));
	EXPECT_VAL("size", st.st_size, 3 * PG);

	/* A second mapping (at an offset) is the same memory. */
	char *m2 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * PG);
	CHECK(m2 != MAP_FAILED);
	CHECK(memcmp(m2 + 100, "world", 5) == 0);
	m2[100] = 'W';
	CHECK(m[2 * PG + 100] == 'W');
	m[2 * PG + 101] = 'O';
	CHECK(m2[101] == 'O');

	/* A read-only shared mapping of a second descriptor sees stores too. */
	int rfd = other;
	char *r = mmap(NULL, 3 * PG, PROT_READ, MAP_SHARED, rfd, 0);
	CHECK(r != MAP_FAILED);
	CHECK(memcmp(r + 10, "hello", 5) == 0);
	m[11] = 'E';
	CHECK(r[11] == 'E');
	EXPECT_ERR("mprotect read-only fd mapping writable", mprotect(r, PG, PROT_READ | PROT_WRITE),
		   EACCES);

	/* The data outlives the mappings. */
	EXPECT_OK("munmap", munmap(m, 3 * PG));
	EXPECT_OK("munmap second", munmap(m2, PG));
	EXPECT_OK("munmap read-only", munmap(r, 3 * PG));
	EXPECT_VAL("pread after munmap", pread(fd, buf, 5, 10), 5);
	CHECK(memcmp(buf, "hEllo", 5) == 0);
	EXPECT_VAL("pread page 2 after munmap", pread(fd, buf, 5, 2 * PG + 100), 5);
	CHECK(memcmp(buf, "WOrld", 5) == 0);

	/* Writes through a mapping survive close of the descriptor. */
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	int fd2 = dup(fd);
	close(fd);
	m[0] = 'Z';
	EXPECT_OK("munmap after close", munmap(m, PG));
	EXPECT_VAL("pread via dup", pread(fd2, buf, 1, 0), 1);
	CHECK(buf[0] == 'Z');
	close(fd2);
	close(rfd);
	return conformance_done();
}
