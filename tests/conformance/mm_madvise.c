/*
 * madvise(2): MADV_DONTNEED zeroes private anonymous memory, restores a
 * private file mapping's file contents, and leaves shared memory alone;
 * hints are accepted; bad advice, alignment and holes give Linux's errnos.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/mman.h>

#define PG 4096L

int main(void)
{
	conformance_init();

	unsigned char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 0x11, 4 * PG);
	EXPECT_OK("MADV_DONTNEED middle pages", madvise(p + PG, 2 * PG, MADV_DONTNEED));
	CHECK(p[0] == 0x11 && p[PG] == 0 && p[3 * PG - 1] == 0 && p[3 * PG] == 0x11);
	p[PG] = 0x22;
	CHECK(p[PG] == 0x22);

	/* Shared anonymous memory keeps its contents. */
	unsigned char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	s[0] = 0x33;
	EXPECT_OK("MADV_DONTNEED shared", madvise(s, PG, MADV_DONTNEED));
	CHECK(s[0] == 0x33);
	munmap(s, PG);

	/* A private file mapping goes back to the file's contents. */
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	char orig;
	EXPECT_VAL("pread", pread(fd, &orig, 1, 0), 1);
	char *f = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	f[0] = (char)(orig ^ 0x7f);
	CHECK(f[0] != orig);
	EXPECT_OK("MADV_DONTNEED file", madvise(f, PG, MADV_DONTNEED));
	CHECK(f[0] == orig);
	EXPECT_ERR("MADV_REMOVE on a private file mapping", madvise(f, PG, MADV_REMOVE), EACCES);
	munmap(f, PG);
	close(fd);

	/* Hints. */
	EXPECT_OK("MADV_NORMAL", madvise(p, 4 * PG, MADV_NORMAL));
	EXPECT_OK("MADV_RANDOM", madvise(p, 4 * PG, MADV_RANDOM));
	EXPECT_OK("MADV_SEQUENTIAL", madvise(p, 4 * PG, MADV_SEQUENTIAL));
	EXPECT_OK("MADV_WILLNEED", madvise(p, 4 * PG, MADV_WILLNEED));
	EXPECT_OK("MADV_DONTFORK", madvise(p, PG, MADV_DONTFORK));
	EXPECT_OK("MADV_DOFORK", madvise(p, PG, MADV_DOFORK));
	EXPECT_OK("MADV_WIPEONFORK", madvise(p, PG, MADV_WIPEONFORK));
	EXPECT_OK("MADV_KEEPONFORK", madvise(p, PG, MADV_KEEPONFORK));
	EXPECT_OK("MADV_DONTDUMP", madvise(p, PG, MADV_DONTDUMP));
	EXPECT_OK("MADV_DODUMP", madvise(p, PG, MADV_DODUMP));
	EXPECT_OK("MADV_COLD", madvise(p, PG, MADV_COLD));
	EXPECT_OK("MADV_POPULATE_WRITE", madvise(p, 4 * PG, MADV_POPULATE_WRITE));
	EXPECT_OK("zero length", madvise(p, 0, MADV_DONTNEED));
	CHECK(p[0] == 0x11 && p[PG] == 0x22);

	/* MADV_FREE: the data stays or reads as zero; both are Linux. */
	EXPECT_OK("MADV_FREE", madvise(p + 3 * PG, PG, MADV_FREE));
	CHECK(p[3 * PG] == 0x11 || p[3 * PG] == 0);

	/* Errors. */
	EXPECT_ERR("unknown advice", madvise(p, PG, 999), EINVAL);
	EXPECT_ERR("unaligned", madvise(p + 1, PG, MADV_NORMAL), EINVAL);
	EXPECT_ERR("length wraps", madvise(p, (size_t)-1, MADV_NORMAL), EINVAL);
	EXPECT_ERR("MADV_REMOVE private anonymous", madvise(p, PG, MADV_REMOVE), EINVAL);
	munmap(p + PG, PG);
	EXPECT_ERR("range with a hole", madvise(p, 4 * PG, MADV_DONTNEED), ENOMEM);
	/* The mapped parts were still advised. */
	CHECK(p[0] == 0 && p[2 * PG] == 0);
	munmap(p, 4 * PG);
	EXPECT_ERR("unmapped range", madvise(p, PG, MADV_NORMAL), ENOMEM);
	return conformance_done();
}
