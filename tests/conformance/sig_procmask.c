/* rt_sigprocmask edge cases: SIGKILL and SIGSTOP cannot be blocked, a bad
 * `how` is EINVAL when a set is given, a wrong
 * sigsetsize is EINVAL, bad pointers are EFAULT, and rt_sigpending shows
 * only blocked signals. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>

static unsigned long raw_mask(void)
{
	unsigned long m = 0;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

#define BIT(s) (1UL << ((s) - 1))

int main(void)
{
	conformance_init();
	unsigned long all = ~0UL, none = 0, old = 0;
	EXPECT_VAL("block everything", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8), 0);
	unsigned long m = raw_mask();
	CHECK(!(m & BIT(SIGKILL)));
	CHECK(!(m & BIT(SIGSTOP)));
	CHECK(m == (all & ~(BIT(SIGKILL) | BIT(SIGSTOP))));
	EXPECT_VAL("clear", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8), 0);
	unsigned long kill_stop = BIT(SIGKILL) | BIT(SIGSTOP);
	EXPECT_VAL("SIG_BLOCK SIGKILL|SIGSTOP", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &kill_stop, NULL, 8), 0);
	EXPECT_VAL("mask stays empty", raw_mask(), 0);

	unsigned long usr1 = BIT(SIGUSR1);
	EXPECT_VAL("SIG_BLOCK", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, &old, 8), 0);
	EXPECT_VAL("old mask", old, 0);
	EXPECT_ERR("bad how", syscall(SYS_rt_sigprocmask, 3, &usr1, NULL, 8), EINVAL);
	EXPECT_ERR("bad how -1", syscall(SYS_rt_sigprocmask, -1, &usr1, NULL, 8), EINVAL);
	EXPECT_VAL("bad how without a set is fine", syscall(SYS_rt_sigprocmask, 3, NULL, &old, 8), 0);
	EXPECT_VAL("mask unchanged after EINVAL", raw_mask(), usr1);
	EXPECT_ERR("sigsetsize 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, NULL, 4), EINVAL);
	EXPECT_ERR("sigsetsize 16", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, NULL, 16), EINVAL);
	EXPECT_ERR("sigsetsize 0 no sets", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 0), EINVAL);
	EXPECT_ERR("bad set pointer", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD_PTR, NULL, 8), EFAULT);
	EXPECT_ERR("bad oldset pointer", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, BAD_PTR, 8), EFAULT);
	EXPECT_VAL("SIG_UNBLOCK", syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &usr1, &old, 8), 0);
	EXPECT_VAL("old had SIGUSR1", old, usr1);
	EXPECT_VAL("empty again", raw_mask(), 0);

	/* rt_sigpending: blocked pending signals only. */
	signal(SIGUSR2, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	EXPECT_VAL("SIG_BLOCK SIGUSR1", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, NULL, 8), 0);
	kill(getpid(), SIGUSR1); /* blocked: stays pending though ignored */
	kill(getpid(), SIGUSR2); /* ignored and not blocked: discarded */
	unsigned long pend = 0;
	EXPECT_VAL("rt_sigpending", syscall(SYS_rt_sigpending, &pend, 8), 0);
	EXPECT_VAL("pending set", pend, usr1);
	EXPECT_ERR("rt_sigpending size 9", syscall(SYS_rt_sigpending, &pend, 9), EINVAL);
	EXPECT_VAL("rt_sigpending size 4", syscall(SYS_rt_sigpending, &pend, 4), 0);
	EXPECT_ERR("rt_sigpending bad pointer", syscall(SYS_rt_sigpending, BAD_PTR, 8), EFAULT);
	/* Unblocking an ignored pending signal discards it. */
	EXPECT_VAL("SIG_UNBLOCK", syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &usr1, NULL, 8), 0);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, NULL, 8);
	pend = 1;
	syscall(SYS_rt_sigpending, &pend, 8);
	EXPECT_VAL("discarded", pend, 0);

	/* sigaction: SIGKILL/SIGSTOP cannot be caught or ignored. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	EXPECT_ERR("ignore SIGKILL", sigaction(SIGKILL, &sa, NULL), EINVAL);
	EXPECT_ERR("ignore SIGSTOP", sigaction(SIGSTOP, &sa, NULL), EINVAL);
	EXPECT_VAL("read SIGKILL's action", sigaction(SIGKILL, NULL, &sa), 0);
	/* sa_mask never holds SIGKILL/SIGSTOP. */
	struct sigaction in, out;
	memset(&in, 0, sizeof in);
	in.sa_handler = SIG_IGN;
	sigfillset(&in.sa_mask);
	sigaction(SIGUSR2, &in, NULL);
	sigaction(SIGUSR2, NULL, &out);
	CHECK(!sigismember(&out.sa_mask, SIGKILL));
	CHECK(!sigismember(&out.sa_mask, SIGSTOP));
	CHECK(sigismember(&out.sa_mask, SIGTERM));
	return conformance_done();
}
