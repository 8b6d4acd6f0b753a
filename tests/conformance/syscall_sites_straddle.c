/* `mov $nr, %eax; syscall` sites at every alignment: systrap patches a site
 * whose 7 bytes straddle two 8-byte words only while the trapping thread is
 * the address space's only one. The first set is first called by a lone
 * thread (patched), then hammered by threads; the second set is first
 * called by several threads at once (left on the trapped path). Every call
 * must return what the kernel says, and the sites keep working in a child
 * and after a signal interrupts a call made through one. */
#include "conformance.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <sys/wait.h>

#define THREADS 4
#define ROUNDS 500

/* The site after `k` one-byte nops, in a 16-aligned function. */
#define SITE(name, k, nr)                                                          \
	__attribute__((noinline, aligned(16))) static long name(void)              \
	{                                                                          \
		long ret;                                                          \
		__asm__ volatile(".fill " #k ", 1, 0x90\n\tmov $" #nr ", %%eax\n\tsyscall" \
				 : "=a"(ret)                                       \
				 :                                                 \
				 : "rcx", "r11", "memory", "cc");                  \
		return ret;                                                        \
	}

SITE(pid0, 0, 39)
SITE(pid1, 1, 39)
SITE(pid2, 2, 39)
SITE(pid3, 3, 39)
SITE(pid4, 4, 39)
SITE(pid5, 5, 39)
SITE(pid6, 6, 39)
SITE(pid7, 7, 39)
SITE(ppid0, 0, 110)
SITE(ppid1, 1, 110)
SITE(ppid2, 2, 110)
SITE(ppid3, 3, 110)
SITE(ppid4, 4, 110)
SITE(ppid5, 5, 110)
SITE(ppid6, 6, 110)
SITE(ppid7, 7, 110)

static long (*const pids[8])(void) = {pid0, pid1, pid2, pid3, pid4, pid5, pid6, pid7};
static long (*const ppids[8])(void) = {ppid0, ppid1, ppid2, ppid3, ppid4, ppid5, ppid6, ppid7};

static pid_t want_pid, want_ppid;
static _Atomic int wrong;
static _Atomic int go;

static void *hammer(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		;
	for (int i = 0; i < ROUNDS; i++)
		for (int k = 0; k < 8; k++)
			if (pids[k]() != want_pid || ppids[k]() != want_ppid)
				atomic_fetch_add(&wrong, 1);
	return NULL;
}

/* pause(2) through a site at every alignment, interrupted by a signal. */
#define PAUSE_SITE(name, k)                                                        \
	__attribute__((noinline, aligned(16))) static long name(void)              \
	{                                                                          \
		long ret;                                                          \
		__asm__ volatile(".fill " #k ", 1, 0x90\n\tmov $34, %%eax\n\tsyscall" \
				 : "=a"(ret)                                       \
				 :                                                 \
				 : "rcx", "r11", "memory", "cc");                  \
		return ret;                                                        \
	}
PAUSE_SITE(pause3, 3)

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	conformance_init();
	want_pid = getpid();
	want_ppid = getppid();
	for (int i = 0; i < 100; i++)
		for (int k = 0; k < 8; k++)
			if (pids[k]() != want_pid)
				atomic_fetch_add(&wrong, 1);
	printf("alone: wrong results: %d\n", atomic_load(&wrong));

	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, hammer, (void *)i) == 0);
	atomic_store(&go, 1);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	printf("threads: wrong results: %d\n", atomic_load(&wrong));

	pid_t child = fork();
	if (child == 0) {
		int bad = 0;
		for (int k = 0; k < 8; k++)
			bad |= pids[k]() != getpid() || ppids[k]() != want_pid;
		_exit(bad);
	}
	int status = 0;
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	struct sigaction sa = {.sa_handler = on_alarm};
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	for (int i = 0; i < 2; i++) {
		struct itimerval soon = {.it_value = {.tv_usec = 20000}};
		CHECK(setitimer(ITIMER_REAL, &soon, NULL) == 0);
		long r = pause3();
		printf("pause %d: %s\n", i, r == -EINTR ? "EINTR" : "other");
	}
	return conformance_done();
}
