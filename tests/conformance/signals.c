/*
 * Signal bookkeeping without delivering a signal: rt_sigaction set and read
 * back, EINVAL for SIGKILL/SIGSTOP handlers, bad signal numbers and a bad
 * sigsetsize; rt_sigprocmask block/unblock/setmask with SIGKILL and SIGSTOP
 * silently dropped; rt_sigpending; sigaltstack with SS_DISABLE and ENOMEM for
 * small stacks. Raw syscalls with the kernel's struct, so glibc's own checks
 * and its SA_RESTORER do not get in the way.
 */
#include "conformance.h"

#include <signal.h>

/* struct sigaction as the x86-64 kernel takes it (include/linux/signal_types.h). */
struct kernel_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

#define SIGSET_SIZE 8
#define SA_RESTORER 0x04000000 /* arch/x86/include/uapi/asm/signal.h */
#define SS_AUTODISARM (1U << 31) /* include/uapi/linux/signal.h */
#define BIT(sig) (1UL << ((sig) - 1))

static long raw_sigaction(int sig, const struct kernel_sigaction *act,
			  struct kernel_sigaction *old)
{
	return syscall(SYS_rt_sigaction, sig, act, old, SIGSET_SIZE);
}

static long raw_sigprocmask(int how, const unsigned long *set, unsigned long *old)
{
	return syscall(SYS_rt_sigprocmask, how, set, old, SIGSET_SIZE);
}

static void handler(int sig)
{
	(void)sig;
}

static void restorer(void)
{
}

