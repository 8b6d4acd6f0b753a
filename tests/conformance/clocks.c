/*
 * clock_gettime(2), clock_getres(2), gettimeofday(2), time(2): every clock id,
 * invalid ids (EINVAL), bad pointers (EFAULT), monotonicity, and agreement
 * between the realtime sources. Raw syscalls are used where glibc would take
 * the vDSO (which crashes on a bad pointer instead of returning EFAULT).
 */
#include "conformance.h"

#include <sys/time.h>
#include <time.h>

static const struct {
	clockid_t id;
	const char *name;
} clocks[] = {
	{CLOCK_REALTIME, "CLOCK_REALTIME"},
	{CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
	{CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
	{CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
	{CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
	{CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
	{CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
	{CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
	{CLOCK_TAI, "CLOCK_TAI"},
};

/* Ids Linux has no clock for (10 was CLOCK_SGI_CYCLE). */
static const long invalid_clocks[] = {10, 12, 16, 1000, 0x7fffffff};

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long raw_gettime(long id, struct timespec *t)
{
	return syscall(SYS_clock_gettime, id, t);
}

int main(void)
{
	conformance_init();
	char label[128];
	struct timespec t;

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		const char *name = clocks[i].name;
		snprintf(label, sizeof(label), "clock_gettime(%s)", name);
		t.tv_sec = -1;
		t.tv_nsec = -1;
		EXPECT_OK(label, raw_gettime(clocks[i].id, &t));
		CHECK(t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < 1000000000);

		snprintf(label, sizeof(label), "clock_getres(%s)", name);
		t.tv_sec = -1;
		t.tv_nsec = -1;
		EXPECT_OK(label, syscall(SYS_clock_getres, clocks[i].id, &t));
		CHECK(ns(t) > 0 && ns(t) <= 1000000000LL);

		snprintf(label, sizeof(label), "clock_getres(%s, NULL)", name);
		EXPECT_VAL(label, syscall(SYS_clock_getres, clocks[i].id, NULL), 0);

		snprintf(label, sizeof(label), "clock_gettime(%s, bad ptr)", name);
		EXPECT_ERR(label, raw_gettime(clocks[i].id, BAD_PTR), EFAULT);
		snprintf(label, sizeof(label), "clock_getres(%s, bad ptr)", name);
		EXPECT_ERR(label, syscall(SYS_clock_getres, clocks[i].id, BAD_PTR), EFAULT);
	}

	/* The alarm clocks exist but fail with EINVAL on hosts without an RTC. */
	long alarm_ids[] = {CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM};
	for (size_t i = 0; i < 2; i++) {
		errno = 0;
		long r = raw_gettime(alarm_ids[i], &t);
		printf("clock_gettime(alarm clock %zu): ", i);
		if (r == 0 || errno == EINVAL) {
			printf("ok or EINVAL\n");
		} else {
			printf("FAIL: %s\n", errno_name(errno));
			conformance_failures++;
		}
	}

	for (size_t i = 0; i < sizeof(invalid_clocks) / sizeof(invalid_clocks[0]); i++) {
		long id = invalid_clocks[i];
		snprintf(label, sizeof(label), "clock_gettime(%ld)", id);
		EXPECT_ERR(label, raw_gettime(id, &t), EINVAL);
		snprintf(label, sizeof(label), "clock_getres(%ld)", id);
		EXPECT_ERR(label, syscall(SYS_clock_getres, id, &t), EINVAL);
		/* The id is checked before the pointer. */
		snprintf(label, sizeof(label), "clock_gettime(%ld, NULL)", id);
		EXPECT_ERR(label, raw_gettime(id, NULL), EINVAL);
	}

	/* Monotonic clocks never go back, through libc and raw. */
	clockid_t mono[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME};
	for (size_t i = 0; i < 3; i++) {
		struct timespec prev, now;
		int backwards = 0;
		clock_gettime(mono[i], &prev);
		for (int n = 0; n < 1000; n++) {
			if (n % 2)
				clock_gettime(mono[i], &now);
			else
				raw_gettime(mono[i], &now);
			if (ns(now) < ns(prev))
				backwards++;
			prev = now;
		}
		printf("clock %d: ", mono[i]);
		CHECK(backwards == 0);
	}
	struct timespec mono_now, boot_now;
	clock_gettime(CLOCK_MONOTONIC, &mono_now);
	clock_gettime(CLOCK_BOOTTIME, &boot_now);
	CHECK(ns(boot_now) >= ns(mono_now));

	/* CPU time is non-decreasing and bounded by wall time since start. */
	struct timespec cpu0, cpu1;
	raw_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
	volatile unsigned long spin = 0;
	for (unsigned long n = 0; n < 10000000; n++)
		spin += n;
	raw_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
	CHECK(ns(cpu1) >= ns(cpu0));

	/* The realtime sources agree within a second. */
	struct timespec real;
	struct timeval tv;
	raw_gettime(CLOCK_REALTIME, &real);
	EXPECT_OK("gettimeofday", syscall(SYS_gettimeofday, &tv, NULL));
	long t_raw = EXPECT_OK("time(NULL)", syscall(SYS_time, NULL));
	time_t t_out = 0;
	EXPECT_OK("time(&t)", syscall(SYS_time, &t_out));
	CHECK(labs(tv.tv_sec - real.tv_sec) <= 1);
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	CHECK(labs(t_raw - real.tv_sec) <= 1);
	CHECK(labs(t_out - real.tv_sec) <= 1);
	CHECK(labs(time(NULL) - real.tv_sec) <= 1);
	gettimeofday(&tv, NULL);
	CHECK(labs(tv.tv_sec - real.tv_sec) <= 1);
	CHECK(real.tv_sec > 1600000000); /* after 2020 */
	EXPECT_ERR("gettimeofday(bad ptr)", syscall(SYS_gettimeofday, BAD_PTR, NULL), EFAULT);
	EXPECT_VAL("gettimeofday(NULL, NULL)", syscall(SYS_gettimeofday, NULL, NULL), 0);
	EXPECT_ERR("time(bad ptr)", syscall(SYS_time, BAD_PTR), EFAULT);

	return conformance_done();
}
