/* A thread blocked in sigwaitinfo takes the signals sent to it: a
 * process-directed kill (every other thread blocks the signal), a tgkill
 * naming it, a sigqueue value; and a signal sent before it starts waiting
 * stays pending on the process for it. */
#define _GNU_SOURCE
#include "conformance.h"

#include <pthread.h>
#include <signal.h>

static _Atomic int ready;
static siginfo_t got[4];
static int got_sig[4];
static pid_t waiter_tid;

static void *waiter(void *arg)
{
	(void)arg;
	waiter_tid = gettid();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	ready = 1;
	for (int i = 0; i < 4; i++)
		/* Raw: glibc turns SI_TKILL into SI_USER. */
		got_sig[i] = syscall(SYS_rt_sigtimedwait, &set, &got[i], NULL, 8);
	return NULL;
}

int main(void)
{
	conformance_init();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL); /* inherited by the waiter */

	/* Sent before the waiter exists: pending on the process. */
	kill(getpid(), SIGUSR1);

	pthread_t t;
	pthread_create(&t, NULL, waiter, NULL);
	while (!ready)
		usleep(1000);
	usleep(20000); /* let it block */
	kill(getpid(), SIGUSR1);
	usleep(20000);
	syscall(SYS_tgkill, getpid(), waiter_tid, SIGUSR1);
	usleep(20000);
	union sigval v = {.sival_int = 606};
	sigqueue(getpid(), SIGRTMIN, v);
	pthread_join(t, NULL);

	CHECK(got_sig[0] == SIGUSR1 && got[0].si_code == SI_USER && got[0].si_pid == getpid());
	CHECK(got_sig[1] == SIGUSR1 && got[1].si_code == SI_USER);
	CHECK(got_sig[2] == SIGUSR1 && got[2].si_code == SI_TKILL);
	CHECK(got_sig[3] == SIGRTMIN && got[3].si_code == SI_QUEUE && got[3].si_value.sival_int == 606);

	sigset_t pending;
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGUSR1));
	CHECK(!sigismember(&pending, SIGRTMIN));

	/* A signal for the main thread stays pending there, not taken by a
	 * waiting thread. */
	ready = 0;
	pthread_create(&t, NULL, waiter, NULL);
	while (!ready)
		usleep(1000);
	usleep(20000);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	usleep(20000);
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGUSR1));
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	siginfo_t si;
	EXPECT_VAL("main thread takes its own", sigwaitinfo(&one, &si), SIGUSR1);
	/* Release the waiter: real-time signals queue, all four arrive. */
	for (int i = 0; i < 4; i++)
		pthread_sigqueue(t, SIGRTMIN, v);
	pthread_join(t, NULL);
	return conformance_done();
}
