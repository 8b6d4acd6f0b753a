/*
 * mmap/munmap/mprotect basics: anonymous private and shared mappings,
 * MAP_FIXED replacement, MAP_FIXED_NOREPLACE, MAP_POPULATE, mincore,
 * partial munmap, mprotect splits, and a MAP_GROWSDOWN stack growing.
 * Access rights are probed with syscalls that return EFAULT, never with
 * a faulting access.
 */
#include "conformance.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L

static int all_equal(const unsigned char *p, long len, unsigned char v)
{
	for (long i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/*
 * Whether the kernel can read the 16 bytes at p: nanosleep(2) copies a
 * timespec in. The memory probed here never holds a valid timespec other
 * than zeros, so a readable probe returns at once (EINVAL or 0).
 */
static int kernel_can_read(const void *p)
{
	errno = 0;
	long r = syscall(SYS_nanosleep, p, NULL);
	return !(r == -1 && errno == EFAULT);
}

int main(void)
{
	conformance_init();
	/* Anonymous private memory starts zeroed and is page-aligned. */
	unsigned char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(((uintptr_t)p & (PG - 1)) == 0);
	CHECK(all_equal(p, 3 * PG, 0));
	memset(p, 0xab, 3 * PG);
	CHECK(all_equal(p, 3 * PG, 0xab));

	/* A length that is not a page multiple still maps whole pages. */
	unsigned char *q = mmap(NULL, 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(q != MAP_FAILED);
	q[PG - 1] = 1;
	CHECK(q[PG - 1] == 1);
	EXPECT_OK("munmap short length", munmap(q, 10));

	/* mincore: every touched page is resident. */
	unsigned char vec[3] = {9, 9, 9};
	EXPECT_OK("mincore", mincore(p, 3 * PG, vec));
	CHECK((vec[0] & 1) && (vec[1] & 1) && (vec[2] & 1));

	/* mprotect a middle page read-only: the kernel can still read it. */
	EXPECT_OK("mprotect middle read-only", mprotect(p + PG, PG, PROT_READ));
	CHECK(kernel_can_read(p + PG));
	CHECK(p[PG] == 0xab);
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	EXPECT_ERR("read into read-only page", read(fd, p + PG, 16), EFAULT);
	EXPECT_OK("mprotect back to read-write", mprotect(p + PG, PG, PROT_READ | PROT_WRITE));
	EXPECT_VAL("read into writable page", read(fd, p + PG, 4), 4);
	close(fd);

	/* PROT_NONE: the kernel cannot read it either. */
	EXPECT_OK("mprotect none", mprotect(p, PG, PROT_NONE));
	CHECK(!kernel_can_read(p));
	EXPECT_ERR("kernel read of PROT_NONE", syscall(SYS_nanosleep, p, NULL), EFAULT);
	EXPECT_OK("mprotect read", mprotect(p, PG, PROT_READ));
	CHECK(p[0] == 0xab);

	/* Partial munmap punches a hole; the rest stays. */
	EXPECT_OK("munmap middle", munmap(p + PG, PG));
	EXPECT_ERR("mincore over hole", mincore(p, 3 * PG, vec), ENOMEM);
	EXPECT_ERR("kernel read of hole", syscall(SYS_nanosleep, p + PG, NULL), EFAULT);
	CHECK(p[2 * PG] == 0xab);
	EXPECT_OK("munmap already unmapped range", munmap(p, 3 * PG));
	EXPECT_ERR("kernel read of unmapped", syscall(SYS_nanosleep, p, NULL), EFAULT);

	/* MAP_FIXED replaces with fresh memory; NOREPLACE refuses. */
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 7, 2 * PG);
	unsigned char *f = mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(f == p + PG);
	CHECK(p[0] == 7 && f[0] == 0);
	EXPECT_ERR("MAP_FIXED_NOREPLACE over a mapping",
		   (long)mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	munmap(p, 2 * PG);
	f = mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(f == p);
	munmap(f, PG);

	/* A free hint is honoured. */
	f = mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(f == p);
	munmap(f, PG);

	/* Shared anonymous memory, and MAP_POPULATE. */
	unsigned char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	CHECK(s != MAP_FAILED);
	EXPECT_OK("mincore populated", mincore(s, 2 * PG, vec));
	CHECK((vec[0] & 1) && (vec[1] & 1));
	CHECK(all_equal(s, 2 * PG, 0));
	s[PG + 5] = 42;
	CHECK(s[PG + 5] == 42);
	EXPECT_OK("munmap shared", munmap(s, 2 * PG));

	/* An untouched private page is not resident. */
	unsigned char *u = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	vec[0] = 9;
	EXPECT_OK("mincore untouched", mincore(u, PG, vec));
	CHECK((vec[0] & 1) == 0);
	munmap(u, PG);

	/* MAP_GROWSDOWN: touching below the mapping grows it. Reserve room
	 * first so nothing else sits within the stack guard gap. */
	unsigned char *r = mmap(NULL, 16 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED);
	munmap(r, 16 << 20);
	unsigned char *top = r + (16 << 20) - 2 * PG;
	unsigned char *g = mmap(top, 2 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
	CHECK(g == top);
	g[-3 * PG] = 5; /* grows the stack by three pages */
	CHECK(g[-3 * PG] == 5);
	EXPECT_OK("mincore grown stack", mincore(g - 3 * PG, 3 * PG, vec));
	CHECK(vec[0] & 1);
	EXPECT_OK("munmap stack", munmap(g - 3 * PG, 5 * PG));

	return conformance_done();
}