int main(void)
{
	conformance_init();
	struct kernel_sigaction act, old;
	char label[128];

	/* Every signal starts with SIG_DFL here, except what the runner ignores. */
	EXPECT_VAL("rt_sigaction(SIGUSR1, NULL, &old)", raw_sigaction(SIGUSR1, NULL, &old), 0);
	CHECK(old.handler == SIG_DFL);

	act = (struct kernel_sigaction){
		.handler = (void *)handler,
		.flags = SA_RESTART | SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
		.restorer = (void *)restorer,
		.mask = BIT(SIGUSR2) | BIT(SIGTERM),
	};
	EXPECT_VAL("rt_sigaction(SIGUSR1, handler)", raw_sigaction(SIGUSR1, &act, &old), 0);
	CHECK(old.handler == SIG_DFL);
	memset(&old, 0, sizeof(old));
	EXPECT_VAL("rt_sigaction(SIGUSR1, NULL, &old)", raw_sigaction(SIGUSR1, NULL, &old), 0);
	CHECK(old.handler == (void *)handler);
	CHECK(old.flags == act.flags);
	CHECK(old.restorer == (void *)restorer);
	CHECK(old.mask == act.mask);

	/* SIGKILL and SIGSTOP in sa_mask are dropped silently. */
	act.mask = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGHUP);
	EXPECT_VAL("rt_sigaction(SIGUSR1, mask with SIGKILL)", raw_sigaction(SIGUSR1, &act, NULL),
		   0);
	raw_sigaction(SIGUSR1, NULL, &old);
	printf("sa_mask read back = %#lx\n", old.mask);
	CHECK(old.mask == BIT(SIGHUP));

	act = (struct kernel_sigaction){.handler = SIG_IGN};
	EXPECT_VAL("rt_sigaction(SIGUSR2, SIG_IGN)", raw_sigaction(SIGUSR2, &act, NULL), 0);
	raw_sigaction(SIGUSR2, NULL, &old);
	CHECK(old.handler == SIG_IGN);
	act.handler = SIG_DFL;
	EXPECT_VAL("rt_sigaction(SIGUSR1, SIG_DFL)", raw_sigaction(SIGUSR1, &act, &old), 0);
	CHECK(old.handler == (void *)handler);
	raw_sigaction(SIGUSR2, &act, NULL);
	/* Real-time signals, including the ones glibc reserves for itself. */
	act.handler = (void *)handler;
	for (int sig = 32; sig <= 64; sig += 16) {
		snprintf(label, sizeof(label), "rt_sigaction(%d, handler)", sig);
		EXPECT_VAL(label, raw_sigaction(sig, &act, NULL), 0);
		raw_sigaction(sig, NULL, &old);
		CHECK(old.handler == (void *)handler);
		act.handler = SIG_DFL;
		raw_sigaction(sig, &act, NULL);
		act.handler = (void *)handler;
	}

	/* SIGKILL and SIGSTOP cannot be caught or ignored, but can be read. */
	act = (struct kernel_sigaction){.handler = (void *)handler};
	EXPECT_ERR("rt_sigaction(SIGKILL, handler)", raw_sigaction(SIGKILL, &act, NULL), EINVAL);
	EXPECT_ERR("rt_sigaction(SIGSTOP, handler)", raw_sigaction(SIGSTOP, &act, NULL), EINVAL);
	act.handler = SIG_IGN;
	EXPECT_ERR("rt_sigaction(SIGKILL, SIG_IGN)", raw_sigaction(SIGKILL, &act, NULL), EINVAL);
	act.handler = SIG_DFL;
	EXPECT_ERR("rt_sigaction(SIGSTOP, SIG_DFL)", raw_sigaction(SIGSTOP, &act, NULL), EINVAL);
	EXPECT_VAL("rt_sigaction(SIGKILL, NULL, &old)", raw_sigaction(SIGKILL, NULL, &old), 0);
	CHECK(old.handler == SIG_DFL);
	int bad_sigs[] = {0, 65, -1, 1000};
	for (size_t i = 0; i < sizeof(bad_sigs) / sizeof(bad_sigs[0]); i++) {
		snprintf(label, sizeof(label), "rt_sigaction(%d)", bad_sigs[i]);
		EXPECT_ERR(label, raw_sigaction(bad_sigs[i], NULL, &old), EINVAL);
	}
	EXPECT_ERR("rt_sigaction(sigsetsize 4)",
		   syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL);
	EXPECT_ERR("rt_sigaction(sigsetsize 16)",
		   syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 16), EINVAL);
	EXPECT_ERR("rt_sigaction(act = bad ptr)", raw_sigaction(SIGUSR1, BAD_PTR, NULL), EFAULT);
	EXPECT_ERR("rt_sigaction(old = bad ptr)", raw_sigaction(SIGUSR1, NULL, BAD_PTR), EFAULT);

	/* rt_sigprocmask. */
	unsigned long orig, mask, got;
	EXPECT_VAL("rt_sigprocmask(query)", raw_sigprocmask(SIG_BLOCK, NULL, &orig), 0);
	mask = BIT(SIGUSR1) | BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGRTMIN + 1);
	EXPECT_VAL("rt_sigprocmask(SIG_BLOCK, USR1|KILL|STOP|RT)",
		   raw_sigprocmask(SIG_BLOCK, &mask, &got), 0);
	CHECK(got == orig);
	raw_sigprocmask(SIG_BLOCK, NULL, &got);
	CHECK((got & BIT(SIGUSR1)) != 0);
	CHECK((got & BIT(SIGRTMIN + 1)) != 0);
	CHECK((got & BIT(SIGKILL)) == 0);
	CHECK((got & BIT(SIGSTOP)) == 0);
	mask = BIT(SIGUSR1);
	EXPECT_VAL("rt_sigprocmask(SIG_UNBLOCK, USR1)", raw_sigprocmask(SIG_UNBLOCK, &mask, NULL), 0);
	raw_sigprocmask(SIG_BLOCK, NULL, &got);
	CHECK((got & BIT(SIGUSR1)) == 0);
	CHECK((got & BIT(SIGRTMIN + 1)) != 0);
	mask = ~0UL;
	EXPECT_VAL("rt_sigprocmask(SIG_SETMASK, all)", raw_sigprocmask(SIG_SETMASK, &mask, NULL), 0);
	raw_sigprocmask(SIG_BLOCK, NULL, &got);
	printf("mask after blocking all = %#lx\n", got);
	CHECK(got == (~0UL & ~(BIT(SIGKILL) | BIT(SIGSTOP))));
	mask = 0;
	EXPECT_VAL("rt_sigprocmask(SIG_SETMASK, none)", raw_sigprocmask(SIG_SETMASK, &mask, NULL), 0);
	raw_sigprocmask(SIG_BLOCK, NULL, &got);
	CHECK(got == 0);
	EXPECT_ERR("rt_sigprocmask(how 3)", raw_sigprocmask(3, &mask, NULL), EINVAL);
	EXPECT_ERR("rt_sigprocmask(how -1)", raw_sigprocmask(-1, &mask, NULL), EINVAL);
	/* With no new set, how is not looked at. */
	EXPECT_VAL("rt_sigprocmask(how 99, NULL, &old)", raw_sigprocmask(99, NULL, &got), 0);
	EXPECT_ERR("rt_sigprocmask(sigsetsize 4)",
		   syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 4), EINVAL);
	EXPECT_ERR("rt_sigprocmask(sigsetsize 16)",
		   syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 16), EINVAL);
	EXPECT_ERR("rt_sigprocmask(set = bad ptr)", raw_sigprocmask(SIG_BLOCK, BAD_PTR, NULL),
		   EFAULT);
	EXPECT_ERR("rt_sigprocmask(old = bad ptr)", raw_sigprocmask(SIG_BLOCK, NULL, BAD_PTR),
		   EFAULT);
	raw_sigprocmask(SIG_SETMASK, &orig, NULL);

	/* rt_sigpending: nothing was sent. */
	unsigned long pending = ~0UL;
	EXPECT_VAL("rt_sigpending", syscall(SYS_rt_sigpending, &pending, SIGSET_SIZE), 0);
	CHECK(pending == 0);
	EXPECT_ERR("rt_sigpending(sigsetsize 16)", syscall(SYS_rt_sigpending, &pending, 16),
		   EINVAL);
	EXPECT_ERR("rt_sigpending(bad ptr)", syscall(SYS_rt_sigpending, BAD_PTR, SIGSET_SIZE),
		   EFAULT);

	/* sigaltstack. */
	static char stack_mem[1 << 16];
	stack_t ss, oss;
	EXPECT_VAL("sigaltstack(NULL, &old)", syscall(SYS_sigaltstack, NULL, &oss), 0);
	CHECK(oss.ss_flags == SS_DISABLE);
	ss = (stack_t){.ss_sp = stack_mem, .ss_flags = 0, .ss_size = sizeof(stack_mem)};
	EXPECT_VAL("sigaltstack(64 KiB)", syscall(SYS_sigaltstack, &ss, &oss), 0);
	CHECK(oss.ss_flags == SS_DISABLE);
	memset(&oss, 0, sizeof(oss));
	syscall(SYS_sigaltstack, NULL, &oss);
	CHECK(oss.ss_sp == stack_mem);
	CHECK(oss.ss_size == sizeof(stack_mem));
	CHECK(oss.ss_flags == 0);
	ss.ss_flags = SS_ONSTACK;
	EXPECT_VAL("sigaltstack(SS_ONSTACK)", syscall(SYS_sigaltstack, &ss, NULL), 0);
	ss.ss_flags = SS_AUTODISARM;
	EXPECT_VAL("sigaltstack(SS_AUTODISARM)", syscall(SYS_sigaltstack, &ss, NULL), 0);
	syscall(SYS_sigaltstack, NULL, &oss);
	CHECK(oss.ss_flags == SS_AUTODISARM);
	ss.ss_flags = 0;
	ss.ss_size = 1024;
	EXPECT_ERR("sigaltstack(1 KiB)", syscall(SYS_sigaltstack, &ss, NULL), ENOMEM);
	ss.ss_size = 0;
	EXPECT_ERR("sigaltstack(0 bytes)", syscall(SYS_sigaltstack, &ss, NULL), ENOMEM);
	ss.ss_size = sizeof(stack_mem);
	ss.ss_flags = 0x1234;
	EXPECT_ERR("sigaltstack(flags 0x1234)", syscall(SYS_sigaltstack, &ss, NULL), EINVAL);
	ss.ss_flags = SS_DISABLE;
	ss.ss_size = 0;
	EXPECT_VAL("sigaltstack(SS_DISABLE)", syscall(SYS_sigaltstack, &ss, &oss), 0);
	CHECK(oss.ss_sp == stack_mem);
	syscall(SYS_sigaltstack, NULL, &oss);
	CHECK(oss.ss_flags == SS_DISABLE);
	EXPECT_ERR("sigaltstack(bad ptr)", syscall(SYS_sigaltstack, BAD_PTR, NULL), EFAULT);
	EXPECT_ERR("sigaltstack(old = bad ptr)", syscall(SYS_sigaltstack, NULL, BAD_PTR), EFAULT);

	return conformance_done();
}
