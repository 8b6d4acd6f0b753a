/* PI futexes: LOCK_PI, LOCK_PI2, TRYLOCK_PI and UNLOCK_PI on the TID-in-word
 * protocol (EDEADLK, EPERM, ESRCH, EAGAIN, timeouts on both clocks), the
 * hand-off to a waiter on unlock, FUTEX_WAKE refusing PI waiters, the
 * requeue-PI pair, contention between threads on a raw PI lock and on a
 * pthread PTHREAD_PRIO_INHERIT mutex. */
#include "conformance.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static long futex(void *addr, int op, uint32_t val, const void *ts, void *addr2, uint32_t val3)
{
	return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static uint32_t gettid_u(void) { return (uint32_t)syscall(SYS_gettid); }

/* A tid no Linux system hands out (above PID_MAX_LIMIT). */
#define NO_SUCH_TID 0x3ffffff0u

static struct timespec in_ms(clockid_t clock, long ms)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	ts.tv_nsec += ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

static _Atomic uint32_t pi;
static _Atomic int stage;

/* Takes pi through the kernel, reports what the word said, unlocks. */
static void *locker(void *arg)
{
	(void)arg;
	atomic_store(&stage, 1);
	long r = futex(&pi, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
	uint32_t w = atomic_load(&pi);
	int owns = r == 0 && (w & FUTEX_TID_MASK) == gettid_u();
	int waiters_bit = (w & FUTEX_WAITERS) != 0;
	atomic_store(&stage, 2);
	futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
	return (void *)(long)(owns * 2 + waiters_bit);
}

/* Holds pi until stage says to let go. */
static void *holder(void *arg)
{
	(void)arg;
	uint32_t zero = 0;
	atomic_compare_exchange_strong(&pi, &zero, gettid_u());
	atomic_store(&stage, 1);
	while (atomic_load(&stage) != 2)
		usleep(1000);
	futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

/* The user-space fast paths glibc uses, with the kernel for contention. */
static void pi_lock(_Atomic uint32_t *w)
{
	uint32_t zero = 0;
	if (!atomic_compare_exchange_strong(w, &zero, gettid_u()))
		futex(w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
}

static void pi_unlock(_Atomic uint32_t *w)
{
	uint32_t me = gettid_u();
	if (!atomic_compare_exchange_strong(w, &me, 0))
		futex(w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
}

static _Atomic uint32_t hammer_lock;
static long hammer_count;
static pthread_mutex_t inherit;
static long inherit_count;

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		pi_lock(&hammer_lock);
		hammer_count++;
		pi_unlock(&hammer_lock);
		pthread_mutex_lock(&inherit);
		inherit_count++;
		pthread_mutex_unlock(&inherit);
	}
	return NULL;
}

static _Atomic uint32_t cond;

static void *requeue_waiter(void *arg)
{
	(void)arg;
	long r = futex(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, NULL, &pi, 0);
	int owns = r == 0 && (atomic_load(&pi) & FUTEX_TID_MASK) == gettid_u();
	if (owns)
		futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
	return (void *)(long)owns;
}

int main(void)
{
	conformance_init();
	uint32_t me = gettid_u();
	_Atomic uint32_t w = 0;

	EXPECT_VAL("lock_pi free", futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	CHECK(atomic_load(&w) == me);
	EXPECT_ERR("lock_pi again", futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
	EXPECT_ERR("trylock_pi own", futex(&w, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
	EXPECT_ERR("lock_pi2 own", futex(&w, FUTEX_LOCK_PI2_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
	EXPECT_VAL("unlock_pi", futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	CHECK(atomic_load(&w) == 0);
	EXPECT_ERR("unlock_pi unowned", futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EPERM);
	EXPECT_VAL("trylock_pi free", futex(&w, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	CHECK(atomic_load(&w) == me);
	EXPECT_VAL("unlock_pi after trylock", futex(&w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);

	/* OWNER_DIED is kept by a take-over and dropped by an unlock. */
	atomic_store(&w, FUTEX_OWNER_DIED);
	EXPECT_VAL("lock_pi owner-died word", futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	CHECK(atomic_load(&w) == (me | FUTEX_OWNER_DIED));
	EXPECT_VAL("unlock_pi owner-died word", futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		   0);
	CHECK(atomic_load(&w) == 0);

	atomic_store(&w, NO_SUCH_TID);
	EXPECT_ERR("unlock_pi by non-owner", futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		   EPERM);
	EXPECT_ERR("lock_pi dead owner", futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), ESRCH);
	CHECK(atomic_load(&w) == (NO_SUCH_TID | FUTEX_WAITERS));
	EXPECT_ERR("trylock_pi dead owner", futex(&w, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		   ESRCH);
	EXPECT_ERR("lock_pi unaligned", futex((char *)&w + 1, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		   EINVAL);
	EXPECT_ERR("unlock_pi unaligned, not owner",
		   futex((char *)&w + 2, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EPERM);
	uint32_t pair[2] = {0, 0};
	memcpy((char *)pair + 2, &me, sizeof me);
	EXPECT_ERR("unlock_pi unaligned, owner",
		   futex((char *)pair + 2, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EINVAL);

	/* A live owner: trylock fails, timed locks time out on each clock. */
	pthread_t h;
	atomic_store(&pi, 0);
	atomic_store(&stage, 0);
	pthread_create(&h, NULL, holder, NULL);
	while (atomic_load(&stage) != 1)
		usleep(1000);
	EXPECT_ERR("trylock_pi held", futex(&pi, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EAGAIN);
	CHECK((atomic_load(&pi) & FUTEX_WAITERS) != 0);
	struct timespec rt = in_ms(CLOCK_REALTIME, 30), mono = in_ms(CLOCK_MONOTONIC, 30);
	EXPECT_ERR("lock_pi realtime timeout", futex(&pi, FUTEX_LOCK_PI_PRIVATE, 0, &rt, NULL, 0),
		   ETIMEDOUT);
	EXPECT_ERR("lock_pi2 monotonic timeout",
		   futex(&pi, FUTEX_LOCK_PI2_PRIVATE, 0, &mono, NULL, 0), ETIMEDOUT);
	rt = in_ms(CLOCK_REALTIME, 30);
	EXPECT_ERR("lock_pi2 realtime timeout",
		   futex(&pi, FUTEX_LOCK_PI2_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &rt, NULL, 0),
		   ETIMEDOUT);
	struct timespec bad = {0, 1000000000};
	EXPECT_ERR("lock_pi bad timeout", futex(&pi, FUTEX_LOCK_PI_PRIVATE, 0, &bad, NULL, 0), EINVAL);
	CHECK((atomic_load(&pi) & FUTEX_TID_MASK) != me);
	atomic_store(&stage, 2);
	pthread_join(h, NULL);
	CHECK(atomic_load(&pi) == 0);

	/* Hand-off: the waiter owns the futex when the owner unlocks. */
	pthread_t l;
	atomic_store(&pi, me);
	atomic_store(&stage, 0);
	pthread_create(&l, NULL, locker, NULL);
	while ((atomic_load(&pi) & FUTEX_WAITERS) == 0)
		usleep(1000);
	EXPECT_ERR("wake on a PI waiter", futex(&pi, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	EXPECT_ERR("requeue a PI waiter", futex(&pi, FUTEX_REQUEUE_PRIVATE, 0, (void *)1, &w, 0),
		   EINVAL);
	EXPECT_VAL("unlock_pi to waiter", futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	void *res;
	pthread_join(l, &res);
	EXPECT_VAL("waiter owned it, WAITERS set", (long)res, 3);
	CHECK(atomic_load(&pi) == 0);

	/* Requeue-PI: errors, then a take-over and a requeue behind an owner. */
	atomic_store(&cond, 0);
	atomic_store(&pi, 0);
	EXPECT_ERR("wait_requeue_pi same word",
		   futex(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, NULL, &cond, 0), EINVAL);
	EXPECT_ERR("wait_requeue_pi mismatch",
		   futex(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 1, NULL, &pi, 0), EAGAIN);
	struct timespec soon = in_ms(CLOCK_MONOTONIC, 20);
	EXPECT_ERR("wait_requeue_pi timeout",
		   futex(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, &soon, &pi, 0), ETIMEDOUT);
	EXPECT_ERR("cmp_requeue_pi nr_wake 2",
		   futex(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 2, (void *)1, &pi, 0), EINVAL);
	EXPECT_ERR("cmp_requeue_pi same word",
		   futex(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void *)1, &cond, 0), EINVAL);
	EXPECT_ERR("cmp_requeue_pi mismatch",
		   futex(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void *)1, &pi, 5), EAGAIN);
	EXPECT_VAL("cmp_requeue_pi nobody",
		   futex(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void *)1, &pi, 0), 0);

	pthread_t r;
	pthread_create(&r, NULL, requeue_waiter, NULL);
	long n;
	while ((n = futex(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void *)1, &pi, 0)) == 0)
		usleep(1000);
	EXPECT_VAL("cmp_requeue_pi took the free lock for the waiter", n, 1);
	pthread_join(r, &res);
	EXPECT_VAL("requeued waiter owned it", (long)res, 1);

	atomic_store(&pi, me);
	pthread_create(&r, NULL, requeue_waiter, NULL);
	while ((n = futex(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void *)1, &pi, 0)) == 0)
		usleep(1000);
	EXPECT_VAL("cmp_requeue_pi requeued behind the owner", n, 1);
	CHECK(atomic_load(&pi) == (me | FUTEX_WAITERS));
	EXPECT_VAL("unlock_pi to requeued waiter",
		   futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	pthread_join(r, &res);
	EXPECT_VAL("requeued waiter owned it after unlock", (long)res, 1);
	CHECK(atomic_load(&pi) == 0);

	/* Contention. */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	EXPECT_VAL("PTHREAD_PRIO_INHERIT", pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT),
		   0);
	pthread_mutex_init(&inherit, &attr);
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	EXPECT_VAL("raw PI lock count", hammer_count, 8000);
	EXPECT_VAL("PRIO_INHERIT mutex count", inherit_count, 8000);
	CHECK(atomic_load(&hammer_lock) == 0);
	EXPECT_VAL("PRIO_INHERIT trylock", pthread_mutex_trylock(&inherit), 0);
	EXPECT_VAL("PRIO_INHERIT unlock", pthread_mutex_unlock(&inherit), 0);
	return conformance_done();
}
