/*
 * arch_prctl(2) FS/GS round trips, invalid codes (EINVAL), addresses outside
 * the user range (EPERM), bad pointers (EFAULT); set_tid_address(2) returns
 * the tid; rseq(2) may fail either way (glibc may have registered one), so
 * its result is not printed.
 *
 * While FS points elsewhere, nothing may touch thread-local storage (errno,
 * the stack protector), hence the inline-asm syscalls below.
 */
#include "conformance.h"

#include <asm/prctl.h>

static long raw2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

int main(void)
{
	conformance_init();

	unsigned long fs = 0, gs = 0, got = 0;
	EXPECT_VAL("arch_prctl(ARCH_GET_FS)", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	CHECK(fs != 0);
	/* glibc's TCB starts with a pointer to itself. */
	CHECK(*(unsigned long *)fs == fs);

	static unsigned long fake_tcb[64];
	long r_set = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fake_tcb);
	long r_get = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&got);
	long r_restore = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fs);
	printf("ARCH_SET_FS = %ld, ARCH_GET_FS = %ld, restore = %ld\n", r_set, r_get, r_restore);
	CHECK(got == (unsigned long)fake_tcb);
	syscall(SYS_arch_prctl, ARCH_GET_FS, &got);
	CHECK(got == fs);

	EXPECT_VAL("arch_prctl(ARCH_GET_GS)", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), 0);
	EXPECT_VAL("arch_prctl(ARCH_SET_GS, 0x12345000)",
		   syscall(SYS_arch_prctl, ARCH_SET_GS, 0x12345000UL), 0);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &got);
	CHECK(got == 0x12345000UL);
	EXPECT_VAL("arch_prctl(ARCH_SET_GS, old)", syscall(SYS_arch_prctl, ARCH_SET_GS, gs), 0);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &got);
	CHECK(got == gs);

	EXPECT_ERR("arch_prctl(0x9999)", syscall(SYS_arch_prctl, 0x9999, &got), EINVAL);
	EXPECT_ERR("arch_prctl(0)", syscall(SYS_arch_prctl, 0, &got), EINVAL);
	EXPECT_ERR("arch_prctl(ARCH_GET_FS, bad ptr)", syscall(SYS_arch_prctl, ARCH_GET_FS, BAD_PTR),
		   EFAULT);
	EXPECT_ERR("arch_prctl(ARCH_GET_GS, NULL)", syscall(SYS_arch_prctl, ARCH_GET_GS, NULL),
		   EFAULT);
	EXPECT_ERR("arch_prctl(ARCH_SET_FS, 1<<47)",
		   syscall(SYS_arch_prctl, ARCH_SET_FS, 1UL << 47), EPERM);
	EXPECT_ERR("arch_prctl(ARCH_SET_GS, kernel address)",
		   syscall(SYS_arch_prctl, ARCH_SET_GS, 0xffff800000000000UL), EPERM);
	syscall(SYS_arch_prctl, ARCH_GET_FS, &got);
	CHECK(got == fs);

	/* set_tid_address returns the caller's tid; restore glibc's pointer after. */
	static int tid_word;
	long tid = EXPECT_OK("set_tid_address", syscall(SYS_set_tid_address, &tid_word));
	CHECK(tid == gettid());
	CHECK(syscall(SYS_set_tid_address, NULL) == tid);

	/* rseq: glibc may own the registration already; any answer is fine. */
	static struct {
		unsigned int cpu_id_start, cpu_id;
		unsigned long long rseq_cs;
		unsigned int flags;
	} __attribute__((aligned(32))) rseq_area;
	syscall(SYS_rseq, &rseq_area, 32, 0, 0x53053053);
	printf("rseq called\n");

	return conformance_done();
}
