// conformance: -pthread
/* Locks and threads: a process's threads share its POSIX locks (no
 * conflict among them), separate descriptions conflict even within one
 * process (a thread waits in flock(2) for another's unlock), and a thread
 * blocked in F_SETLKW does not keep its process from exiting. */
#include "locks.h"

#include <pthread.h>

static char path[64];
static int fd;
static volatile int released;

static void *same_process(void *arg)
{
	(void)arg;
	EXPECT_OK("thread: F_SETLK over the main thread's", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 1));
	getlk("thread: F_GETLK", fd, F_GETLK, F_WRLCK, 0, 0, getpid());
	return NULL;
}

static void *flock_waiter(void *arg)
{
	int mine = open(path, O_RDWR);
	EXPECT_ERR("thread: LOCK_EX|LOCK_NB", flock(mine, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	send_byte(*(int *)arg);
	EXPECT_OK("thread: LOCK_EX waits", flock(mine, LOCK_EX));
	CHECK(released);
	close(mine);
	return NULL;
}

static void *blocked_forever(void *arg)
{
	int mine = open(path, O_RDWR);
	send_byte(*(int *)arg);
	lk(mine, F_SETLKW, F_WRLCK, SEEK_SET, 0, 0);
	printf("FAIL: F_SETLKW returned\n");
	return NULL;
}

int main(void)
{
	conformance_init();
	fd = lock_tmpfile(path, "lock-threads", 10);
	pthread_t t;

	EXPECT_OK("main: F_SETLK write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	pthread_create(&t, NULL, same_process, NULL);
	pthread_join(t, NULL);
	EXPECT_OK("main: unlock", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	int up[2];
	if (pipe(up))
		return 1;
	EXPECT_OK("main: LOCK_EX", flock(fd, LOCK_EX));
	pthread_create(&t, NULL, flock_waiter, &up[1]);
	after_it_blocks(up[0]);
	released = 1;
	int unlocked = flock(fd, LOCK_UN);
	pthread_join(t, NULL);
	CHECK(unlocked == 0);

	EXPECT_OK("main: F_SETLK write again", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	pid_t pid = fork();
	if (pid == 0) {
		pthread_create(&t, NULL, blocked_forever, &up[1]);
		after_it_blocks(up[0]);
		exit(0);
	}
	reap(pid);
	EXPECT_OK("main: still holds it", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));

	close(fd);
	EXPECT_OK("unlink", unlink(path));
	return conformance_done();
}
