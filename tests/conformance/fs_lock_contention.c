/* Record locks between processes: F_SETLK fails with EAGAIN while another
 * process holds a conflicting lock, F_SETLKW waits until it goes (unlock
 * or exit), a signal interrupts the wait (EINTR) or restarts it
 * (SA_RESTART), and a waiter can be killed. Pipes sequence the two sides;
 * marks in a second file record what happened first, so only invariants
 * print. */
#include "locks.h"

static volatile int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Child of part 1: blocked by the parent's lock, then granted. */
static void waiter(int fd, int to_parent, int from_parent)
{
	EXPECT_ERR("child: F_SETLK write on parent's", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 1),
		   EAGAIN);
	EXPECT_ERR("child: F_SETLK read on parent's", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0),
		   EAGAIN);
	EXPECT_OK("child: F_SETLK beyond", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10));
	send_byte(to_parent);
	EXPECT_OK("child: F_SETLKW waits", lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 10));
	CHECK(marked(0)); /* granted only once the parent unlocked */
	send_byte(to_parent);
	after_it_blocks(from_parent);
	mark(1);
}

/* Child of part 2: a signal ends the wait, or restarts it. */
static void interrupted(int fd, int to_parent)
{
	handle_no_restart(SIGALRM, on_alarm);
	ualarm(100000, 0);
	EXPECT_ERR("child: F_SETLKW, SIGALRM", lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1), EINTR);
	CHECK(alarms == 1);

	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	send_byte(to_parent);
	ualarm(100000, 0);
	EXPECT_OK("child: F_SETLKW, SIGALRM with SA_RESTART",
		  lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
	CHECK(alarms == 2);
	CHECK(marked(2)); /* granted only once the parent unlocked */
}

int main(void)
{
	conformance_init();
	char path[64];
	int fd = lock_tmpfile(path, "lock-contention", 100);
	char marks_path[64];
	lock_marks = lock_tmpfile(marks_path, "lock-contention-marks", 0);
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return 1;

	/* 1: the child waits for the parent's unlock; the parent waits for
	 * the child's exit. */
	EXPECT_OK("parent: write lock 0..10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	pid_t pid = fork();
	if (pid == 0) {
		waiter(fd, up[1], down[0]);
		_exit(conformance_failures ? 1 : 0);
	}
	after_it_blocks(up[0]);
	mark(0);
	int unlocked = lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
	wait_byte(up[0]);
	CHECK(unlocked == 0);
	EXPECT_ERR("parent: F_SETLK on child's", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 9, 2), EAGAIN);
	getlk("parent: F_GETLK", fd, F_GETLK, F_RDLCK, 0, 0, pid);
	send_byte(down[1]);
	EXPECT_OK("parent: F_SETLKW until the child exits",
		  lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 0));
	CHECK(marked(1));
	reap(pid);

	/* 2: signals while waiting. */
	pid = fork();
	if (pid == 0) {
		interrupted(fd, up[1]);
		_exit(conformance_failures ? 1 : 0);
	}
	usleep(300000); /* past the child's SIGALRM */
	LET_GO(up[0], 2, pid, lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	/* 3: a waiter is killed; the holder is unaffected. */
	EXPECT_OK("parent: write lock again", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	pid = fork();
	if (pid == 0) {
		send_byte(up[1]);
		lk(fd, F_SETLKW, F_RDLCK, SEEK_SET, 0, 0);
		_exit(3);
	}
	after_it_blocks(up[0]);
	kill(pid, SIGKILL);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	getlk("parent: own lock still there", fd, F_GETLK, F_WRLCK, 0, 0, getpid());
	EXPECT_OK("parent: unlock", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	/* 4: readers share, a writer waits for all of them. */
	EXPECT_OK("parent: read lock", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
	pid = fork();
	if (pid == 0) {
		EXPECT_OK("child: read lock too", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
		EXPECT_ERR("child: no write lock", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0), EAGAIN);
		send_byte(up[1]);
		EXPECT_OK("child: F_SETLKW upgrade", lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 0));
		CHECK(marked(3));
		_exit(conformance_failures ? 1 : 0);
	}
	LET_GO(up[0], 3, pid, lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	close(fd);
	close(lock_marks);
	EXPECT_OK("unlink", unlink(path));
	EXPECT_OK("unlink marks", unlink(marks_path));
	return conformance_done();
}
