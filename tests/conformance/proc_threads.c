/* Threads: create/join, mutexes and condition variables, futexes hammered
 * by 16 threads, thread ids, a thread exiting while others block, tgkill
 * to one thread, and a fork from a multi-threaded process. */
#include "conformance.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int arrived;
static _Atomic int word;
static _Atomic int handled_by_tid;

static void *count(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	arrived++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return arg;
}

static void *futex_hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		int v = atomic_fetch_add(&word, 1) + 1;
		syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, v + 1000000, NULL, NULL, 0);
	}
	return NULL;
}

static void *tid_differs(void *arg)
{
	(void)arg;
	return (void *)(long)(syscall(SYS_gettid) != getpid());
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&handled_by_tid, (int)syscall(SYS_gettid));
}

static _Atomic int target_tid;
static void *wait_for_signal(void *arg)
{
	(void)arg;
	atomic_store(&target_tid, (int)syscall(SYS_gettid));
	while (atomic_load(&handled_by_tid) == 0)
		usleep(1000);
	return NULL;
}

static void *exits_early(void *arg)
{
	(void)arg;
	pthread_exit((void *)7);
}

int main(void)
{
	conformance_init();
	pthread_t t[8];
	for (long i = 0; i < 8; i++)
		CHECK(pthread_create(&t[i], NULL, count, (void *)i) == 0);
	pthread_mutex_lock(&lock);
	while (arrived < 8)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	long sum = 0;
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		sum += (long)r;
	}
	CHECK(counter == 8 * 20000);
	CHECK(sum == 28);

	pthread_t h[16];
	for (int i = 0; i < 16; i++)
		pthread_create(&h[i], NULL, futex_hammer, NULL);
	for (int i = 0; i < 16; i++)
		pthread_join(h[i], NULL);
	CHECK(atomic_load(&word) == 16 * 2000);

	pthread_t d;
	void *r;
	pthread_create(&d, NULL, tid_differs, NULL);
	pthread_join(d, &r);
	CHECK(r == (void *)1);

	pthread_create(&d, NULL, exits_early, NULL);
	pthread_join(d, &r);
	CHECK(r == (void *)7);

	signal(SIGUSR1, on_usr1);
	pthread_create(&d, NULL, wait_for_signal, NULL);
	while (atomic_load(&target_tid) == 0)
		usleep(1000);
	int tid = atomic_load(&target_tid);
	EXPECT_VAL("tgkill to a thread", syscall(SYS_tgkill, getpid(), tid, SIGUSR1), 0);
	pthread_join(d, NULL);
	CHECK(atomic_load(&handled_by_tid) == tid);
	EXPECT_ERR("tgkill wrong group", syscall(SYS_tgkill, getpid() + 100000, tid, SIGUSR1), ESRCH);

	/* fork from a multi-threaded process: the child has one thread. */
	pthread_create(&d, NULL, wait_for_signal, NULL);
	pid_t child = fork();
	if (child == 0)
		_exit(7);
	int status;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	atomic_store(&handled_by_tid, 1);
	pthread_join(d, NULL);
	return conformance_done();
}
