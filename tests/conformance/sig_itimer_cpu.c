/* CPU-time timers and clocks: ITIMER_VIRTUAL and ITIMER_PROF fire during a
 * busy loop (periodic ones repeatedly), getitimer reads them back, fork
 * does not inherit them; CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID
 * and clock_getcpuclockid clocks advance with CPU use and not while
 * sleeping. Only that things fired or advanced is printed. */
#define _GNU_SOURCE
#include "conformance.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t vt, prof, rt;
static volatile int rt_code, rt_value;

static void on_vt(int sig)
{
	(void)sig;
	vt++;
}

static void on_prof(int sig)
{
	(void)sig;
	prof++;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	rt_code = si->si_code;
	rt_value = si->si_value.sival_int;
	rt++;
}

static double cpu_now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spins until `flag` reaches `want` or about 10 s of CPU pass. */
static int spin_until(volatile sig_atomic_t *flag, int want)
{
	double start = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
	volatile unsigned long x = 0;
	while (*flag < want) {
		for (int i = 0; i < 100000; i++)
			x += i;
		if (cpu_now(CLOCK_PROCESS_CPUTIME_ID) - start > 10)
			return 0;
	}
	return 1;
}

int main(void)
{
	conformance_init();
	signal(SIGVTALRM, on_vt);
	signal(SIGPROF, on_prof);

	struct itimerval it = {.it_value = {.tv_usec = 50000}}, old;
	EXPECT_VAL("setitimer VIRTUAL", setitimer(ITIMER_VIRTUAL, &it, NULL), 0);
	struct itimerval got;
	EXPECT_VAL("getitimer VIRTUAL", getitimer(ITIMER_VIRTUAL, &got), 0);
	/* Linux adds a tick (at most 10 ms) to the first expiry. */
	CHECK(got.it_value.tv_sec == 0 && got.it_value.tv_usec > 40000 && got.it_value.tv_usec <= 60000);
	CHECK(got.it_interval.tv_sec == 0 && got.it_interval.tv_usec == 0);
	/* Sleeping uses no CPU: the timer does not fire. */
	usleep(100000);
	CHECK(vt == 0);
	CHECK(spin_until(&vt, 1));
	EXPECT_VAL("fired once", vt, 1);
	getitimer(ITIMER_VIRTUAL, &got);
	CHECK(got.it_value.tv_sec == 0 && got.it_value.tv_usec == 0);

	it.it_value.tv_usec = 20000;
	it.it_interval.tv_usec = 20000;
	EXPECT_VAL("setitimer PROF periodic", setitimer(ITIMER_PROF, &it, NULL), 0);
	CHECK(spin_until(&prof, 3));
	CHECK(prof >= 3);
	getitimer(ITIMER_PROF, &got);
	CHECK(got.it_interval.tv_usec == 20000);
	struct itimerval off = {0};
	EXPECT_VAL("disarm PROF", setitimer(ITIMER_PROF, &off, &old), 0);
	CHECK(old.it_interval.tv_usec == 20000);
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 30000);

	/* Children do not inherit them. */
	it.it_value.tv_sec = 5;
	it.it_value.tv_usec = 0;
	it.it_interval.tv_usec = 0;
	setitimer(ITIMER_VIRTUAL, &it, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct itimerval c;
		getitimer(ITIMER_VIRTUAL, &c);
		_exit(c.it_value.tv_sec == 0 && c.it_value.tv_usec == 0 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	setitimer(ITIMER_VIRTUAL, &off, NULL);

	EXPECT_ERR("setitimer bad which", setitimer(3, &it, NULL), EINVAL);
	EXPECT_ERR("getitimer bad which", getitimer(-1, &got), EINVAL);
	struct itimerval bad = {.it_value = {.tv_usec = 1000000}};
	EXPECT_ERR("setitimer bad usec", setitimer(ITIMER_VIRTUAL, &bad, NULL), EINVAL);
	EXPECT_ERR("getitimer bad pointer", syscall(SYS_getitimer, ITIMER_PROF, BAD_PTR), EFAULT);

	/* CPU clocks. */
	double p0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID), t0 = cpu_now(CLOCK_THREAD_CPUTIME_ID);
	usleep(100000);
	double p1 = cpu_now(CLOCK_PROCESS_CPUTIME_ID), t1 = cpu_now(CLOCK_THREAD_CPUTIME_ID);
	CHECK(p1 - p0 < 0.05);
	CHECK(t1 - t0 < 0.05);
	volatile unsigned long x = 0;
	while (cpu_now(CLOCK_THREAD_CPUTIME_ID) - t1 < 0.05)
		x++;
	CHECK(cpu_now(CLOCK_PROCESS_CPUTIME_ID) - p1 >= 0.05);
	clockid_t pc;
	EXPECT_VAL("clock_getcpuclockid self", clock_getcpuclockid(0, &pc), 0);
	CHECK(cpu_now(pc) >= p1);
	EXPECT_VAL("clock_getcpuclockid getpid", clock_getcpuclockid(getpid(), &pc), 0);
	struct timespec ts;
	EXPECT_VAL("clock_gettime on it", clock_gettime(pc, &ts), 0);
	clockid_t tc;
	EXPECT_VAL("pthread_getcpuclockid", pthread_getcpuclockid(pthread_self(), &tc), 0);
	EXPECT_VAL("clock_gettime thread clock", clock_gettime(tc, &ts), 0);
	EXPECT_VAL("clock_getres process clock", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	CHECK(ts.tv_sec == 0 && ts.tv_nsec == 1);
	EXPECT_ERR("clock id with which 3", syscall(SYS_clock_gettime, (clockid_t)((~0 << 3) | 3), &ts), EINVAL);
	/* A child's clock, by pid. */
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	EXPECT_VAL("child's clock id", clock_getcpuclockid(pid, &pc), 0);
	EXPECT_VAL("child's clock", clock_gettime(pc, &ts), 0);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	EXPECT_ERR("gone child's clock", clock_gettime(pc, &ts), EINVAL);
	EXPECT_ERR("CLOCK_PROCESS_CPUTIME_ID bad pointer",
		   syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, BAD_PTR), EFAULT);

	/* POSIX timers on the CPU clocks. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = 5;
	timer_t t;
	EXPECT_VAL("timer_create process CPU clock", timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &t), 0);
	struct itimerspec its = {.it_value = {.tv_nsec = 30000000}}, cur;
	EXPECT_VAL("timer_settime", timer_settime(t, 0, &its, NULL), 0);
	timer_gettime(t, &cur);
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 30000000);
	usleep(100000);
	CHECK(rt == 0);
	CHECK(spin_until(&rt, 1));
	CHECK(rt_code == SI_TIMER && rt_value == 5);
	timer_gettime(t, &cur);
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
	/* Absolute: a CPU time 20 ms from now. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &its.it_value);
	its.it_value.tv_nsec += 20000000;
	if (its.it_value.tv_nsec >= 1000000000) {
		its.it_value.tv_sec++;
		its.it_value.tv_nsec -= 1000000000;
	}
	EXPECT_VAL("timer_settime TIMER_ABSTIME", timer_settime(t, TIMER_ABSTIME, &its, NULL), 0);
	CHECK(spin_until(&rt, 2));
	EXPECT_VAL("timer_delete", timer_delete(t), 0);

	ev.sigev_value.sival_int = 6;
	EXPECT_VAL("timer_create thread CPU clock", timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t), 0);
	struct itimerspec periodic = {.it_value = {.tv_nsec = 10000000}, .it_interval = {.tv_nsec = 10000000}};
	timer_settime(t, 0, &periodic, NULL);
	CHECK(spin_until(&rt, 5));
	CHECK(rt_value == 6);
	CHECK(timer_getoverrun(t) >= 0);
	timer_gettime(t, &cur);
	CHECK(cur.it_interval.tv_nsec == 10000000);
	EXPECT_VAL("timer_delete thread timer", timer_delete(t), 0);
	EXPECT_ERR("timer_settime deleted", timer_settime(t, 0, &periodic, NULL), EINVAL);
	(void)x;
	return conformance_done();
}
