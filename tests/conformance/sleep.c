/*
 * nanosleep(2) and clock_nanosleep(2): a 10 ms sleep takes at least 10 ms,
 * TIMER_ABSTIME sleeps until a point in time, invalid timespecs give EINVAL,
 * bad pointers EFAULT. clock_nanosleep is called raw: glibc returns its error
 * instead of setting errno.
 */
#include "conformance.h"

#include <time.h>

static long long now_ns(clockid_t clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long raw_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
				struct timespec *rem)
{
	return syscall(SYS_clock_nanosleep, clock, flags, req, rem);
}

int main(void)
{
	conformance_init();
	const long long ten_ms = 10 * 1000000LL;

	struct timespec req = {0, 10 * 1000000};
	long long start = now_ns(CLOCK_MONOTONIC);
	EXPECT_VAL("nanosleep(10ms)", syscall(SYS_nanosleep, &req, NULL), 0);
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= ten_ms);

	struct timespec rem = {-1, -1};
	start = now_ns(CLOCK_MONOTONIC);
	EXPECT_VAL("nanosleep(10ms, &rem)", syscall(SYS_nanosleep, &req, &rem), 0);
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= ten_ms);

	struct timespec zero = {0, 0};
	EXPECT_VAL("nanosleep(0)", syscall(SYS_nanosleep, &zero, NULL), 0);

	struct timespec bad;
	bad = (struct timespec){0, 1000000000};
	EXPECT_ERR("nanosleep(tv_nsec = 1e9)", syscall(SYS_nanosleep, &bad, NULL), EINVAL);
	bad = (struct timespec){0, -1};
	EXPECT_ERR("nanosleep(tv_nsec = -1)", syscall(SYS_nanosleep, &bad, NULL), EINVAL);
	bad = (struct timespec){-1, 0};
	EXPECT_ERR("nanosleep(tv_sec = -1)", syscall(SYS_nanosleep, &bad, NULL), EINVAL);
	EXPECT_ERR("nanosleep(NULL)", syscall(SYS_nanosleep, NULL, NULL), EFAULT);
	EXPECT_ERR("nanosleep(bad ptr)", syscall(SYS_nanosleep, BAD_PTR, NULL), EFAULT);

	clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME};
	const char *names[] = {"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_BOOTTIME"};
	char label[128];
	for (int i = 0; i < 3; i++) {
		snprintf(label, sizeof(label), "clock_nanosleep(%s, 0, 10ms)", names[i]);
		start = now_ns(CLOCK_MONOTONIC);
		EXPECT_VAL(label, raw_clock_nanosleep(clocks[i], 0, &req, NULL), 0);
		CHECK(now_ns(CLOCK_MONOTONIC) - start >= ten_ms);

		snprintf(label, sizeof(label), "clock_nanosleep(%s, TIMER_ABSTIME, now+10ms)",
			 names[i]);
		long long target = now_ns(clocks[i]) + ten_ms;
		struct timespec abs = {target / 1000000000LL, target % 1000000000LL};
		EXPECT_VAL(label, raw_clock_nanosleep(clocks[i], TIMER_ABSTIME, &abs, NULL), 0);
		CHECK(now_ns(clocks[i]) >= target);

		snprintf(label, sizeof(label), "clock_nanosleep(%s, TIMER_ABSTIME, past)",
			 names[i]);
		struct timespec past = {1, 0};
		start = now_ns(CLOCK_MONOTONIC);
		EXPECT_VAL(label, raw_clock_nanosleep(clocks[i], TIMER_ABSTIME, &past, NULL), 0);
		CHECK(now_ns(CLOCK_MONOTONIC) - start < 1000000000LL);
	}

	bad = (struct timespec){0, 1000000000};
	EXPECT_ERR("clock_nanosleep(tv_nsec = 1e9)",
		   raw_clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
	bad = (struct timespec){0, -1};
	EXPECT_ERR("clock_nanosleep(tv_nsec = -1)",
		   raw_clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
	EXPECT_ERR("clock_nanosleep(bad ptr)",
		   raw_clock_nanosleep(CLOCK_MONOTONIC, 0, BAD_PTR, NULL), EFAULT);
	/* The thread CPU clock has no nsleep: EOPNOTSUPP, not EINVAL. */
	EXPECT_ERR("clock_nanosleep(CLOCK_THREAD_CPUTIME_ID)",
		   raw_clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL), EOPNOTSUPP);
	EXPECT_ERR("clock_nanosleep(clock 10)", raw_clock_nanosleep(10, 0, &req, NULL), EINVAL);
	EXPECT_ERR("clock_nanosleep(clock 1000)", raw_clock_nanosleep(1000, 0, &req, NULL),
		   EINVAL);

	return conformance_done();
}
