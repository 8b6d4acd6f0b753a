/* FUTEX_WAKE_OP: every operation (SET, ADD, OR, ANDN, XOR, with and without
 * FUTEX_OP_OPARG_SHIFT) and every comparison, with one waiter queued on each
 * word: the resulting word and how many waiters each call woke. Unknown
 * operations and comparisons, bad addresses and negative arguments too. */
#include "conformance.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

static long futex(void *addr, int op, uint32_t val, const void *ts, void *addr2, uint32_t val3)
{
	return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static long waiters(_Atomic uint32_t *w)
{
	return futex(w, FUTEX_REQUEUE_PRIVATE, 0, (void *)(long)INT_MAX, w, 0);
}

static _Atomic uint32_t w1, w2;

static void *wait_on(void *arg)
{
	_Atomic uint32_t *w = arg;
	futex(w, FUTEX_WAIT_PRIVATE, atomic_load(w), NULL, NULL, 0);
	return NULL;
}

/* One call with a waiter on each word; prints the new word and the count. */
static void one(const char *name, uint32_t start, uint32_t encoded)
{
	pthread_t a, b;
	atomic_store(&w1, 0);
	atomic_store(&w2, start);
	pthread_create(&a, NULL, wait_on, (void *)&w1);
	pthread_create(&b, NULL, wait_on, (void *)&w2);
	while (waiters(&w1) < 1 || waiters(&w2) < 1)
		usleep(500);
	errno = 0;
	long r = futex(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &w2, encoded);
	int e = errno;
	long left = futex(&w1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) +
		    futex(&w2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (r < 0)
		printf("%s: %s, word %d, left %ld\n", name, errno_name(e), (int)atomic_load(&w2),
		       left);
	else
		printf("%s: woke %ld, word %d, left %ld\n", name, r, (int)atomic_load(&w2), left);
}

int main(void)
{
	conformance_init();
	static const char *ops[] = {"SET", "ADD", "OR", "ANDN", "XOR"};
	static const char *cmps[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
	char name[64];
	for (int op = 0; op < 5; op++) {
		for (int shift = 0; shift < 2; shift++) {
			int flag = shift ? FUTEX_OP_OPARG_SHIFT : 0;
			snprintf(name, sizeof name, "%s%s 6", ops[op], shift ? "|SHIFT" : "");
			one(name, 12, FUTEX_OP((op | flag), 6, FUTEX_OP_CMP_EQ, 12));
		}
	}
	/* Each comparison against the old value 5: below, equal and above. */
	for (int cmp = 0; cmp < 6; cmp++) {
		for (int arg = 4; arg <= 6; arg++) {
			snprintf(name, sizeof name, "ADD 1, old %s %d", cmps[cmp], arg);
			one(name, 5, FUTEX_OP(FUTEX_OP_ADD, 1, cmp, arg));
		}
	}
	/* Signed 12-bit arguments: comparisons are signed. */
	one("SET -1, old -3 LT -2", (uint32_t)-3, FUTEX_OP(FUTEX_OP_SET, 0xfff, FUTEX_OP_CMP_LT, 0xffe));
	one("ADD -2048, old 0 GE -1", 0, FUTEX_OP(FUTEX_OP_ADD, 0x800, FUTEX_OP_CMP_GE, 0xfff));
	one("SET 2047, old 2047 EQ 2047", 2047, FUTEX_OP(FUTEX_OP_SET, 2047, FUTEX_OP_CMP_EQ, 2047));
	one("OR|SHIFT 31", 1, FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 31, FUTEX_OP_CMP_NE, 0));
	one("SET|SHIFT 35 (masked to 3)", 0,
	    FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 35, FUTEX_OP_CMP_EQ, 0));
	one("XOR|SHIFT -1 (masked to 31)", 0,
	    FUTEX_OP((FUTEX_OP_XOR | FUTEX_OP_OPARG_SHIFT), 0xfff, FUTEX_OP_CMP_EQ, 0));
	/* Unknown: an operation leaves the word alone, a comparison does not. */
	one("op 5", 9, FUTEX_OP(5, 1, FUTEX_OP_CMP_EQ, 9));
	one("op 7|SHIFT", 9, FUTEX_OP((7 | FUTEX_OP_OPARG_SHIFT), 1, FUTEX_OP_CMP_EQ, 9));
	one("cmp 6", 9, FUTEX_OP(FUTEX_OP_ADD, 1, 6, 9));
	one("cmp 15", 9, FUTEX_OP(FUTEX_OP_SET, 3, 15, 9));

	/* Counts: zero and negative counts wake one; nr_wake2 from the timeout
	 * register. */
	uint32_t plain = 0;
	EXPECT_VAL("nobody queued", futex(&plain, FUTEX_WAKE_OP, 5, (void *)5, &plain,
					  FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)),
		   0);
	EXPECT_VAL("same word twice", plain, 1);
	uint32_t *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	EXPECT_ERR("uaddr2 read-only", futex(&plain, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, ro, 0),
		   EFAULT);
	EXPECT_ERR("uaddr2 unmapped", futex(&plain, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, gone, 0),
		   EFAULT);
	EXPECT_ERR("uaddr2 unaligned",
		   futex(&plain, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, (char *)&plain + 2, 0), EINVAL);
	EXPECT_ERR("uaddr1 unaligned",
		   futex((char *)&plain + 1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &plain, 0), EINVAL);
	EXPECT_ERR("shared uaddr1 unmapped", futex(gone, FUTEX_WAKE_OP, 1, (void *)1, &plain, 0),
		   EFAULT);
	EXPECT_VAL("private uaddr1 unmapped",
		   futex(gone, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &plain, 0), 0);

	/* Several waiters: counts are capped by nr_wake and nr_wake2. */
	pthread_t t[6];
	atomic_store(&w1, 0);
	atomic_store(&w2, 0);
	for (int i = 0; i < 3; i++) {
		pthread_create(&t[i], NULL, wait_on, (void *)&w1);
		pthread_create(&t[3 + i], NULL, wait_on, (void *)&w2);
	}
	while (waiters(&w1) < 3 || waiters(&w2) < 3)
		usleep(500);
	EXPECT_VAL("wake 2 + 1", futex(&w1, FUTEX_WAKE_OP_PRIVATE, 2, (void *)1, &w2,
				      FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)),
		   3);
	EXPECT_VAL("wake 0 + -1", futex(&w1, FUTEX_WAKE_OP_PRIVATE, 0, (void *)-1L, &w2,
				       FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 1)),
		   2);
	EXPECT_VAL("wake rest, comparison false", futex(&w1, FUTEX_WAKE_OP_PRIVATE, INT_MAX,
							(void *)(long)INT_MAX, &w2,
							FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)),
		   0);
	EXPECT_VAL("wake last on w2", futex(&w2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	EXPECT_VAL("w2 after three ADDs", atomic_load(&w2), 3);
	return conformance_done();
}
