/*
 * sched_getaffinity(2), sched_setaffinity(2), sched_yield(2). The CPU set is
 * the caller's (never the sentry's pin), so only its shape is printed: at
 * least one CPU, sizes that are too small or not a multiple of 8 give
 * EINVAL, bad pointers EFAULT.
 */
#include "conformance.h"

#include <sched.h>

static long raw_getaffinity(pid_t pid, size_t size, void *mask)
{
	return syscall(SYS_sched_getaffinity, pid, size, mask);
}

int main(void)
{
	conformance_init();
	cpu_set_t set;
	CPU_ZERO(&set);

	long r = EXPECT_OK("sched_getaffinity(0, sizeof(cpu_set_t))",
			   raw_getaffinity(0, sizeof(set), &set));
	/* The kernel returns the bytes it copied: its cpumask size. */
	CHECK(r > 0 && r % 8 == 0 && r <= (long)sizeof(set));
	CHECK(CPU_COUNT(&set) > 0);

	cpu_set_t self;
	CPU_ZERO(&self);
	EXPECT_OK("sched_getaffinity(getpid())", raw_getaffinity(getpid(), sizeof(self), &self));
	CHECK(CPU_EQUAL(&set, &self));
	EXPECT_OK("glibc sched_getaffinity", sched_getaffinity(0, sizeof(self), &self));
	CHECK(CPU_EQUAL(&set, &self));

	EXPECT_ERR("sched_getaffinity(size 0)", raw_getaffinity(0, 0, &set), EINVAL);
	EXPECT_ERR("sched_getaffinity(size 7)", raw_getaffinity(0, 7, &set), EINVAL);
	EXPECT_ERR("sched_getaffinity(size 12)", raw_getaffinity(0, 12, &set), EINVAL);
	EXPECT_ERR("sched_getaffinity(bad ptr)", raw_getaffinity(0, sizeof(set), BAD_PTR), EFAULT);
	EXPECT_ERR("sched_getaffinity(pid 0x3fffffff)",
		   raw_getaffinity(0x3fffffff, sizeof(set), &set), ESRCH);

	/* Setting the set we have is allowed and changes nothing. */
	EXPECT_VAL("sched_setaffinity(same set)",
		   syscall(SYS_sched_setaffinity, 0, sizeof(set), &set), 0);
	CPU_ZERO(&self);
	raw_getaffinity(0, sizeof(self), &self);
	CHECK(CPU_EQUAL(&set, &self));
	cpu_set_t empty;
	CPU_ZERO(&empty);
	EXPECT_ERR("sched_setaffinity(empty set)",
		   syscall(SYS_sched_setaffinity, 0, sizeof(empty), &empty), EINVAL);
	EXPECT_ERR("sched_setaffinity(bad ptr)",
		   syscall(SYS_sched_setaffinity, 0, sizeof(set), BAD_PTR), EFAULT);

	for (int i = 0; i < 100; i++) {
		if (syscall(SYS_sched_yield) != 0) {
			EXPECT_VAL("sched_yield", syscall(SYS_sched_yield), 0);
			break;
		}
	}
	EXPECT_VAL("sched_yield x100", syscall(SYS_sched_yield), 0);

	return conformance_done();
}
