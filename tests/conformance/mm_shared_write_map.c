/*
 * write(2) to a file shows through its MAP_SHARED mappings at once, also
 * for a mapping made before the write and for pages that were holes; a
 * file extended by write(2) or ftruncate(2) becomes mappable beyond its
 * old end.
 */
#include "mm_shared.h"

#include <sys/stat.h>
#include <sys/uio.h>

int main(void)
{
	conformance_init();
	int other = -1;
	int fd = temp_file(&other, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && other >= 0);
	EXPECT_VAL("write first page", pwrite(fd, "abcdef", 6, 0), 6);
	EXPECT_OK("ftruncate 2 pages", ftruncate(fd, 2 * PG));
	char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK(memcmp(m, "abcdef", 6) == 0);

	/* Writes after the mapping was touched show through it. */
	EXPECT_VAL("pwrite touched page", pwrite(fd, "XY", 2, 1), 2);
	CHECK(memcmp(m, "aXYdef", 6) == 0);
	/* And into a page the mapping has not touched (a hole). */
	EXPECT_VAL("pwrite hole page", pwrite(fd, "hole", 4, PG + 7), 4);
	CHECK(memcmp(m + PG + 7, "hole", 4) == 0);
	CHECK(m[PG + 6] == 0);
	/* writev and write at the file position too. */
	struct iovec iov[2] = {{"12", 2}, {"34", 2}};
	EXPECT_VAL("lseek", lseek(fd, 100, SEEK_SET), 100);
	EXPECT_VAL("writev", writev(fd, iov, 2), 4);
	CHECK(memcmp(m + 100, "1234", 4) == 0);
	EXPECT_VAL("write", write(fd, "5", 1), 1);
	CHECK(m[104] == '5');

	/* A write that extends the file makes the next page mappable. */
	EXPECT_VAL("pwrite extends", pwrite(fd, "tail", 4, 2 * PG + 1), 4);
	CHECK(memcmp(m + 2 * PG + 1, "tail", 4) == 0);
	CHECK(m[2 * PG] == 0);
	/* So does ftruncate growing it; the new part reads as zeros. */
	EXPECT_OK("ftruncate 4 pages", ftruncate(fd, 4 * PG));
	CHECK(m[3 * PG] == 0 && m[4 * PG - 1] == 0);
	m[3 * PG + 5] = 'q';
	char c = 0;
	EXPECT_VAL("pread grown page", pread(fd, &c, 1, 3 * PG + 5), 1);
	CHECK(c == 'q');

	/* A punched hole reads as zeros through the mapping, over what it
	 * stored too; a punch within a page zeroes just those bytes. */
	m[PG + 20] = 'z';
	EXPECT_OK("punch page 1",
		  fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG));
	CHECK(m[PG + 7] == 0 && m[PG + 20] == 0);
	m[PG + 20] = 'y';
	EXPECT_VAL("pread refilled page", pread(fd, &c, 1, PG + 20), 1);
	CHECK(c == 'y');
	EXPECT_OK("punch two bytes", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 2));
	CHECK(memcmp(m, "aX\0\0ef", 6) == 0);

	/* MADV_REMOVE through a shared mapping punches the file. */
	memcpy(m + PG, "gone", 4);
	EXPECT_OK("MADV_REMOVE", madvise(m + PG, PG, MADV_REMOVE));
	CHECK(m[PG] == 0 && m[PG + 3] == 0);
	EXPECT_VAL("pread removed page", pread(fd, &c, 1, PG), 1);
	CHECK(c == 0);
	EXPECT_VAL("size kept", lseek(fd, 0, SEEK_END), 4 * PG);

	/* An O_APPEND write lands at the end and shows through. */
	int afd = other;
	EXPECT_OK("ftruncate 3 pages + 10", ftruncate(fd, 3 * PG + 10));
	EXPECT_VAL("append", write(afd, "app", 3), 3);
	CHECK(memcmp(m + 3 * PG + 10, "app", 3) == 0);
	close(afd);
	munmap(m, 4 * PG);
	close(fd);
	return conformance_done();
}
