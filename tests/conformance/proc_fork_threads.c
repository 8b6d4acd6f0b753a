/* fork in a multi-threaded process: the other threads are busy (spinning,
 * allocating, holding a mutex) while the leader forks; the child has one
 * thread, can malloc and take the mutex glibc's atfork handlers and our
 * own reset, and exits cleanly. Also fork from a non-leader thread. */
#include "conformance.h"
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

static _Atomic int stop;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

static void *spin(void *arg)
{
	(void)arg;
	volatile unsigned long n = 0;
	while (!atomic_load(&stop))
		n++;
	return NULL;
}

static void *allocate(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		void *p[16];
		for (int i = 0; i < 16; i++)
			p[i] = malloc(32 + i * 100);
		for (int i = 0; i < 16; i++)
			free(p[i]);
	}
	return NULL;
}

static void *hold_lock(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		pthread_mutex_lock(&held);
		usleep(100);
		pthread_mutex_unlock(&held);
	}
	return NULL;
}

static void prepare(void) { pthread_mutex_lock(&held); }
static void release(void) { pthread_mutex_unlock(&held); }

static int count_threads(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The child's work: 0 if all went well. */
static int child_body(void)
{
	int ok = count_threads() == 1;
	for (int i = 0; i < 100; i++) {
		char *p = malloc(1000 + i);
		if (!p)
			return 2;
		memset(p, i, 1000 + i);
		free(p);
	}
	pthread_mutex_lock(&held);
	pthread_mutex_unlock(&held);
	pthread_t t;
	if (pthread_create(&t, NULL, spin, NULL) != 0)
		return 3;
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	return ok ? 0 : 1;
}

static void *fork_from_thread(void *arg)
{
	(void)arg;
	pid_t c = fork();
	if (c == 0)
		_exit(child_body());
	int status;
	waitpid(c, &status, 0);
	return (void *)(long)(WIFEXITED(status) ? WEXITSTATUS(status) : 100);
}

int main(void)
{
	conformance_init();
	pthread_atfork(prepare, release, release);
	pthread_t t[4];
	pthread_create(&t[0], NULL, spin, NULL);
	pthread_create(&t[1], NULL, allocate, NULL);
	pthread_create(&t[2], NULL, allocate, NULL);
	pthread_create(&t[3], NULL, hold_lock, NULL);
	usleep(10000);
	int good = 0;
	for (int i = 0; i < 10; i++) {
		pid_t c = fork();
		if (c == 0)
			_exit(child_body());
		int status;
		if (waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			good++;
	}
	EXPECT_VAL("children that ran cleanly", good, 10);
	pthread_t f;
	void *ret;
	pthread_create(&f, NULL, fork_from_thread, NULL);
	pthread_join(f, &ret);
	EXPECT_VAL("child of a non-leader thread", (long)ret, 0);
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/* A joined thread may still be on its way out of the kernel. */
	for (int i = 0; i < 500 && count_threads() > 1; i++)
		usleep(1000);
	EXPECT_VAL("threads left", count_threads(), 1);
	return conformance_done();
}
