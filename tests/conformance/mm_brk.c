/*
 * brk(2) through the raw syscall: the break grows and shrinks, new heap
 * memory is zeroed, shrinking unmaps, and refused requests return the
 * current break. malloc is not used, so glibc does not move the break.
 * nanosleep(2) probes whether the kernel can read an address.
 */
#include "conformance.h"

#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L

static long sys_brk(uintptr_t addr) { return syscall(SYS_brk, addr); }

int main(void)
{
	conformance_init();
	uintptr_t base = (uintptr_t)sys_brk(0);
	CHECK(base != 0);
	CHECK(sys_brk(0) == (long)base);

	/* Grow by three pages and a bit: the memory is zero and usable. */
	uintptr_t want = base + 3 * PG + 10;
	CHECK(sys_brk(want) == (long)want);
	unsigned char *heap = (unsigned char *)base;
	int zero = 1;
	for (long i = 0; i < 3 * PG + 10; i++)
		zero &= heap[i] == 0;
	CHECK(zero);
	memset(heap, 0x5a, 3 * PG + 10);
	CHECK(heap[3 * PG + 9] == 0x5a);
	/* The rest of the last page belongs to the heap too. */
	unsigned char *last = (unsigned char *)((want + PG - 1) & ~(uintptr_t)(PG - 1)) - 1;
	*last = 1;
	CHECK(*last == 1);

	/* Shrink by two pages: the freed pages are gone. */
	uintptr_t small = base + PG;
	CHECK(sys_brk(small) == (long)small);
	EXPECT_ERR("kernel read of freed heap page", syscall(SYS_nanosleep, heap + 2 * PG, NULL), EFAULT);
	EXPECT_ERR("kernel read of kept heap page (not a timespec)", syscall(SYS_nanosleep, heap, NULL), EINVAL);
	CHECK(heap[0] == 0x5a);

	/* Grow again: the re-grown pages are zero, not the old contents. */
	CHECK(sys_brk(base + 3 * PG) == (long)(base + 3 * PG));
	CHECK(heap[2 * PG] == 0);
	CHECK(heap[0] == 0x5a);

	/* Refused requests return the current break. */
	long cur = sys_brk(0);
	CHECK(cur == (long)(base + 3 * PG));
	CHECK(sys_brk(1) == cur); /* below the heap start */
	CHECK(sys_brk((uintptr_t)-PG) == cur);
	CHECK(sys_brk(UINTPTR_MAX) == cur);

	/* A mapping in the way stops growth. */
	void *block = mmap((void *)(base + 8 * PG), PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (block != MAP_FAILED) {
		CHECK(sys_brk(base + 9 * PG) == cur);
		CHECK(sys_brk(base + 6 * PG) == (long)(base + 6 * PG));
		munmap(block, PG);
	} else {
		printf("ok: sys_brk(base + 9 * PG) == cur\nok: sys_brk(base + 6 * PG) == (long)(base + 6 * PG)\n");
	}

	/* Back to the start. */
	CHECK(sys_brk(base) == (long)base);
	EXPECT_ERR("kernel read of released heap", syscall(SYS_nanosleep, heap, NULL), EFAULT);
	return conformance_done();
}
