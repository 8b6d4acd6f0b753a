/*
 * mremap(2): shrink, grow in place, grow by moving (MREMAP_MAYMOVE),
 * MREMAP_FIXED, MREMAP_DONTUNMAP, contents preserved throughout, and the
 * error cases.
 */
#include "conformance.h"

#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L

static int pattern_ok(const unsigned char *p, long len)
{
	for (long i = 0; i < len; i++)
		if (p[i] != (unsigned char)(i * 7 + 3))
			return 0;
	return 1;
}

static void fill(unsigned char *p, long len)
{
	for (long i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + 3);
}

int main(void)
{
	conformance_init();
	/* Reserve a region so growth in place has room, then map its start. */
	unsigned char *r = mmap(NULL, 64 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED);
	munmap(r, 64 * PG);
	unsigned char *p = mmap(r, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(p == r);
	fill(p, 4 * PG);

	/* Grow in place. */
	unsigned char *g = mremap(p, 4 * PG, 8 * PG, 0);
	CHECK(g == p);
	CHECK(pattern_ok(g, 4 * PG));
	CHECK(g[8 * PG - 1] == 0);

	/* Shrink: the tail goes away. */
	CHECK(mremap(g, 8 * PG, 4 * PG, 0) == g);
	EXPECT_ERR("kernel read of shrunk tail", syscall(SYS_nanosleep, g + 4 * PG, NULL), EFAULT);
	CHECK(pattern_ok(g, 4 * PG));

	/* Blocked growth: ENOMEM without MAYMOVE, a move with it. */
	void *block = mmap(g + 4 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(block == g + 4 * PG);
	EXPECT_ERR("grow blocked without MAYMOVE", (long)mremap(g, 4 * PG, 8 * PG, 0), ENOMEM);
	unsigned char *m = mremap(g, 4 * PG, 16 * PG, MREMAP_MAYMOVE);
	CHECK(m != MAP_FAILED && m != g);
	CHECK(pattern_ok(m, 4 * PG));
	CHECK(m[16 * PG - 1] == 0);
	EXPECT_ERR("kernel read of old location", syscall(SYS_nanosleep, g, NULL), EFAULT);
	munmap(block, PG);

	/* MREMAP_FIXED to a chosen address. */
	unsigned char *target = r + 32 * PG;
	unsigned char *fx = mremap(m, 16 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	CHECK(fx == target);
	CHECK(pattern_ok(fx, 4 * PG));
	EXPECT_ERR("kernel read of moved-out range", syscall(SYS_nanosleep, m, NULL), EFAULT);

	/* MREMAP_DONTUNMAP: the old range stays mapped, now empty. */
	unsigned char *d = (unsigned char *)syscall(SYS_mremap, fx, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	if (d == MAP_FAILED) printf("dontunmap: %s\n", errno_name(errno));
	CHECK(d != MAP_FAILED && d != fx);
	CHECK(pattern_ok(d, 4 * PG));
	CHECK(fx[0] == 0 && fx[4 * PG - 1] == 0);
	munmap(fx, 4 * PG);

	/* Errors. */
	EXPECT_ERR("unaligned old address", (long)mremap(d + 1, PG, PG, 0), EINVAL);
	EXPECT_ERR("zero new size", (long)mremap(d, PG, 0, 0), EINVAL);
	EXPECT_ERR("unknown flag", (long)mremap(d, PG, PG, 8), EINVAL);
	EXPECT_ERR("FIXED without MAYMOVE", (long)mremap(d, PG, PG, MREMAP_FIXED, r), EINVAL);
	EXPECT_ERR("DONTUNMAP resizing", (long)mremap(d, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP), EINVAL);
	EXPECT_ERR("overlapping FIXED target", (long)mremap(d, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, d + PG), EINVAL);
	EXPECT_ERR("unaligned FIXED target", (long)mremap(d, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, r + 1), EINVAL);
	EXPECT_ERR("huge new size", (long)mremap(d, PG, (size_t)1 << 62, MREMAP_MAYMOVE), EINVAL);
	EXPECT_ERR("old range past the mapping", (long)mremap(d, 8 * PG, 16 * PG, MREMAP_MAYMOVE), EFAULT);
	EXPECT_ERR("old size zero on private mapping", (long)mremap(d, 0, PG, MREMAP_MAYMOVE), EINVAL);
	munmap(d, 4 * PG);
	EXPECT_ERR("unmapped old address", (long)mremap(d, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT);

	/* Same size without flags is a no-op. */
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 9;
	CHECK(mremap(p, PG, PG, 0) == p && p[0] == 9);
	munmap(p, PG);
	return conformance_done();
}
