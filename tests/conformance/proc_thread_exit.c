/* Threads ending while others block: a thread exits while others wait in a
 * futex, a pipe read and nanosleep, and the process goes on and wakes
 * them; the leader exits alone (pthread_exit) and the process lives on
 * until its last thread; exit_group while threads block ends the process
 * at once with the status given. */
#include "conformance.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

static int block_pipe[2];
static _Atomic int futex_word;
static _Atomic int woke;

static void *wait_futex(void *arg)
{
	(void)arg;
	while (atomic_load(&futex_word) == 0)
		syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	atomic_fetch_add(&woke, 1);
	return NULL;
}

static void *wait_read(void *arg)
{
	(void)arg;
	char c;
	if (read(block_pipe[0], &c, 1) == 1)
		atomic_fetch_add(&woke, 1);
	return NULL;
}

static void *wait_sleep(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 200 * 1000000L};
	if (nanosleep(&ts, NULL) == 0)
		atomic_fetch_add(&woke, 1);
	return NULL;
}

static void *exit_now(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return NULL;
}

static void *last_thread(void *arg)
{
	(void)arg;
	usleep(100000);
	/* The leader is gone; the process still answers. */
	int ok = getpid() > 0;
	exit(ok ? 23 : 1);
}

static void *block_forever(void *arg)
{
	(void)arg;
	char c;
	read(block_pipe[0], &c, 1);
	return NULL;
}

/* In a new child: a pipe nobody writes for the blockers to read. */
static void fresh_block_pipe(void)
{
	int p[2];
	pipe(p);
	block_pipe[0] = p[0];
}

int main(void)
{
	conformance_init();
	CHECK(pipe(block_pipe) == 0);
	pthread_t a, b, s, e;
	pthread_create(&a, NULL, wait_futex, NULL);
	pthread_create(&b, NULL, wait_read, NULL);
	pthread_create(&s, NULL, wait_sleep, NULL);
	usleep(20000);
	pthread_create(&e, NULL, exit_now, NULL);
	pthread_join(e, NULL);
	/* The process goes on: fork and wait still work. */
	pid_t c = fork();
	if (c == 0)
		_exit(3);
	int status;
	CHECK(waitpid(c, &status, 0) == c && WEXITSTATUS(status) == 3);
	atomic_store(&futex_word, 1);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	CHECK(write(block_pipe[1], "x", 1) == 1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_join(s, NULL);
	EXPECT_VAL("blocked threads woke", atomic_load(&woke), 3);

	/* The leader leaves first. */
	c = fork();
	if (c == 0) {
		pthread_t t;
		pthread_create(&t, NULL, last_thread, NULL);
		pthread_exit(NULL);
	}
	CHECK(waitpid(c, &status, 0) == c);
	CHECK(WIFEXITED(status));
	EXPECT_VAL("status of the last thread's exit", WEXITSTATUS(status), 23);

	/* exit_group while threads block everywhere. */
	for (int round = 0; round < 5; round++) {
		c = fork();
		if (c == 0) {
			fresh_block_pipe();
			atomic_store(&futex_word, 0);
			pthread_t t;
			pthread_create(&t, NULL, block_forever, NULL);
			pthread_create(&t, NULL, wait_futex, NULL);
			pthread_create(&t, NULL, wait_sleep, NULL);
			usleep(10000 * round);
			_exit(17);
		}
		CHECK(waitpid(c, &status, 0) == c);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 17);
	}

	/* A thread calls exit_group while the leader blocks in read. */
	c = fork();
	if (c == 0) {
		fresh_block_pipe();
		pthread_t t;
		pthread_create(&t, NULL, last_thread, NULL);
		char ch;
		read(block_pipe[0], &ch, 1);
		_exit(1);
	}
	CHECK(waitpid(c, &status, 0) == c);
	EXPECT_VAL("exit_group from a thread", WEXITSTATUS(status), 23);
	return conformance_done();
}
