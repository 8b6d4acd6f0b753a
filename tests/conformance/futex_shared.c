/* Shared (non-PRIVATE) futexes between processes over MAP_SHARED anonymous
 * memory: a parent and two children hammer one counter under a futex lock,
 * a child's wait is ended by its parent's wake, a process-shared pthread
 * mutex and condition variable, and private futexes staying apart. */
#include "conformance.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static long futex(void *addr, int op, uint32_t val, const void *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

struct shared {
	_Atomic uint32_t lock;
	_Atomic uint32_t gate;
	_Atomic uint32_t private_word;
	long count;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	int ready;
};

static void lock(_Atomic uint32_t *w)
{
	uint32_t c = 0;
	if (atomic_compare_exchange_strong(w, &c, 1))
		return;
	if (c != 2)
		c = atomic_exchange(w, 2);
	while (c != 0) {
		futex(w, FUTEX_WAIT, 2, NULL);
		c = atomic_exchange(w, 2);
	}
}

static void unlock(_Atomic uint32_t *w)
{
	if (atomic_fetch_sub(w, 1) != 1) {
		atomic_store(w, 0);
		futex(w, FUTEX_WAKE, 1, NULL);
	}
}

static void hammer(struct shared *s)
{
	for (int i = 0; i < 2000; i++) {
		lock(&s->lock);
		s->count++;
		unlock(&s->lock);
	}
}

static long waiters(_Atomic uint32_t *w)
{
	return syscall(SYS_futex, w, FUTEX_REQUEUE, 0, (void *)(long)INT_MAX, w, 0);
}

int main(void)
{
	conformance_init();
	struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
				0);
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			hammer(s);
			_exit(0);
		}
	}
	hammer(s);
	for (int i = 0; i < 2; i++)
		waitpid(kids[i], NULL, 0);
	EXPECT_VAL("count from three processes", s->count, 6000);
	EXPECT_VAL("lock word at the end", atomic_load(&s->lock), 0);

	/* A child waits on the gate; the parent sees it queued and wakes it. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(futex(&s->gate, FUTEX_WAIT, 0, NULL) == 0 ? 0 : 1);
	while (waiters(&s->gate) < 1)
		usleep(1000);
	EXPECT_VAL("parent wakes the child", futex(&s->gate, FUTEX_WAKE, 1, NULL), 1);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* A private futex in shared memory belongs to one process only. */
	pid = fork();
	if (pid == 0) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		errno = 0;
		futex(&s->private_word, FUTEX_WAIT_PRIVATE, 0, &ts);
		_exit(errno == ETIMEDOUT ? 0 : 1);
	}
	usleep(20000);
	EXPECT_VAL("private wake from another process",
		   futex(&s->private_word, FUTEX_WAKE_PRIVATE, 1, NULL), 0);
	EXPECT_VAL("shared wake of a private waiter", futex(&s->private_word, FUTEX_WAKE, 1, NULL),
		   0);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Process-shared pthread mutex and condition variable. */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->mutex, &ma);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&s->cond, &ca);
	pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(&s->mutex);
		while (!s->ready)
			pthread_cond_wait(&s->cond, &s->mutex);
		s->ready = 2;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->mutex);
		_exit(0);
	}
	usleep(10000);
	pthread_mutex_lock(&s->mutex);
	s->ready = 1;
	pthread_cond_signal(&s->cond);
	while (s->ready != 2)
		pthread_cond_wait(&s->cond, &s->mutex);
	pthread_mutex_unlock(&s->mutex);
	waitpid(pid, &status, 0);
	EXPECT_VAL("condvar round trip between processes", s->ready, 2);
	return conformance_done();
}
