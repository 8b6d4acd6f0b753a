/* 32 threads hammer one counter under a futex-based mutex (Drepper's
 * three-state lock, private futexes), then under a pthread mutex with a
 * condition variable handing out turns; only the final counts print. */
#include "conformance.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define THREADS 32
#define ROUNDS 500

static long futex(void *addr, int op, uint32_t val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* 0 free, 1 locked, 2 locked with waiters. */
static _Atomic uint32_t lock_word;
static long futex_count;

static void futex_lock(void)
{
	uint32_t c = 0;
	if (atomic_compare_exchange_strong(&lock_word, &c, 1))
		return;
	if (c != 2)
		c = atomic_exchange(&lock_word, 2);
	while (c != 0) {
		futex(&lock_word, FUTEX_WAIT_PRIVATE, 2);
		c = atomic_exchange(&lock_word, 2);
	}
}

static void futex_unlock(void)
{
	if (atomic_fetch_sub(&lock_word, 1) != 1) {
		atomic_store(&lock_word, 0);
		futex(&lock_word, FUTEX_WAKE_PRIVATE, 1);
	}
}

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static long mutex_count;
static int turn;

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < ROUNDS; i++) {
		futex_lock();
		futex_count++;
		futex_unlock();
		pthread_mutex_lock(&mutex);
		mutex_count++;
		pthread_mutex_unlock(&mutex);
	}
	/* Turns in id order: each thread waits for its own on the condvar. */
	for (int i = 0; i < 5; i++) {
		pthread_mutex_lock(&mutex);
		while (turn % THREADS != id)
			pthread_cond_wait(&turn_changed, &mutex);
		turn++;
		pthread_cond_broadcast(&turn_changed);
		pthread_mutex_unlock(&mutex);
	}
	return NULL;
}

int main(void)
{
	conformance_init();
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT_VAL("futex mutex count", futex_count, THREADS * ROUNDS);
	EXPECT_VAL("pthread mutex count", mutex_count, THREADS * ROUNDS);
	EXPECT_VAL("condvar turns", turn, THREADS * 5);
	EXPECT_VAL("lock word at the end", atomic_load(&lock_word), 0);
	return conformance_done();
}
