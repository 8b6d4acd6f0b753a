/*
 * MAP_PRIVATE file mappings against later writes of the file: a page the
 * mapping has not touched shows the file's new contents (write(2) or a
 * shared mapping's stores); a page it has written is its own and keeps
 * its contents whatever the file does; its stores never reach the file.
 */
#include "mm_shared.h"

int main(void)
{
	conformance_init();
	int fd = temp_file(NULL, 0);
	CHECK(fd >= 0);
	static char data[4 * PG];
	memset(data, 'o', sizeof(data));
	EXPECT_VAL("pwrite", pwrite(fd, data, sizeof(data), 0), sizeof(data));
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && s != MAP_FAILED);

	/* Before any touch, the private mapping shows what the file holds now. */
	EXPECT_VAL("pwrite before touch", pwrite(fd, "new", 3, 10), 3);
	CHECK(memcmp(p + 10, "new", 3) == 0);
	memcpy(s + 3 * PG, "via shared", 10);
	CHECK(memcmp(p + 3 * PG, "via shared", 10) == 0);

	/* After the private mapping writes a page, the page is its own. */
	p[PG] = 'P';
	EXPECT_VAL("pwrite after private write", pwrite(fd, "file", 4, PG + 1), 4);
	CHECK(p[PG] == 'P');
	CHECK(p[PG + 1] == 'o' && p[PG + 2] == 'o');
	memcpy(s + PG + 100, "shared", 6);
	CHECK(p[PG + 100] == 'o');
	/* And the file never sees the private store. */
	char c;
	EXPECT_VAL("pread", pread(fd, &c, 1, PG), 1);
	CHECK(c == 'o');
	CHECK(s[PG] == 'o' && memcmp(s + PG + 1, "file", 4) == 0);

	/* A write(2) from the private mapping writes its own bytes. */
	EXPECT_VAL("pwrite from private page", pwrite(fd, p + PG, 1, 2 * PG), 1);
	CHECK(s[2 * PG] == 'P');

	/* A private mapping made later starts from the file as it is. */
	char *q = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(q != MAP_FAILED);
	CHECK(q[PG] == 'o' && memcmp(q + PG + 1, "file", 4) == 0);
	munmap(p, 4 * PG);
	munmap(s, 4 * PG);
	munmap(q, 2 * PG);
	close(fd);
	return conformance_done();
}
