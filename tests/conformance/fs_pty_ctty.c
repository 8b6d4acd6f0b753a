/* Controlling terminal ownership: a terminal belongs to one session;
 * another session leader's TIOCSCTTY fails with EPERM unless it steals it
 * (argument 1, CAP_SYS_ADMIN), after which the first session has none; a
 * leader that already has one cannot take a second; and a non-leader
 * member shares its session's terminal through /dev/tty. */
#include "pty_helpers.h"
#include <signal.h>
#include <sys/wait.h>

static int step[2], done_[2];

static void wait_step(void)
{
	char c;
	read(step[0], &c, 1);
}

int main(void)
{
	conformance_init();
	int m, s;
	open_pair(&m, &s);
	char path[64];
	snprintf(path, sizeof path, "%s", ptsname(m));
	pipe(step);
	pipe(done_);
	int root = geteuid() == 0;

	pid_t first = fork();
	if (first == 0) {
		setsid();
		int fd = open(path, O_RDWR);
		/* A member of the session (not its leader) shares the terminal. */
		pid_t member = fork();
		if (member == 0) {
			int tty = open("/dev/tty", O_RDWR);
			pid_t sid = 0;
			int ok = tty >= 0 && ioctl(tty, TIOCGSID, &sid) == 0 && sid == getsid(0);
			_exit(ok ? 0 : 1);
		}
		int status;
		waitpid(member, &status, 0);
		printf("member shares the terminal: %s\n", status == 0 ? "yes" : "no");
		/* A second terminal cannot be taken while this one controls. */
		int m2 = posix_openpt(O_RDWR | O_NOCTTY);
		unlockpt(m2);
		int other = open(ptsname(m2), O_RDWR | O_NOCTTY);
		EXPECT_ERR("TIOCSCTTY on a second terminal", ioctl(other, TIOCSCTTY, 0), EPERM);
		write(done_[1], "1", 1);
		wait_step();
		/* The second session took it. */
		if (root) {
			EXPECT_ERR("/dev/tty after the steal", open("/dev/tty", O_RDWR), ENXIO);
			EXPECT_ERR("TIOCGPGRP after the steal", ioctl(fd, TIOCGPGRP, &(pid_t){0}), ENOTTY);
		}
		write(done_[1], "2", 1);
		_exit(conformance_failures);
	}
	char c;
	read(done_[0], &c, 1);

	pid_t second = fork();
	if (second == 0) {
		setsid();
		int fd = open(path, O_RDWR);
		EXPECT_ERR("open did not take it", open("/dev/tty", O_RDWR), ENXIO);
		EXPECT_ERR("TIOCSCTTY 0, taken", ioctl(fd, TIOCSCTTY, 0), EPERM);
		if (root) {
			EXPECT_VAL("TIOCSCTTY 1 steals it", ioctl(fd, TIOCSCTTY, 1), 0);
			pid_t sid = 0;
			ioctl(fd, TIOCGSID, &sid);
			CHECK(sid == getpid());
			CHECK(tcgetpgrp(fd) == getpgrp());
		}
		_exit(conformance_failures);
	}
	int status;
	CHECK(waitpid(second, &status, 0) == second && status == 0);
	write(step[1], "s", 1);
	read(done_[0], &c, 1);
	CHECK(waitpid(first, &status, 0) == first && status == 0);
	return conformance_done();
}
