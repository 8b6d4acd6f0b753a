/* sigaltstack edge cases: SS_DISABLE, changing it while on it (EPERM),
 * too small (ENOMEM), bad flags (EINVAL), SS_ONSTACK reported inside the
 * handler, SS_AUTODISARM, and the stack restored by sigreturn. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>
#include <stdint.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char stack_a[65536], stack_b[65536];
static volatile int in_handler_flags = -1, change_err = -1, disable_err = -1;
static volatile int on_a;
static volatile int autodisarm_flags = -1;

static void on_usr1(int sig)
{
	(void)sig;
	char here;
	on_a = &here >= stack_a && &here < stack_a + sizeof stack_a;
	stack_t cur;
	sigaltstack(NULL, &cur);
	in_handler_flags = cur.ss_flags;
	stack_t other = {.ss_sp = stack_b, .ss_size = sizeof stack_b};
	change_err = sigaltstack(&other, NULL) == -1 ? errno : 0;
	stack_t off = {.ss_flags = SS_DISABLE};
	disable_err = sigaltstack(&off, NULL) == -1 ? errno : 0;
}

static void on_usr2(int sig)
{
	(void)sig;
	stack_t cur;
	sigaltstack(NULL, &cur);
	autodisarm_flags = cur.ss_flags;
}

int main(void)
{
	conformance_init();
	stack_t cur;
	EXPECT_VAL("query", sigaltstack(NULL, &cur), 0);
	EXPECT_VAL("disabled at start", cur.ss_flags, SS_DISABLE);

	/* The kernel's MINSIGSTKSZ is 2048 (glibc's macro may be larger). */
	stack_t small = {.ss_sp = stack_a, .ss_size = 2047};
	EXPECT_ERR("too small", sigaltstack(&small, NULL), ENOMEM);
	small.ss_size = 0;
	EXPECT_ERR("size 0", sigaltstack(&small, NULL), ENOMEM);
	stack_t badflags = {.ss_sp = stack_a, .ss_size = sizeof stack_a, .ss_flags = 0x10};
	EXPECT_ERR("bad flags", sigaltstack(&badflags, NULL), EINVAL);
	EXPECT_ERR("bad pointer", sigaltstack(BAD_PTR, NULL), EFAULT);
	EXPECT_ERR("bad old pointer", sigaltstack(NULL, BAD_PTR), EFAULT);

	/* SS_DISABLE ignores the size. */
	stack_t off = {.ss_sp = stack_a, .ss_size = 1, .ss_flags = SS_DISABLE};
	EXPECT_VAL("SS_DISABLE with a tiny size", sigaltstack(&off, NULL), 0);
	sigaltstack(NULL, &cur);
	CHECK(cur.ss_flags == SS_DISABLE);
	CHECK(cur.ss_size == 0 && cur.ss_sp == NULL);

	/* SS_ONSTACK as a flag to set is accepted (treated as 0). */
	stack_t a = {.ss_sp = stack_a, .ss_size = sizeof stack_a, .ss_flags = SS_ONSTACK};
	EXPECT_VAL("set with SS_ONSTACK", sigaltstack(&a, NULL), 0);
	sigaltstack(NULL, &cur);
	EXPECT_VAL("flags read back", cur.ss_flags, 0);
	CHECK(cur.ss_sp == stack_a && cur.ss_size == sizeof stack_a);
	a.ss_size = 2048;
	EXPECT_VAL("exactly 2048", sigaltstack(&a, NULL), 0);
	a.ss_size = sizeof stack_a;
	a.ss_flags = 0;
	sigaltstack(&a, NULL);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	CHECK(on_a);
	EXPECT_VAL("SS_ONSTACK inside the handler", in_handler_flags, SS_ONSTACK);
	EXPECT_VAL("change while on it", change_err, EPERM);
	EXPECT_VAL("disable while on it", disable_err, EPERM);
	sigaltstack(NULL, &cur);
	EXPECT_VAL("after the handler", cur.ss_flags, 0);
	CHECK(cur.ss_sp == stack_a);

	/* SS_AUTODISARM: disabled while the handler runs, back after it. */
	a.ss_flags = SS_AUTODISARM;
	EXPECT_VAL("SS_AUTODISARM", sigaltstack(&a, NULL), 0);
	sigaltstack(NULL, &cur);
	CHECK(cur.ss_flags == SS_AUTODISARM);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	EXPECT_VAL("inside an autodisarmed handler", autodisarm_flags, SS_DISABLE);
	sigaltstack(NULL, &cur);
	CHECK(cur.ss_flags == SS_AUTODISARM);
	CHECK(cur.ss_sp == stack_a);

	/* Disabled: handlers with SA_ONSTACK run on the normal stack. */
	off.ss_flags = SS_DISABLE;
	sigaltstack(&off, NULL);
	on_a = 1;
	raise(SIGUSR1);
	CHECK(!on_a);
	EXPECT_VAL("flags in handler when disabled", in_handler_flags, SS_DISABLE);
	return conformance_done();
}
