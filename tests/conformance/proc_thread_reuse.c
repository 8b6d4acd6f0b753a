/*
 * Threads created one after another, each after the last has exited,
 * start from their creator's state and never from the state the one
 * before them left behind (under systrap the host thread of an ended
 * thread is parked and taken by the next one): the creator's SSE control
 * register and x87 control word, the thread's own TLS (fs base), a clean
 * signal mask inherited from the creator, and no alternate signal stack.
 * Each thread changes all of these before it exits.
 */
#include "conformance.h"

#include <pthread.h>
#include <signal.h>

static unsigned get_mxcsr(void)
{
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static void set_mxcsr(unsigned m)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

static unsigned short get_fpucw(void)
{
	unsigned short cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

static void set_fpucw(unsigned short cw)
{
	__asm__ volatile("fldcw %0" : : "m"(cw));
}

static __thread int tls_value = 7;
static int bad_fpu, bad_tls, bad_mask, bad_altstack;
static unsigned want_mxcsr;
static unsigned short want_fpucw;

static void *thread_main(void *arg)
{
	long round = (long)arg;
	if (get_mxcsr() != want_mxcsr || get_fpucw() != want_fpucw)
		bad_fpu++;
	if (tls_value != 7)
		bad_tls++;
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	if (!sigismember(&now, SIGUSR1) || sigismember(&now, SIGUSR2))
		bad_mask++;
	stack_t ss;
	if (sigaltstack(NULL, &ss) != 0 || !(ss.ss_flags & SS_DISABLE))
		bad_altstack++;

	/* Leave everything changed for whoever comes next. */
	set_mxcsr(0x1f80 ^ 0x6000 ^ (unsigned)(round & 1) << 13);
	set_fpucw((unsigned short)(0x037f ^ 0x0c00));
	tls_value = (int)round + 100;
	sigset_t other;
	sigemptyset(&other);
	sigaddset(&other, SIGUSR2);
	sigprocmask(SIG_SETMASK, &other, NULL);
	static char stacks[64][16384];
	stack_t mine = { .ss_sp = stacks[round % 64], .ss_size = sizeof stacks[0] };
	sigaltstack(&mine, NULL);
	return NULL;
}

int main(void)
{
	conformance_init();
	/* Round toward zero, and x87 single precision. */
	set_mxcsr(0x1f80 | 0x6000);
	set_fpucw((unsigned short)(0x037f & ~0x0300));
	want_mxcsr = get_mxcsr();
	want_fpucw = get_fpucw();
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_SETMASK, &mask, NULL);

	for (long round = 0; round < 40; round++) {
		pthread_t t;
		CHECK(pthread_create(&t, NULL, thread_main, (void *)round) == 0);
		CHECK(pthread_join(t, NULL) == 0);
	}
	EXPECT_VAL("threads that saw another FPU state", bad_fpu, 0);
	EXPECT_VAL("threads that saw another TLS", bad_tls, 0);
	EXPECT_VAL("threads that saw another signal mask", bad_mask, 0);
	EXPECT_VAL("threads that saw an alternate stack", bad_altstack, 0);
	EXPECT_VAL("main thread's TLS", tls_value, 7);
	CHECK(get_mxcsr() == want_mxcsr && get_fpucw() == want_fpucw);
	return conformance_done();
}
