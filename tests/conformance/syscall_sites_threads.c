/* Syscall sites hammered by several threads at once: a `mov $nr, %eax;
 * syscall` site (the shape systrap patches on its first trap) executed by 8
 * threads while it is being rewritten, plus the same calls through libc
 * and through syscall(2), which stays on the trapped path. Every call must
 * return what the kernel says, whichever path it took. */
#include "conformance.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define THREADS 8
#define ROUNDS 3000

static pid_t want_ppid, want_pid;
static _Atomic int wrong;
static _Atomic int go;

/* The patchable shape, 8-aligned so that it can be rewritten atomically. */
__attribute__((noinline, aligned(16))) static long raw_getppid(void)
{
	long ret;
	__asm__ volatile("mov $110, %%eax\n\tsyscall"
			 : "=a"(ret)
			 :
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

__attribute__((noinline, aligned(16))) static long raw_getpid(void)
{
	long ret;
	__asm__ volatile("mov $39, %%eax\n\tsyscall"
			 : "=a"(ret)
			 :
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

static void *hammer(void *arg)
{
	long n = (long)arg;
	while (!atomic_load(&go))
		;
	for (int i = 0; i < ROUNDS; i++) {
		long a = raw_getppid();
		long b = raw_getpid();
		long c = (i + n) % 3 == 0 ? getppid() : syscall(SYS_getppid);
		if (a != want_ppid || b != want_pid || c != want_ppid)
			atomic_fetch_add(&wrong, 1);
	}
	return NULL;
}

int main(void)
{
	conformance_init();
	want_ppid = getppid();
	want_pid = getpid();
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, hammer, (void *)i) == 0);
	atomic_store(&go, 1);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	printf("wrong results: %d\n", atomic_load(&wrong));
	CHECK(atomic_load(&wrong) == 0);
	/* The sites still work after the threads are gone, and in a child. */
	CHECK(raw_getppid() == want_ppid);
	pid_t child = fork();
	if (child == 0)
		_exit(raw_getppid() == want_pid && raw_getpid() == getpid() ? 0 : 1);
	int status = 0;
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return conformance_done();
}
