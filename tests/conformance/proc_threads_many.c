/* Many threads: 64 created and joined, ten rounds; detached threads; all
 * threads' tids distinct; a fork from each round's busiest moment. */
#include "conformance.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define N 64

static _Atomic long total;
static _Atomic int detached_done;
static pid_t tids[N];

static void *work(void *arg)
{
	long i = (long)arg;
	tids[i] = (pid_t)syscall(SYS_gettid);
	long local = 0;
	for (int k = 0; k < 1000; k++)
		local += k % 7;
	atomic_fetch_add(&total, local);
	return (void *)(i + 1);
}

static void *detached(void *arg)
{
	(void)arg;
	atomic_fetch_add(&detached_done, 1);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

int main(void)
{
	conformance_init();
	int bad_joins = 0, dup_tids = 0, forks_ok = 0;
	for (int round = 0; round < 10; round++) {
		pthread_t t[N];
		for (long i = 0; i < N; i++)
			if (pthread_create(&t[i], NULL, work, (void *)i) != 0)
				bad_joins++;
		pid_t c = fork();
		if (c == 0)
			_exit(7);
		for (long i = 0; i < N; i++) {
			void *ret;
			if (pthread_join(t[i], &ret) != 0 || ret != (void *)(i + 1))
				bad_joins++;
		}
		int status;
		if (waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 7)
			forks_ok++;
		qsort(tids, N, sizeof tids[0], cmp);
		for (int i = 1; i < N; i++)
			dup_tids += tids[i] == tids[i - 1] || tids[i] == getpid();
	}
	EXPECT_VAL("bad creates or joins", bad_joins, 0);
	EXPECT_VAL("duplicate tids", dup_tids, 0);
	EXPECT_VAL("forks alongside", forks_ok, 10);
	EXPECT_VAL("total", atomic_load(&total), 10L * N * 2997);

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < N; i++) {
		pthread_t t;
		pthread_create(&t, &attr, detached, NULL);
	}
	for (int i = 0; i < 2000 && atomic_load(&detached_done) < N; i++)
		usleep(1000);
	EXPECT_VAL("detached threads ran", atomic_load(&detached_done), N);
	return conformance_done();
}
