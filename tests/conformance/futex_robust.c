/* Robust futexes: a thread or a process dying while it holds a robust
 * pthread mutex (plain and PRIO_INHERIT, private and process-shared, with
 * and without a waiter blocked on it) makes the next lock return
 * EOWNERDEAD, and so does one whose holder execs; raw robust lists walked
 * at thread death (futex_offset, list_op_pending, the PI bit, a looping
 * list, a list through a bad pointer); get_robust_list and set_robust_list. */
#include "conformance.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

static long futex(void *addr, int op, uint32_t val, const void *ts, void *addr2, uint32_t val3)
{
	return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static uint32_t gettid_u(void) { return (uint32_t)syscall(SYS_gettid); }

#define NO_SUCH_TID 0x3ffffff0u

static void init_robust(pthread_mutex_t *m, int pi, int pshared)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (pi)
		pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	if (pshared)
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(m, &a);
}

static _Atomic int locked;

/* Locks the mutex, tells main, lingers so main can block on it, dies. */
static void *lock_and_die(void *arg)
{
	pthread_mutex_lock(arg);
	atomic_store(&locked, 1);
	usleep(20000);
	return NULL;
}

static void thread_dies_holding(const char *what, int pi, int main_blocks)
{
	pthread_mutex_t m;
	init_robust(&m, pi, 0);
	pthread_t t;
	atomic_store(&locked, 0);
	pthread_create(&t, NULL, lock_and_die, &m);
	while (!atomic_load(&locked))
		usleep(1000);
	if (!main_blocks)
		pthread_join(t, NULL);
	int r = pthread_mutex_lock(&m);
	printf("%s: lock after owner died: %s\n", what, r == EOWNERDEAD ? "EOWNERDEAD" : "other");
	if (r != EOWNERDEAD)
		conformance_failures++;
	if (main_blocks)
		pthread_join(t, NULL);
	EXPECT_VAL("  consistent", pthread_mutex_consistent(&m), 0);
	EXPECT_VAL("  unlock", pthread_mutex_unlock(&m), 0);
	EXPECT_VAL("  lock again", pthread_mutex_lock(&m), 0);
	EXPECT_VAL("  unlock again", pthread_mutex_unlock(&m), 0);
}

static void process_dies_holding(const char *what, int pi, int how)
{
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				  -1, 0);
	_Atomic int *flag = (_Atomic int *)(m + 1);
	init_robust(m, pi, 1);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(m);
		atomic_store(flag, 1);
		usleep(20000);
		if (how == 1)
			raise(SIGKILL);
		if (how == 2)
			execl("/proc/self/exe", "futex_robust", "sleep", (char *)NULL);
		_exit(0);
	}
	while (!atomic_load(flag))
		usleep(1000);
	int r = pthread_mutex_lock(m);
	int status;
	waitpid(pid, &status, 0);
	printf("%s: lock after owner died: %s\n", what, r == EOWNERDEAD ? "EOWNERDEAD" : "other");
	if (r != EOWNERDEAD)
		conformance_failures++;
	EXPECT_VAL("  consistent", pthread_mutex_consistent(m), 0);
	EXPECT_VAL("  unlock", pthread_mutex_unlock(m), 0);
	munmap(m, 4096);
}

/* A raw list: each item's futex word sits at futex_offset from its link. */
struct item {
	uint32_t before;
	uint32_t pad;
	struct robust_list list;
	uint32_t word;
};
#define OFFSET ((long)offsetof(struct item, word) - (long)offsetof(struct item, list))
#define OFFSET_BEFORE ((long)offsetof(struct item, before) - (long)offsetof(struct item, list))
#define PI_LINK(item) ((struct robust_list *)((uintptr_t)&(item)->list | 1))

static struct item a, b, c, d, loop, neg1, neg2;
static struct robust_list_head head1, head3, head4;
static struct item pending_item;
static struct robust_list_head head2;
static _Atomic int got_own_head;

static void *raw_list(void *arg)
{
	(void)arg;
	uint32_t me = gettid_u();
	a.word = me | FUTEX_WAITERS;
	b.word = NO_SUCH_TID;
	c.word = me;
	d.word = me;
	head1.list.next = &a.list;
	a.list.next = &b.list;
	b.list.next = PI_LINK(&c);
	c.list.next = &head1.list;
	head1.futex_offset = OFFSET;
	head1.list_op_pending = &d.list;
	syscall(SYS_set_robust_list, &head1, sizeof head1);
	struct robust_list_head *got;
	size_t len;
	syscall(SYS_get_robust_list, 0, &got, &len);
	atomic_store(&got_own_head, got == &head1 && len == sizeof head1);
	return NULL;
}

/* Its list is empty; list_op_pending is a free non-PI futex with a waiter. */
static void *pending_release(void *arg)
{
	(void)arg;
	head2.list.next = &head2.list;
	head2.futex_offset = OFFSET;
	head2.list_op_pending = &pending_item.list;
	syscall(SYS_set_robust_list, &head2, sizeof head2);
	return NULL;
}

static void *pending_waiter(void *arg)
{
	(void)arg;
	/* Shared, as the kernel's wake-up at thread death is. */
	return (void *)futex(&pending_item.word, FUTEX_WAIT, 0, NULL, NULL, 0);
}

static void *looping_list(void *arg)
{
	(void)arg;
	loop.word = gettid_u();
	loop.list.next = &loop.list;
	head3.list.next = &loop.list;
	head3.futex_offset = OFFSET;
	syscall(SYS_set_robust_list, &head3, sizeof head3);
	return NULL;
}

