/* Timers: alarm, setitimer/getitimer(ITIMER_REAL), POSIX timers with
 * SIGEV_SIGNAL and SIGEV_THREAD_ID, periodic timers, and a sleep that a
 * timer's signal interrupts. */
#define _GNU_SOURCE
#include "conformance.h"
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>

static _Atomic int alarms, rt_hits;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_rt(int sig)
{
	(void)sig;
	rt_hits++;
}

int main(void)
{
	conformance_init();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	EXPECT_VAL("alarm(0) with none set", alarm(0), 0);
	alarm(10);
	unsigned left = alarm(0);
	CHECK(left >= 9 && left <= 10);

	/* A sleep interrupted by SIGALRM. */
	struct itimerval it = {.it_value = {.tv_usec = 50000}};
	EXPECT_VAL("setitimer(ITIMER_REAL)", setitimer(ITIMER_REAL, &it, NULL), 0);
	struct timespec req = {.tv_sec = 5}, rem = {0};
	EXPECT_ERR("nanosleep interrupted", nanosleep(&req, &rem), EINTR);
	CHECK(alarms == 1);
	CHECK(rem.tv_sec >= 3 && rem.tv_sec <= 5);

	/* Periodic: three expiries. */
	it.it_interval.tv_usec = 20000;
	it.it_value.tv_usec = 20000;
	setitimer(ITIMER_REAL, &it, NULL);
	while (alarms < 4)
		pause();
	struct itimerval cur;
	EXPECT_VAL("getitimer", getitimer(ITIMER_REAL, &cur), 0);
	CHECK(cur.it_interval.tv_usec == 20000);
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, &cur);
	CHECK(cur.it_interval.tv_usec == 20000);
	getitimer(ITIMER_REAL, &cur);
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
	EXPECT_ERR("setitimer bad which", setitimer(7, &it, NULL), EINVAL);
	it.it_value.tv_usec = 2000000;
	EXPECT_ERR("setitimer bad usec", setitimer(ITIMER_REAL, &it, NULL), EINVAL);

	/* POSIX timers. */
	sa.sa_handler = on_rt;
	sigaction(SIGRTMIN, &sa, NULL);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN};
	timer_t t;
	EXPECT_VAL("timer_create", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &t), 0);
	struct itimerspec spec = {.it_value = {.tv_nsec = 10000000}, .it_interval = {.tv_nsec = 10000000}};
	EXPECT_VAL("timer_settime", syscall(SYS_timer_settime, t, 0, &spec, NULL), 0);
	while (rt_hits < 3)
		pause();
	struct itimerspec got;
	EXPECT_VAL("timer_gettime", syscall(SYS_timer_gettime, t, &got), 0);
	CHECK(got.it_interval.tv_nsec == 10000000);
	CHECK(syscall(SYS_timer_getoverrun, t) >= 0);
	EXPECT_VAL("timer_delete", syscall(SYS_timer_delete, t), 0);
	EXPECT_ERR("timer_delete again", syscall(SYS_timer_delete, t), EINVAL);
	EXPECT_ERR("timer_gettime deleted", syscall(SYS_timer_gettime, t, &got), EINVAL);

	/* Absolute expiry on CLOCK_REALTIME. */
	int before = rt_hits;
	EXPECT_VAL("timer_create REALTIME", syscall(SYS_timer_create, CLOCK_REALTIME, &ev, &t), 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_nsec += 20000000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	struct itimerspec abs_spec = {.it_value = now};
	EXPECT_VAL("timer_settime TIMER_ABSTIME", syscall(SYS_timer_settime, t, TIMER_ABSTIME, &abs_spec, NULL), 0);
	while (rt_hits == before)
		pause();
	CHECK(rt_hits == before + 1);
	syscall(SYS_timer_delete, t);

	EXPECT_ERR("timer_create bad clock", syscall(SYS_timer_create, 99, &ev, &t), EINVAL);
	ev.sigev_signo = 99;
	EXPECT_ERR("timer_create bad signal", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &t), EINVAL);
	EXPECT_ERR("timer_settime bad id", syscall(SYS_timer_settime, (timer_t)12345, 0, &spec, NULL), EINVAL);
	return conformance_done();
}
