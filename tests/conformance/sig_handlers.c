/* Signal handlers: delivery by kill/raise, siginfo, masks during handlers,
 * SA_RESETHAND, SA_NODEFER, sigaltstack, rt_sigreturn restoring registers,
 * sigsuspend, and a SIGSEGV handler recovering with siglongjmp. */
#include "conformance.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t got;
static volatile int got_code;
static volatile int mask_had_self;
static volatile int on_altstack;
static char altstack[65536];
static sigjmp_buf env;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig;
	got_code = si->si_code;
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	mask_had_self = sigismember(&now, sig);
	char here;
	on_altstack = &here >= altstack && &here < altstack + sizeof altstack;
}

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(env, 1);
}

static void nop(int sig)
{
	(void)sig;
}

int main(void)
{
	conformance_init();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

	EXPECT_VAL("raise(SIGUSR1)", raise(SIGUSR1), 0);
	CHECK(got == SIGUSR1);
	CHECK(got_code == SI_TKILL || got_code == SI_USER);
	CHECK(mask_had_self);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(!sigismember(&now, SIGUSR1));

	/* Blocked, then pending, then delivered on unblock. */
	got = 0;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	CHECK(got == 0);
	sigset_t pending;
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	CHECK(got == SIGUSR1);

	/* SA_NODEFER: the signal is not blocked in its handler. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	CHECK(!mask_had_self);

	/* The alternate stack. */
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
	CHECK(sigaltstack(&ss, NULL) == 0);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	CHECK(on_altstack);

	/* SA_RESETHAND: one delivery, then the default action. */
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	struct sigaction old;
	sigaction(SIGUSR1, NULL, &old);
	CHECK(old.sa_handler == SIG_DFL);

	/* A fault handler that jumps out. */
	signal(SIGSEGV, on_segv);
	volatile int recovered = 0;
	if (sigsetjmp(env, 1) == 0) {
		*(volatile int *)8 = 1;
	} else {
		recovered = 1;
	}
	CHECK(recovered);

	/* Floating point state survives a handler that uses it. */
	signal(SIGUSR2, nop);
	volatile double d = 1.5;
	raise(SIGUSR2);
	CHECK(d * 2 == 3.0);

	/* sigsuspend: a signal from a child wakes it; the mask comes back. */
	signal(SIGUSR2, nop);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0) {
		kill(parent, SIGUSR2);
		_exit(0);
	}
	sigset_t empty;
	sigemptyset(&empty);
	EXPECT_ERR("sigsuspend", sigsuspend(&empty), EINTR);
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR2));
	waitpid(child, NULL, 0);

	/* A blocking read interrupted by a handler without SA_RESTART. */
	int p[2];
	pipe(p);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = nop;
	sigaction(SIGUSR2, &sa, NULL);
	child = fork();
	if (child == 0) {
		usleep(50000);
		kill(parent, SIGUSR2);
		usleep(50000);
		write(p[1], "z", 1);
		_exit(0);
	}
	char c;
	EXPECT_ERR("read interrupted (no SA_RESTART)", read(p[0], &c, 1), EINTR);
	/* With SA_RESTART the same read is restarted and gets the byte. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
	EXPECT_VAL("read after restart", read(p[0], &c, 1), 1);
	waitpid(child, NULL, 0);

	EXPECT_ERR("sigaction(SIGKILL)", sigaction(SIGKILL, &sa, NULL), EINVAL);
	EXPECT_ERR("kill bad signal", kill(getpid(), 65), EINVAL);
	EXPECT_ERR("kill no such pid", kill(0x3fffffff, SIGUSR1), ESRCH);
	EXPECT_VAL("kill(pid, 0)", kill(getpid(), 0), 0);
	return conformance_done();
}