static void *bad_pointer_list(void *arg)
{
	uint32_t me = gettid_u();
	neg1.before = me;
	neg2.before = me;
	head4.list.next = &neg1.list;
	neg1.list.next = &neg2.list;
	neg2.list.next = arg; /* unmapped: the walk stops here */
	head4.futex_offset = OFFSET_BEFORE;
	syscall(SYS_set_robust_list, &head4, sizeof head4);
	return NULL;
}

static void *bad_head(void *arg)
{
	syscall(SYS_set_robust_list, arg, sizeof(struct robust_list_head));
	return NULL;
}

static _Atomic int parked_tid, release_parked;
static struct robust_list_head parked_head;

static void *parked(void *arg)
{
	(void)arg;
	parked_head.list.next = &parked_head.list;
	syscall(SYS_set_robust_list, &parked_head, sizeof parked_head);
	atomic_store(&parked_tid, (int)gettid_u());
	while (!atomic_load(&release_parked))
		usleep(1000);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		/* The image a holder exec'd: it outlives the lock its old image held. */
		usleep(50000);
		return 0;
	}
	conformance_init();
	thread_dies_holding("thread, robust", 0, 0);
	thread_dies_holding("thread, robust, main blocked", 0, 1);
	thread_dies_holding("thread, robust PI", 1, 0);
	thread_dies_holding("thread, robust PI, main blocked", 1, 1);
	process_dies_holding("process exits, pshared robust", 0, 0);
	process_dies_holding("process killed, pshared robust", 0, 1);
	process_dies_holding("process exits, pshared robust PI", 1, 0);
	process_dies_holding("process killed, pshared robust PI", 1, 1);
	process_dies_holding("process execs, pshared robust", 0, 2);
	process_dies_holding("process execs, pshared robust PI", 1, 2);

	pthread_t t, w;
	pthread_create(&t, NULL, raw_list, NULL);
	pthread_join(t, NULL);
	CHECK(atomic_load(&got_own_head));
	CHECK(a.word == (FUTEX_OWNER_DIED | FUTEX_WAITERS));
	CHECK(b.word == NO_SUCH_TID);
	CHECK(c.word == FUTEX_OWNER_DIED);
	CHECK(d.word == FUTEX_OWNER_DIED);

	pthread_create(&w, NULL, pending_waiter, NULL);
	while (futex(&pending_item.word, FUTEX_REQUEUE, 0, (void *)(long)INT_MAX, &pending_item.word,
		     0) < 1)
		usleep(1000);
	pthread_create(&t, NULL, pending_release, NULL);
	pthread_join(t, NULL);
	void *res;
	pthread_join(w, &res);
	EXPECT_VAL("pending free futex: waiter woken", (long)res, 0);
	EXPECT_VAL("pending free futex: word untouched", pending_item.word, 0);

	pthread_create(&t, NULL, looping_list, NULL);
	pthread_join(t, NULL);
	CHECK(loop.word == FUTEX_OWNER_DIED);

	char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	pthread_create(&t, NULL, bad_pointer_list, gone);
	pthread_join(t, NULL);
	CHECK(neg1.before == FUTEX_OWNER_DIED);
	CHECK(neg2.before == FUTEX_OWNER_DIED);
	pthread_create(&t, NULL, bad_head, gone);
	EXPECT_VAL("unmapped list head: the thread still ends", pthread_join(t, NULL), 0);

	/* get_robust_list and set_robust_list. */
	struct robust_list_head *got = NULL;
	size_t len = 0;
	EXPECT_VAL("get_robust_list self", syscall(SYS_get_robust_list, 0, &got, &len), 0);
	CHECK(got != NULL);
	EXPECT_VAL("head size", len, sizeof(struct robust_list_head));
	struct robust_list_head *mine = got;
	EXPECT_VAL("get_robust_list own tid", syscall(SYS_get_robust_list, gettid_u(), &got, &len), 0);
	CHECK(got == mine);
	pthread_create(&t, NULL, parked, NULL);
	while (!atomic_load(&parked_tid))
		usleep(1000);
	EXPECT_VAL("get_robust_list other thread",
		   syscall(SYS_get_robust_list, atomic_load(&parked_tid), &got, &len), 0);
	CHECK(got == &parked_head);
	atomic_store(&release_parked, 1);
	pthread_join(t, NULL);
	EXPECT_ERR("get_robust_list no such tid",
		   syscall(SYS_get_robust_list, NO_SUCH_TID, &got, &len), ESRCH);
	EXPECT_ERR("get_robust_list pid -1", syscall(SYS_get_robust_list, -1, &got, &len), ESRCH);
	EXPECT_ERR("get_robust_list bad head ptr", syscall(SYS_get_robust_list, 0, BAD_PTR, &len),
		   EFAULT);
	EXPECT_ERR("get_robust_list bad len ptr", syscall(SYS_get_robust_list, 0, &got, BAD_PTR),
		   EFAULT);
	EXPECT_ERR("set_robust_list len 23", syscall(SYS_set_robust_list, mine, 23), EINVAL);
	EXPECT_ERR("set_robust_list len 0", syscall(SYS_set_robust_list, mine, 0), EINVAL);
	EXPECT_VAL("set_robust_list NULL", syscall(SYS_set_robust_list, NULL, 24), 0);
	EXPECT_VAL("get_robust_list after NULL", syscall(SYS_get_robust_list, 0, &got, &len), 0);
	CHECK(got == NULL);
	EXPECT_VAL("set_robust_list back", syscall(SYS_set_robust_list, mine, 24), 0);
	return conformance_done();
}
