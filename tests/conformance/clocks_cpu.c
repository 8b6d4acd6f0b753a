/*
 * CPU-time clocks (kernel/time/posix-cpu-timers.c): clock_getres gives
 * 1 ns for the scheduler clocks and a tick for the PROF and VIRT ones;
 * another process's clock (clock_getcpuclockid) reads, sleeps and carries
 * timers while it lives, zombie included, and is EINVAL once reaped (ESRCH
 * from clock_getcpuclockid); clock_nanosleep on CLOCK_PROCESS_CPUTIME_ID
 * lasts until the process has used that much CPU, on the thread clock is
 * EOPNOTSUPP and on the caller's own thread clock EINVAL.
 */
#include "conformance.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL

/* include/linux/posix-timers_types.h */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((int)~(unsigned)(pid) << 3 | (clock))

static long long ns_of(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long read_clock(clockid_t clock)
{
	struct timespec t = {0, 0};
	if (syscall(SYS_clock_gettime, clock, &t) != 0)
		return -1;
	return ns_of(t);
}

static long raw_nanosleep(clockid_t clock, int flags, long long ns, struct timespec *rem)
{
	struct timespec t = {ns / 1000000000LL, ns % 1000000000LL};
	return syscall(SYS_clock_nanosleep, clock, flags, &t, rem);
}

static atomic_int stop_spinning;
static clockid_t spinner_clock;

static void *spin(void *arg)
{
	(void)arg;
	pthread_getcpuclockid(pthread_self(), &spinner_clock);
	while (!stop_spinning)
		;
	return NULL;
}

static volatile int alarms;
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

int main(void)
{
	conformance_init();

	/* Resolutions: the scheduler clocks are exact, PROF and VIRT tick. */
	struct timespec res, coarse;
	clock_getres(CLOCK_MONOTONIC_COARSE, &coarse);
	long hz = (1000000000L + coarse.tv_nsec / 2) / coarse.tv_nsec;
	long tick = (1000000000L + hz - 1) / hz;
	EXPECT_VAL("getres(PROCESS_CPUTIME)", syscall(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, &res),
		   0);
	CHECK(res.tv_sec == 0 && res.tv_nsec == 1);
	EXPECT_VAL("getres(THREAD_CPUTIME)", syscall(SYS_clock_getres, CLOCK_THREAD_CPUTIME_ID, &res),
		   0);
	CHECK(res.tv_sec == 0 && res.tv_nsec == 1);
	clockid_t mine;
	EXPECT_VAL("clock_getcpuclockid(self)", clock_getcpuclockid(getpid(), &mine), 0);
	EXPECT_VAL("getres(own pid clock)", syscall(SYS_clock_getres, mine, &res), 0);
	CHECK(res.tv_sec == 0 && res.tv_nsec == 1);
	EXPECT_VAL("getres(PROF)", syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_PROF), &res),
		   0);
	CHECK(res.tv_sec == 0 && res.tv_nsec == tick);
	EXPECT_VAL("getres(VIRT)", syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_VIRT), &res),
		   0);
	CHECK(res.tv_sec == 0 && res.tv_nsec == tick);
	EXPECT_ERR("getres(which 3)", syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(0, 4 | 3), &res),
		   EINVAL);

	/* Sleeps on the process clock end when the spinning thread has used
	 * the time. */
	pthread_t spinner;
	pthread_create(&spinner, NULL, spin, NULL);
	while (read_clock(CLOCK_PROCESS_CPUTIME_ID) < 20 * MS)
		;
	long long before = read_clock(CLOCK_PROCESS_CPUTIME_ID);
	EXPECT_VAL("sleep 100ms of process CPU", raw_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, 100 * MS, NULL),
		   0);
	CHECK(read_clock(CLOCK_PROCESS_CPUTIME_ID) - before >= 100 * MS);
	long long target = read_clock(CLOCK_PROCESS_CPUTIME_ID) + 50 * MS;
	EXPECT_VAL("sleep to process CPU +50ms",
		   raw_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, target, NULL), 0);
	CHECK(read_clock(CLOCK_PROCESS_CPUTIME_ID) >= target);
	EXPECT_VAL("sleep to a past process CPU time",
		   raw_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, 1, NULL), 0);
	before = read_clock(spinner_clock);
	EXPECT_VAL("sleep 30ms of another thread's CPU", raw_nanosleep(spinner_clock, 0, 30 * MS, NULL),
		   0);
	CHECK(read_clock(spinner_clock) - before >= 30 * MS);
	EXPECT_ERR("sleep on THREAD_CPUTIME",
		   raw_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, 10 * MS, NULL), EOPNOTSUPP);
	clockid_t own_thread;
	pthread_getcpuclockid(pthread_self(), &own_thread);
	EXPECT_ERR("sleep on the own thread's clock", raw_nanosleep(own_thread, 0, 10 * MS, NULL),
		   EINVAL);
	/* ~0 << 3 | 3 is a dynamic clock (by fd), which cannot sleep. */
	EXPECT_ERR("sleep on a CLOCKFD clock",
		   raw_nanosleep(MAKE_PROCESS_CPUCLOCK(0, 3), 0, 10 * MS, NULL), EOPNOTSUPP);
	EXPECT_ERR("sleep on thread clock which 3",
		   raw_nanosleep(MAKE_PROCESS_CPUCLOCK(0, 4 | 3), 0, 10 * MS, NULL), EINVAL);

	/* A handler interrupts a CPU sleep with EINTR and the time left. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec rem = {-1, -1};
	EXPECT_ERR("CPU sleep interrupted",
		   raw_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, 60000 * MS, &rem), EINTR);
	CHECK(alarms == 1);
	CHECK(ns_of(rem) > 50000 * MS && ns_of(rem) < 60000 * MS);
	stop_spinning = 1;
	pthread_join(spinner, NULL);

	/* Another process's clock: it reads, and a sleep on it ends. */
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			;
	}
	clockid_t theirs;
	EXPECT_VAL("clock_getcpuclockid(child)", clock_getcpuclockid(child, &theirs), 0);
	EXPECT_VAL("getres(child clock)", syscall(SYS_clock_getres, theirs, &res), 0);
	while (read_clock(theirs) < 20 * MS)
		;
	before = read_clock(theirs);
	EXPECT_VAL("sleep 50ms of the child's CPU", raw_nanosleep(theirs, 0, 50 * MS, NULL), 0);
	CHECK(read_clock(theirs) - before >= 50 * MS);

	/* A timer on it signals the caller. */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_value.sival_int = 7;
	timer_t timer;
	EXPECT_VAL("timer_create(child clock)", timer_create(theirs, &sev, &timer), 0);
	struct itimerspec its = {{0, 0}, {0, 30 * MS}};
	EXPECT_VAL("timer_settime", timer_settime(timer, 0, &its, NULL), 0);
	struct itimerspec cur;
	EXPECT_VAL("timer_gettime", timer_gettime(timer, &cur), 0);
	CHECK(ns_of(cur.it_value) > 0 && ns_of(cur.it_value) <= 30 * MS);
	siginfo_t si;
	struct timespec wait = {10, 0};
	EXPECT_VAL("timer signal", sigtimedwait(&usr1, &si, &wait), SIGUSR1);
	CHECK(si.si_code == SI_TIMER && si.si_value.sival_int == 7);
	EXPECT_VAL("timer_delete", timer_delete(timer), 0);

	/* A zombie's clock still reads; a reaped one's is gone. */
	kill(child, SIGKILL);
	siginfo_t info;
	EXPECT_VAL("waitid WNOWAIT", waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
	CHECK(read_clock(theirs) >= 70 * MS);
	waitpid(child, NULL, 0);
	struct timespec t;
	EXPECT_ERR("gettime(reaped child clock)", syscall(SYS_clock_gettime, theirs, &t), EINVAL);
	EXPECT_ERR("getres(reaped child clock)", syscall(SYS_clock_getres, theirs, &t), EINVAL);
	EXPECT_ERR("sleep on a reaped child's clock", raw_nanosleep(theirs, 0, 10 * MS, NULL),
		   EINVAL);
	EXPECT_ERR("timer_create(reaped child clock)",
		   syscall(SYS_timer_create, theirs, &sev, &timer), EINVAL);
	EXPECT_VAL("clock_getcpuclockid(reaped)", clock_getcpuclockid(child, &theirs), ESRCH);

	return conformance_done();
}
