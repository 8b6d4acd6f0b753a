/* POSIX lock deadlock detection: two processes each hold a byte and
 * F_SETLKW the other's. Whichever asks second closes the cycle and gets
 * EDEADLK (which one is a race, so only that exactly one did is printed);
 * it then lets go and the other is granted. Three processes in a ring
 * likewise. F_SETLK never says EDEADLK. */
#include "locks.h"

/* Records how a side's F_SETLKW ended: event `side` if EDEADLK. */
static void wait_for(int fd, off_t byte, off_t held, int side)
{
	int r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, byte, 1);
	if (r != 0 && errno == EDEADLK) {
		mark(side);
		lk(fd, F_SETLK, F_UNLCK, SEEK_SET, held, 1);
	} else if (r != 0) {
		printf("FAIL: F_SETLKW: %s\n", errno_name(errno));
		conformance_failures++;
	}
}

int main(void)
{
	conformance_init();
	char path[64], marks_path[64];
	int fd = lock_tmpfile(path, "lock-deadlock", 10);
	lock_marks = lock_tmpfile(marks_path, "lock-deadlock-marks", 0);
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return 1;

	EXPECT_OK("parent: lock byte 0", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	pid_t pid = fork();
	if (pid == 0) {
		lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
		send_byte(up[1]);
		wait_for(fd, 0, 1, 1);
		_exit(conformance_failures ? 1 : 0);
	}
	after_it_blocks(up[0]);
	wait_for(fd, 1, 0, 0);
	reap(pid);
	CHECK(marked(0) + marked(1) == 1);
	EXPECT_OK("parent: unlock", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	/* A ring of three: process i holds byte i and waits for byte i+1. */
	pid_t ring[3];
	for (int i = 0; i < 3; i++) {
		ring[i] = fork();
		if (ring[i] == 0) {
			lk(fd, F_SETLK, F_WRLCK, SEEK_SET, i, 1);
			send_byte(up[1]);
			wait_byte(down[0]);
			usleep(100000 * i);
			wait_for(fd, (i + 1) % 3, i, 2 + i);
			_exit(conformance_failures ? 1 : 0);
		}
		wait_byte(up[0]);
	}
	for (int i = 0; i < 3; i++)
		send_byte(down[1]);
	for (int i = 0; i < 3; i++)
		reap(ring[i]);
	CHECK(marked(2) + marked(3) + marked(4) == 1);

	/* No cycle without a wait: F_SETLK gets EAGAIN. */
	EXPECT_OK("parent: lock byte 0 again", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	pid = fork();
	if (pid == 0) {
		EXPECT_OK("child: lock byte 1", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1));
		send_byte(up[1]);
		wait_byte(down[0]);
		_exit(conformance_failures ? 1 : 0);
	}
	wait_byte(up[0]);
	EXPECT_ERR("parent: F_SETLK byte 1", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1), EAGAIN);
	send_byte(down[1]);
	reap(pid);
	EXPECT_OK("parent: byte 1 after the child's exit", lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1));

	close(fd);
	close(lock_marks);
	EXPECT_OK("unlink", unlink(path));
	EXPECT_OK("unlink marks", unlink(marks_path));
	return conformance_done();
}
