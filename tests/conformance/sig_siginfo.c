/* siginfo names the sender like Linux: kill (SI_USER), tkill/tgkill
 * (SI_TKILL), sigqueue (SI_QUEUE with si_value, in a handler and in
 * sigwaitinfo), rt_tgsigqueueinfo, SIGCHLD (CLD_* with si_pid, si_status),
 * POSIX timers (SI_TIMER with the timer id and value), faults (si_addr,
 * SEGV_MAPERR/SEGV_ACCERR), and rt_sigqueueinfo's permission check. */
#define _GNU_SOURCE
#include "conformance.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile siginfo_t last;
static volatile int hits;
static sigjmp_buf env;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	memcpy((void *)&last, si, sizeof *si);
	hits++;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	memcpy((void *)&last, si, sizeof *si);
	siglongjmp(env, sig);
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
}

static siginfo_t wait_one(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	struct timespec tmo = {.tv_sec = 5};
	/* Raw: glibc's sigtimedwait turns SI_TKILL into SI_USER. */
	if (syscall(SYS_rt_sigtimedwait, &set, &si, &tmo, 8) != sig)
		printf("FAIL: sigtimedwait for %d\n", sig);
	return si;
}

int main(void)
{
	conformance_init();
	pid_t me = getpid();
	uid_t uid = getuid();

	handle(SIGUSR1, on_sig);
	kill(me, SIGUSR1);
	CHECK(hits == 1);
	CHECK(last.si_signo == SIGUSR1);
	CHECK(last.si_code == SI_USER);
	CHECK(last.si_pid == me);
	CHECK(last.si_uid == uid);

	syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1);
	CHECK(last.si_code == SI_TKILL);
	CHECK(last.si_pid == me);
	CHECK(last.si_uid == uid);
	syscall(SYS_tgkill, me, syscall(SYS_gettid), SIGUSR1);
	CHECK(last.si_code == SI_TKILL);
	CHECK(last.si_pid == me);

	union sigval v = {.sival_int = 1234};
	EXPECT_VAL("sigqueue to self", sigqueue(me, SIGUSR1, v), 0);
	CHECK(last.si_code == SI_QUEUE);
	CHECK(last.si_pid == me);
	CHECK(last.si_uid == uid);
	CHECK(last.si_value.sival_int == 1234);

	v.sival_ptr = (void *)0x1122334455667788;
	sigqueue(me, SIGUSR1, v);
	CHECK(last.si_value.sival_ptr == (void *)0x1122334455667788);

	/* Blocked: sigwaitinfo gets the same siginfo. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);
	v.sival_int = 77;
	sigqueue(me, SIGRTMIN, v);
	siginfo_t si = wait_one(SIGRTMIN);
	CHECK(si.si_signo == SIGRTMIN);
	CHECK(si.si_code == SI_QUEUE);
	CHECK(si.si_pid == me);
	CHECK(si.si_value.sival_int == 77);

	/* A program's own siginfo, with a user-chosen negative code. */
	siginfo_t mine;
	memset(&mine, 0, sizeof mine);
	mine.si_signo = SIGUSR1; /* replaced by the signal number */
	mine.si_code = -50;
	mine.si_pid = 4242;
	mine.si_uid = 99;
	mine.si_value.sival_int = 5;
	EXPECT_VAL("rt_tgsigqueueinfo to self", syscall(SYS_rt_tgsigqueueinfo, me, syscall(SYS_gettid), SIGUSR2, &mine), 0);
	si = wait_one(SIGUSR2);
	CHECK(si.si_signo == SIGUSR2);
	CHECK(si.si_code == -50);
	CHECK(si.si_pid == 4242);
	CHECK(si.si_uid == 99);
	CHECK(si.si_value.sival_int == 5);
	/* To itself a program may even claim SI_USER or SI_TKILL. */
	mine.si_code = SI_TKILL;
	EXPECT_VAL("SI_TKILL siginfo to self", syscall(SYS_rt_sigqueueinfo, me, SIGUSR2, &mine), 0);
	si = wait_one(SIGUSR2);
	CHECK(si.si_code == SI_TKILL);

	/* From a child: its pid; SIGCHLD describes its exit. */
	pid_t child = fork();
	if (child == 0) {
		union sigval cv = {.sival_int = 9};
		sigqueue(getppid(), SIGRTMIN, cv);
		siginfo_t forged;
		memset(&forged, 0, sizeof forged);
		forged.si_code = SI_USER;
		int e1 = syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR2, &forged) == -1 ? errno : 0;
		forged.si_code = SI_TKILL;
		int e2 = syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR2, &forged) == -1 ? errno : 0;
		forged.si_code = SI_KERNEL;
		int e3 = syscall(SYS_rt_tgsigqueueinfo, getppid(), getppid(), SIGUSR2, &forged) == -1 ? errno : 0;
		_exit(e1 == EPERM && e2 == EPERM && e3 == EPERM ? 7 : 1);
	}
	si = wait_one(SIGRTMIN);
	CHECK(si.si_pid == child);
	CHECK(si.si_code == SI_QUEUE);
	CHECK(si.si_value.sival_int == 9);
	si = wait_one(SIGCHLD);
	CHECK(si.si_code == CLD_EXITED);
	CHECK(si.si_pid == child);
	CHECK(si.si_uid == uid);
	CHECK(si.si_status == 7);
	CHECK(si.si_utime >= 0 && si.si_stime >= 0);
	waitpid(child, NULL, 0);

	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	kill(child, SIGTERM);
	si = wait_one(SIGCHLD);
	CHECK(si.si_code == CLD_KILLED);
	CHECK(si.si_pid == child);
	CHECK(si.si_status == SIGTERM);
	waitpid(child, NULL, 0);

	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	kill(child, SIGSTOP);
	si = wait_one(SIGCHLD);
	CHECK(si.si_code == CLD_STOPPED);
	CHECK(si.si_status == SIGSTOP);
	CHECK(si.si_pid == child);
	kill(child, SIGCONT);
	si = wait_one(SIGCHLD);
	CHECK(si.si_code == CLD_CONTINUED);
	CHECK(si.si_status == SIGCONT);
	kill(child, SIGKILL);
	si = wait_one(SIGCHLD);
	CHECK(si.si_code == CLD_KILLED);
	CHECK(si.si_status == SIGKILL);
	waitpid(child, NULL, 0);

	/* A POSIX timer: SI_TIMER, its id, its value. */
	timer_t timer;
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = 31337;
	EXPECT_OK("timer_create", timer_create(CLOCK_MONOTONIC, &ev, &timer));
	struct itimerspec its = {.it_value = {.tv_nsec = 10000000}};
	timer_settime(timer, 0, &its, NULL);
	si = wait_one(SIGRTMIN);
	CHECK(si.si_code == SI_TIMER);
	CHECK(si.si_value.sival_int == 31337);
	CHECK(si.si_timerid == (int)(long)timer);
	CHECK(si.si_overrun == 0);
	timer_delete(timer);

	/* A periodic timer whose signal stays pending is queued once; the
	 * expirations meanwhile are its overrun. (Linux drops a pending timer
	 * signal when the timer is re-armed or deleted, so it is taken while
	 * the timer runs.) */
	ev.sigev_value.sival_int = 1;
	EXPECT_OK("timer_create periodic", timer_create(CLOCK_MONOTONIC, &ev, &timer));
	struct itimerspec every = {.it_value = {.tv_nsec = 5000000}, .it_interval = {.tv_nsec = 5000000}};
	timer_settime(timer, 0, &every, NULL);
	usleep(60000);
	si = wait_one(SIGRTMIN);
	CHECK(si.si_code == SI_TIMER);
	CHECK(si.si_overrun > 0);
	CHECK(si.si_value.sival_int == 1);
	/* Re-arming drops a pending signal of the timer. */
	usleep(20000);
	struct itimerspec once = {.it_value = {.tv_sec = 100}};
	timer_settime(timer, 0, &once, NULL);
	sigset_t rtset;
	sigemptyset(&rtset);
	sigaddset(&rtset, SIGRTMIN);
	struct timespec zero = {0};
	EXPECT_ERR("its signal is gone", sigtimedwait(&rtset, NULL, &zero), EAGAIN);
	timer_delete(timer);

	/* A timer made without a sigevent (raw: glibc passes one): SIGALRM,
	 * and its value is its id. A first timer makes that id non-zero. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	int first = -1, second = -1;
	EXPECT_OK("timer_create", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &first));
	EXPECT_OK("timer_create without sigevent", syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &second));
	CHECK(second != first);
	syscall(SYS_timer_settime, second, 0, &its, NULL);
	si = wait_one(SIGALRM);
	CHECK(si.si_code == SI_TIMER);
	CHECK(si.si_value.sival_int == second);
	CHECK(si.si_timerid == second);
	syscall(SYS_timer_delete, first);
	syscall(SYS_timer_delete, second);

	/* ITIMER_REAL: SI_KERNEL. */
	struct itimerval itv = {.it_value = {.tv_usec = 10000}};
	setitimer(ITIMER_REAL, &itv, NULL);
	si = wait_one(SIGALRM);
	CHECK(si.si_code == SI_KERNEL);

	/* Faults: si_addr and si_code. */
	handle(SIGSEGV, on_fault);
	volatile int *bad = (volatile int *)0x10;
	if (sigsetjmp(env, 1) == 0)
		*bad = 1;
	CHECK(last.si_signo == SIGSEGV);
	CHECK(last.si_code == SEGV_MAPERR);
	CHECK(last.si_addr == (void *)0x10);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(env, 1) == 0)
		*(volatile char *)(ro + 8) = 1;
	CHECK(last.si_code == SEGV_ACCERR);
	CHECK(last.si_addr == ro + 8);

	return conformance_done();
}
