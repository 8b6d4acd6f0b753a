/* Real-time signals queue (each sigqueue is delivered, in order, with its
 * value) up to RLIMIT_SIGPENDING, standard signals coalesce, and when
 * several are unblocked at once the lowest number is delivered first. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>
#include <sys/resource.h>

static int order[64];
static int values[64];
static volatile int n;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (n < 64) {
		order[n] = sig;
		values[n] = si->si_value.sival_int;
		n++;
	}
}

int main(void)
{
	conformance_init();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask); /* one handler at a time: the order is the queue's */
	int sigs[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGRTMIN, SIGRTMIN + 1, SIGRTMAX};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);

	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);

	/* Real-time signals queue, each with its value, in order. */
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < 5; i++) {
		union sigval v = {.sival_int = 100 + i};
		sigqueue(getpid(), SIGRTMIN, v);
	}
	sigset_t pending;
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGRTMIN));
	sigprocmask(SIG_SETMASK, &none, NULL);
	EXPECT_VAL("rt deliveries", n, 5);
	int in_order = 1;
	for (int i = 0; i < 5; i++)
		in_order &= order[i] == SIGRTMIN && values[i] == 100 + i;
	CHECK(in_order);

	/* Standard signals coalesce, even with sigqueue. */
	n = 0;
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < 5; i++) {
		union sigval v = {.sival_int = i};
		sigqueue(getpid(), SIGUSR1, v);
		kill(getpid(), SIGUSR1);
	}
	sigprocmask(SIG_SETMASK, &none, NULL);
	EXPECT_VAL("standard deliveries", n, 1);
	EXPECT_VAL("the first one's value survives", values[0], 0);

	/* Order: lowest number first, standard before real-time, whatever
	 * the order of sending. */
	n = 0;
	sigprocmask(SIG_BLOCK, &all, NULL);
	union sigval v = {.sival_int = 0};
	sigqueue(getpid(), SIGRTMAX, v);
	sigqueue(getpid(), SIGRTMIN + 1, v);
	kill(getpid(), SIGTERM);
	sigqueue(getpid(), SIGRTMIN, v);
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	sigprocmask(SIG_SETMASK, &none, NULL);
	EXPECT_VAL("deliveries", n, 6);
	int want[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGRTMIN, SIGRTMIN + 1, SIGRTMAX};
	int sorted = 1;
	for (int i = 0; i < 6; i++)
		sorted &= order[i] == want[i];
	CHECK(sorted);

	/* Interleaved real-time signals keep their per-signal order. */
	n = 0;
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < 3; i++) {
		v.sival_int = i;
		sigqueue(getpid(), SIGRTMIN + 1, v);
		v.sival_int = 10 + i;
		sigqueue(getpid(), SIGRTMIN, v);
	}
	sigprocmask(SIG_SETMASK, &none, NULL);
	EXPECT_VAL("interleaved deliveries", n, 6);
	CHECK(order[0] == SIGRTMIN && values[0] == 10 && values[2] == 12);
	CHECK(order[3] == SIGRTMIN + 1 && values[3] == 0 && values[5] == 2);

	/* RLIMIT_SIGPENDING: past it, sigqueue fails with EAGAIN; every
	 * signal it accepted is delivered. */
	struct rlimit rl = {.rlim_cur = 8, .rlim_max = RLIM_INFINITY};
	getrlimit(RLIMIT_SIGPENDING, &rl);
	rl.rlim_cur = 8;
	EXPECT_OK("setrlimit", setrlimit(RLIMIT_SIGPENDING, &rl));
	n = 0;
	sigprocmask(SIG_BLOCK, &all, NULL);
	int accepted = 0, eagain = 0, other = 0;
	for (int i = 0; i < 40; i++) {
		v.sival_int = i;
		if (sigqueue(getpid(), SIGRTMIN, v) == 0)
			accepted++;
		else if (errno == EAGAIN)
			eagain++;
		else
			other++;
	}
	CHECK(accepted > 0 && accepted <= 8);
	CHECK(eagain > 0);
	CHECK(other == 0);
	/* kill() is never refused: its signal stays pending. */
	EXPECT_VAL("kill past the limit", kill(getpid(), SIGRTMIN + 1), 0);
	sigprocmask(SIG_SETMASK, &none, NULL);
	CHECK(n == accepted + 1);
	CHECK(order[n - 1] == SIGRTMIN + 1);

	EXPECT_ERR("sigqueue bad signal", sigqueue(getpid(), 65, v), EINVAL);
	EXPECT_VAL("sigqueue probe", sigqueue(getpid(), 0, v), 0);
	return conformance_done();
}
