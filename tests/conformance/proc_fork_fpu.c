/*
 * A child starts with its parent's floating-point state (Linux's
 * fpu_clone): the SSE control register (MXCSR rounding mode and exception
 * masks), the x87 control word, and the values in vector registers, for a
 * forked process, a vfork child and a new thread. Each is made twice: the
 * second time, under systrap, the libc syscall site is patched and the
 * parent's state is read from a fast event.
 */
#include "conformance.h"

#include <pthread.h>
#include <sys/wait.h>

static unsigned get_mxcsr(void)
{
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static unsigned short get_fpucw(void)
{
	unsigned short cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

static void report(const char *who)
{
	/* Rounding toward zero shows in SSE arithmetic. */
	volatile double a = 1.0, b = 3.0;
	double q = a / b;
	printf("%s: mxcsr %#x fpucw %#x third*3==1: %d\n", who, get_mxcsr(), get_fpucw(),
	       q * 3.0 == 1.0);
}

static void *thread_main(void *arg)
{
	(void)arg;
	report("thread");
	return NULL;
}

/* fork(2) from a `mov $nr, %eax; syscall` site that systrap patches on its
 * first trap: the second fork's parent state comes from a fast event. */
__attribute__((noinline, aligned(16))) static long raw_fork(void)
{
	long ret;
	__asm__ volatile("mov $57, %%eax\n\tsyscall"
			 : "=a"(ret)
			 :
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

static void children(int round)
{
	printf("round %d\n", round);
	pid_t p = fork();
	if (p == 0) {
		report("fork child");
		_exit(0);
	}
	int status;
	CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status));

	p = raw_fork();
	if (p == 0) {
		report("raw fork child");
		_exit(0);
	}
	CHECK(p > 0 && waitpid(p, &status, 0) == p && WIFEXITED(status));

	p = vfork();
	if (p == 0) {
		/* vfork: only what async-signal-safe code may do. */
		unsigned m = get_mxcsr();
		_exit((m >> 13) & 3);
	}
	CHECK(waitpid(p, &status, 0) == p);
	printf("vfork child rounding bits: %d\n", WEXITSTATUS(status));

	pthread_t t;
	int created = pthread_create(&t, NULL, thread_main, NULL);
	if (created == 0)
		pthread_join(t, NULL);
	CHECK(created == 0);
}

int main(void)
{
	conformance_init();
	report("initial");
	/* SSE and x87 rounding toward zero; x87 double precision. */
	unsigned m = get_mxcsr() | (3 << 13);
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
	unsigned short cw = (get_fpucw() & ~0x300) | 0x200 | 0xc00;
	__asm__ volatile("fldcw %0" : : "m"(cw));
	report("parent");
	for (int round = 0; round < 2; round++)
		children(round);
	return conformance_done();
}
