/* futex(2) error paths and edges: alignment, bad pointers, value
 * mismatches, timeouts (relative, absolute, invalid), bitsets, unknown and
 * flag-restricted operations, requeue counts, a signal during a wait, and
 * futex words in read-only memory. */
#include "conformance.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

static long futex(void *addr, int op, uint32_t val, const void *ts, void *addr2, uint32_t val3)
{
	return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

/* How many waiters are queued on w: a requeue onto itself counts them. */
static long waiters(_Atomic uint32_t *w)
{
	return futex(w, FUTEX_REQUEUE_PRIVATE, 0, (void *)(long)INT_MAX, w, 0);
}

static _Atomic uint32_t word;
static _Atomic int woke_with;

static void *waiter(void *arg)
{
	(void)arg;
	errno = 0;
	long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	atomic_store(&woke_with, r == 0 ? 1 : -errno);
	return NULL;
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
	conformance_init();
	uint32_t v = 7;
	char *unaligned = (char *)&v + 1;

	EXPECT_ERR("wait unaligned", futex(unaligned, FUTEX_WAIT, 7, NULL, NULL, 0), EINVAL);
	EXPECT_ERR("wake unaligned", futex(unaligned, FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
	EXPECT_ERR("wake_op unaligned uaddr2",
		   futex(&v, FUTEX_WAKE_OP, 1, (void *)1, unaligned, 0), EINVAL);

	char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	EXPECT_ERR("wait unmapped", futex(gone, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	EXPECT_ERR("wait_private unmapped", futex(gone, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
	EXPECT_VAL("wake_private unmapped", futex(gone, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
	EXPECT_ERR("wake shared unmapped", futex(gone, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);
	EXPECT_ERR("wait BAD_PTR timeout", futex(&v, FUTEX_WAIT, 7, gone, NULL, 0), EFAULT);

	EXPECT_ERR("wait mismatch", futex(&v, FUTEX_WAIT, 8, NULL, NULL, 0), EAGAIN);
	EXPECT_ERR("wait_private mismatch", futex(&v, FUTEX_WAIT_PRIVATE, 8, NULL, NULL, 0), EAGAIN);
	EXPECT_VAL("wake nobody", futex(&v, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
	EXPECT_VAL("wake -1 nobody", futex(&v, FUTEX_WAKE, -1, NULL, NULL, 0), 0);

	struct timespec zero = {0, 0}, short_ts = {0, 20 * 1000 * 1000};
	struct timespec bad_ns = {0, 1000000000}, neg_ns = {0, -1}, neg_s = {-1, 0};
	EXPECT_ERR("wait zero timeout", futex(&v, FUTEX_WAIT, 7, &zero, NULL, 0), ETIMEDOUT);
	EXPECT_ERR("wait 20ms", futex(&v, FUTEX_WAIT_PRIVATE, 7, &short_ts, NULL, 0), ETIMEDOUT);
	EXPECT_ERR("wait nsec 1e9", futex(&v, FUTEX_WAIT, 7, &bad_ns, NULL, 0), EINVAL);
	EXPECT_ERR("wait nsec -1", futex(&v, FUTEX_WAIT, 7, &neg_ns, NULL, 0), EINVAL);
	EXPECT_ERR("wait sec -1", futex(&v, FUTEX_WAIT, 7, &neg_s, NULL, 0), EINVAL);
	EXPECT_ERR("wait bad timeout, mismatched value", futex(&v, FUTEX_WAIT, 8, &bad_ns, NULL, 0),
		   EINVAL);

	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	EXPECT_ERR("wait_bitset past monotonic deadline",
		   futex(&v, FUTEX_WAIT_BITSET, 7, &now, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	struct timespec soon = now;
	soon.tv_nsec += 20 * 1000 * 1000;
	if (soon.tv_nsec >= 1000000000) {
		soon.tv_sec++;
		soon.tv_nsec -= 1000000000;
	}
	EXPECT_ERR("wait_bitset monotonic deadline",
		   futex(&v, FUTEX_WAIT_BITSET_PRIVATE, 7, &soon, NULL, FUTEX_BITSET_MATCH_ANY),
		   ETIMEDOUT);
	clock_gettime(CLOCK_REALTIME, &now);
	EXPECT_ERR("wait_bitset realtime deadline",
		   futex(&v, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 7, &now, NULL,
			 FUTEX_BITSET_MATCH_ANY),
		   ETIMEDOUT);
	EXPECT_ERR("wait|CLOCK_REALTIME", futex(&v, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 8, NULL,
						 NULL, 0),
		   ENOSYS);
	EXPECT_ERR("wait_bitset bitset 0", futex(&v, FUTEX_WAIT_BITSET, 7, NULL, NULL, 0), EINVAL);
	EXPECT_ERR("wake_bitset bitset 0", futex(&v, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);

	EXPECT_ERR("wake|CLOCK_REALTIME", futex(&v, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL,
						 NULL, 0),
		   ENOSYS);
	EXPECT_ERR("requeue|CLOCK_REALTIME",
		   futex(&v, FUTEX_REQUEUE | FUTEX_CLOCK_REALTIME, 1, NULL, &v, 0), ENOSYS);
	EXPECT_ERR("lock_pi|CLOCK_REALTIME",
		   futex(&v, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0), ENOSYS);
	EXPECT_ERR("FUTEX_FD (2)", futex(&v, 2, 0, NULL, NULL, 0), ENOSYS);
	EXPECT_ERR("op 14", futex(&v, 14, 0, NULL, NULL, 0), ENOSYS);
	EXPECT_ERR("op 127", futex(&v, 127, 0, NULL, NULL, 0), ENOSYS);

	uint32_t w2 = 0;
	EXPECT_ERR("requeue nr_wake -1", futex(&v, FUTEX_REQUEUE, -1, (void *)1, &w2, 0), EINVAL);
	EXPECT_ERR("requeue nr_requeue -1", futex(&v, FUTEX_REQUEUE, 1, (void *)-1L, &w2, 0),
		   EINVAL);
	EXPECT_ERR("cmp_requeue mismatch", futex(&v, FUTEX_CMP_REQUEUE, 1, (void *)1, &w2, 8),
		   EAGAIN);
	EXPECT_VAL("cmp_requeue match, nobody", futex(&v, FUTEX_CMP_REQUEUE, 1, (void *)1, &w2, 7),
		   0);
	EXPECT_ERR("cmp_requeue unmapped", futex(gone, FUTEX_CMP_REQUEUE, 1, (void *)1, &w2, 7),
		   EFAULT);

	/* A word in read-only memory can be waited on, not changed. */
	uint32_t *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_ERR("wait read-only mismatch", futex(ro, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0),
		   EAGAIN);
	EXPECT_ERR("wait read-only timeout", futex(ro, FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0),
		   ETIMEDOUT);
	EXPECT_VAL("wake read-only", futex(ro, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
	EXPECT_ERR("wake_op read-only uaddr2",
		   futex(&v, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, ro, FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0)),
		   EFAULT);
	EXPECT_ERR("lock_pi read-only", futex(ro, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), EFAULT);

	/* Waking counts, and a wait ended by a signal. */
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, waiter, NULL);
	while (waiters(&word) < 3)
		usleep(1000);
	EXPECT_VAL("wake 0 wakes one", futex(&word, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0), 1);
	EXPECT_VAL("wake -1 wakes one", futex(&word, FUTEX_WAKE_PRIVATE, -1, NULL, NULL, 0), 1);
	EXPECT_VAL("shared wake misses private waiters", futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0),
		   0);
	EXPECT_VAL("wake INT_MAX", futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&woke_with) == 1);

	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	atomic_store(&woke_with, 0);
	pthread_create(&t[0], NULL, waiter, NULL);
	while (waiters(&word) < 1)
		usleep(1000);
	pthread_kill(t[0], SIGUSR1);
	pthread_join(t[0], NULL);
	CHECK(atomic_load(&woke_with) == -EINTR);
	return conformance_done();
}
