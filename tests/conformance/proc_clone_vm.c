/* clone(CLONE_VM) without CLONE_THREAD: a process sharing its parent's
 * memory (both see each other's writes, private futexes included);
 * CLONE_VFORK suspends the parent until the child execs or exits; vfork;
 * shared anonymous memory stays shared across fork even for pages first
 * touched after it; CLONE_PARENT; a CLONE_VM child that execs. */
#include "conformance.h"
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static char stack_a[1 << 16] __attribute__((aligned(16)));
static char stack_b[1 << 16] __attribute__((aligned(16)));
static volatile int shared_word;
static _Atomic int flag;
static volatile int vfork_done;

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int child_writes(void *arg)
{
	(void)arg;
	shared_word = 42;
	return 3;
}

/* Waits on a private futex for the parent, then answers through memory. */
static int child_futex(void *arg)
{
	(void)arg;
	while (atomic_load(&flag) == 0)
		syscall(SYS_futex, &flag, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	shared_word = atomic_load(&flag) + 1;
	return 0;
}

/* A CLONE_VFORK child that takes its time: the parent must not run meanwhile. */
static int child_slow(void *arg)
{
	(void)arg;
	sleep_ms(100);
	vfork_done = 1;
	return 0;
}

static int child_ppid(void *arg)
{
	return getppid() == *(pid_t *)arg ? 0 : 1;
}

static int child_exec(void *arg)
{
	(void)arg;
	char *argv[] = {"/bin/sh", "-c", "exit 9", NULL};
	char *envp[] = {NULL};
	execve("/bin/sh", argv, envp);
	return 127;
}

int main(void)
{
	conformance_init();
	int status;

	/* The child's write is the parent's. */
	pid_t pid = clone(child_writes, stack_a + sizeof stack_a, CLONE_VM | SIGCHLD, NULL);
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	EXPECT_VAL("clone_vm shared write", shared_word, 42);

	/* A private futex wakes across CLONE_VM processes: the key is the mm. */
	shared_word = 0;
	pid = clone(child_futex, stack_a + sizeof stack_a, CLONE_VM | SIGCHLD, NULL);
	CHECK(pid > 0);
	sleep_ms(20);
	atomic_store(&flag, 5);
	syscall(SYS_futex, &flag, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_VAL("clone_vm futex answer", shared_word, 6);

	/* CLONE_VFORK: the parent sleeps until the child exits. */
	pid = clone(child_slow, stack_a + sizeof stack_a, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0);
	EXPECT_VAL("vfork parent resumed after child", vfork_done, 1);
	CHECK(waitpid(pid, &status, 0) == pid);

	/* CLONE_VFORK child that execs: the parent resumes, its memory intact. */
	shared_word = 77;
	pid = clone(child_exec, stack_a + sizeof stack_a, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0);
	EXPECT_VAL("memory after child exec", shared_word, 77);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 9);

	/* vfork(): the child's writes land in the parent. */
	volatile int v = 0;
	pid = vfork();
	if (pid == 0) {
		v = 5;
		_exit(4);
	}
	EXPECT_VAL("vfork shared write", v, 5);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4);

	/* Shared anonymous memory: pages touched only after the fork. */
	int *anon = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(anon != MAP_FAILED);
	anon[0] = 1;
	pid = fork();
	if (pid == 0) {
		anon[0] = 2;
		anon[1024] = 3;
		anon[3 * 1024] = 4;
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	EXPECT_VAL("shared anon touched before fork", anon[0], 2);
	EXPECT_VAL("shared anon touched after fork", anon[1024], 3);
	EXPECT_VAL("shared anon last page", anon[3 * 1024], 4);
	/* ... and the other way round. */
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 1000 && anon[2048] != 9; i++)
			sleep_ms(2);
		_exit(anon[2048] == 9 ? 0 : 1);
	}
	anon[2048] = 9;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* MAP_PRIVATE stays private. */
	int *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	priv[0] = 1;
	pid = fork();
	if (pid == 0) {
		priv[0] = 2;
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	EXPECT_VAL("private anon after fork", priv[0], 1);

	/* CLONE_PARENT (from a child, since init has no parent to share):
	 * the grandchild is our sibling. */
	pid = fork();
	if (pid == 0) {
		pid_t me_parent = getppid();
		/* No exit signal given: it gets the one its creator has (SIGCHLD). */
		pid_t c = clone(child_ppid, stack_b + sizeof stack_b, CLONE_PARENT, &me_parent);
		if (c < 0)
			_exit(10);
		/* Not our child: ECHILD. */
		_exit(waitpid(c, NULL, 0) == -1 && errno == ECHILD ? 0 : 11);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	EXPECT_VAL("clone_parent child status", WEXITSTATUS(status), 0);
	/* The sibling is ours to reap. */
	pid_t sib = waitpid(-1, &status, 0);
	CHECK(sib > 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_ERR("no more children", waitpid(-1, NULL, 0), ECHILD);
	return conformance_done();
}
