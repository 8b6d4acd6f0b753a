/* flock(2): shared and exclusive locks held by open file descriptions,
 * LOCK_NB, conversions (which drop the old lock first, even when they
 * fail), dups and forked children sharing a description's lock, separate
 * opens conflicting, no interaction with POSIX locks, waiting, SIGALRM
 * interrupting a wait, release on the last close, and the checks. */
#include "locks.h"

#include <sys/stat.h>

static volatile int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

int main(void)
{
	conformance_init();
	char path[64], marks_path[64];
	int fd = lock_tmpfile(path, "flock", 10);
	lock_marks = lock_tmpfile(marks_path, "flock-marks", 0);
	int fd2 = open(path, O_RDWR);

	EXPECT_OK("LOCK_SH", flock(fd, LOCK_SH));
	EXPECT_OK("LOCK_SH again", flock(fd, LOCK_SH));
	EXPECT_OK("second open: LOCK_SH|LOCK_NB", flock(fd2, LOCK_SH | LOCK_NB));
	EXPECT_ERR("second open: LOCK_EX|LOCK_NB", flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* The failed conversion dropped fd2's shared lock. */
	EXPECT_OK("first: LOCK_EX|LOCK_NB", flock(fd, LOCK_EX | LOCK_NB));
	EXPECT_ERR("second open: LOCK_SH|LOCK_NB", flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	EXPECT_OK("POSIX locks do not meet flock", lk(fd2, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	EXPECT_OK("and go their own way", lk(fd2, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	int dup_fd = dup(fd);
	EXPECT_OK("a dup shares it: LOCK_EX|LOCK_NB", flock(dup_fd, LOCK_EX | LOCK_NB));
	EXPECT_OK("a dup converts it: LOCK_SH", flock(dup_fd, LOCK_SH));
	EXPECT_OK("second open: LOCK_SH|LOCK_NB", flock(fd2, LOCK_SH | LOCK_NB));
	EXPECT_OK("second open: LOCK_UN", flock(fd2, LOCK_UN));
	EXPECT_OK("back to LOCK_EX", flock(fd, LOCK_EX));
	EXPECT_OK("close the dup", close(dup_fd));
	EXPECT_ERR("still held", flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK);

	/* A forked child shares the description, and its lock. */
	pid_t pid = fork();
	if (pid == 0) {
		EXPECT_OK("child: LOCK_EX|LOCK_NB, shared description", flock(fd, LOCK_EX | LOCK_NB));
		int mine = open(path, O_RDONLY);
		EXPECT_ERR("child: own open, LOCK_SH|LOCK_NB", flock(mine, LOCK_SH | LOCK_NB),
			   EWOULDBLOCK);
		EXPECT_OK("child: LOCK_UN, shared description", flock(fd, LOCK_UN));
		EXPECT_OK("child: own open, LOCK_EX|LOCK_NB", flock(mine, LOCK_EX | LOCK_NB));
		_exit(conformance_failures ? 1 : 0);
	}
	reap(pid);
	EXPECT_OK("the child's exit freed it", flock(fd2, LOCK_EX | LOCK_NB));

	/* Waiting for a lock, and a signal ending the wait. */
	int up[2];
	if (pipe(up))
		return 1;
	pid = fork();
	if (pid == 0) {
		int mine = open(path, O_RDONLY);
		handle_no_restart(SIGALRM, on_alarm);
		ualarm(100000, 0);
		EXPECT_ERR("child: LOCK_SH, SIGALRM", flock(mine, LOCK_SH), EINTR);
		CHECK(alarms == 1);
		send_byte(up[1]);
		EXPECT_OK("child: LOCK_SH waits", flock(mine, LOCK_SH));
		CHECK(marked(0));
		_exit(conformance_failures ? 1 : 0);
	}
	LET_GO(up[0], 0, pid, flock(fd2, LOCK_UN));

	/* The last close of a description drops its lock. */
	EXPECT_OK("LOCK_EX", flock(fd2, LOCK_EX | LOCK_NB));
	EXPECT_OK("close it", close(fd2));
	EXPECT_OK("then LOCK_EX elsewhere", flock(fd, LOCK_EX | LOCK_NB));
	int ro = open(path, O_RDONLY);
	EXPECT_ERR("O_RDONLY: LOCK_SH|LOCK_NB", flock(ro, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	EXPECT_OK("unlock", flock(fd, LOCK_UN));
	EXPECT_OK("O_RDONLY: LOCK_EX", flock(ro, LOCK_EX));
	EXPECT_OK("LOCK_UN of nothing", flock(fd, LOCK_UN));

	/* The checks. */
	EXPECT_ERR("operation 0", flock(fd, 0), EINVAL);
	EXPECT_ERR("LOCK_SH|LOCK_EX", flock(fd, LOCK_SH | LOCK_EX), EINVAL);
	EXPECT_ERR("LOCK_NB alone", flock(fd, LOCK_NB), EINVAL);
	EXPECT_ERR("LOCK_UN|LOCK_SH", flock(fd, LOCK_UN | LOCK_SH), EINVAL);
	EXPECT_ERR("unknown bit", flock(fd, LOCK_SH | 16), EINVAL);
	EXPECT_ERR("bad operation before bad fd", flock(-1, 0), EINVAL);
	EXPECT_ERR("bad fd", flock(-1, LOCK_SH), EBADF);
	EXPECT_ERR("closed fd", flock(999, LOCK_UN), EBADF);
	EXPECT_OK("LOCK_MAND is ignored", syscall(SYS_flock, fd, 32 | LOCK_SH));
	EXPECT_OK("LOCK_MAND, even on a bad fd", syscall(SYS_flock, -1, 32));
	int op = open(path, O_PATH);
	EXPECT_ERR("O_PATH", flock(op, LOCK_SH), EBADF);
	EXPECT_ERR("O_PATH, LOCK_UN", flock(op, LOCK_UN), EBADF);
	int p[2];
	if (pipe(p))
		return 1;
	EXPECT_OK("a pipe locks", flock(p[0], LOCK_EX | LOCK_NB));
	EXPECT_ERR("its other end is the same inode", flock(p[1], LOCK_EX | LOCK_NB), EWOULDBLOCK);
	EXPECT_OK("a pipe unlocks", flock(p[0], LOCK_UN));
	EXPECT_OK("then the other end locks", flock(p[1], LOCK_EX | LOCK_NB));
	char dir_path[80];
	snprintf(dir_path, sizeof(dir_path), "%s-dir", path);
	EXPECT_OK("mkdir", mkdir(dir_path, 0700));
	int dir = open(dir_path, O_RDONLY | O_DIRECTORY);
	EXPECT_OK("a directory locks", flock(dir, LOCK_EX | LOCK_NB));
	close(dir);
	EXPECT_OK("rmdir", rmdir(dir_path));
	close(p[0]);
	close(p[1]);
	close(op);
	close(ro);

	close(fd);
	close(lock_marks);
	EXPECT_OK("unlink", unlink(path));
	EXPECT_OK("unlink marks", unlink(marks_path));
	return conformance_done();
}
