/* poll and select on both ends of a pseudo-terminal: what each end reports
 * as data moves, a canonical slave waiting for a whole line, a blocked poll
 * woken by the other end, and O_NONBLOCK's EAGAIN. */
#include "pty_helpers.h"
#include <sys/select.h>
#include <sys/wait.h>

int main(void)
{
	conformance_init();
	int fresh = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(revents(fresh) == POLLOUT);
	close(fresh);

	int m, s;
	open_pair(&m, &s);
	struct termios t;
	tcgetattr(s, &t);
	t.c_lflag &= ~ECHO;
	tcsetattr(s, TCSANOW, &t);
	CHECK(revents(m) == POLLOUT);
	CHECK(revents(s) == POLLOUT);

	/* A partial line is not readable in canonical mode; a whole one is. */
	write(m, "part", 4);
	CHECK(!wait_for(s, POLLIN, 100));
	write(m, "\n", 1);
	CHECK(wait_for(s, POLLIN, 1000));
	CHECK(revents(s) == (POLLIN | POLLOUT));
	char buf[64];
	EXPECT_VAL("read line", read(s, buf, sizeof buf), 5);
	CHECK(revents(s) == POLLOUT);

	/* Slave output makes the master readable. */
	write(s, "out", 3);
	CHECK(wait_for(m, POLLIN, 1000));
	CHECK(revents(m) == (POLLIN | POLLOUT));
	read_some("master reads", m, 3);
	CHECK(revents(m) == POLLOUT);

	/* select agrees. */
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(m, &rd);
	FD_SET(s, &rd);
	FD_SET(m, &wr);
	struct timeval tv = { 0, 0 };
	EXPECT_VAL("select: only the master writable", select((m > s ? m : s) + 1, &rd, &wr, NULL, &tv), 1);
	CHECK(FD_ISSET(m, &wr) && !FD_ISSET(m, &rd) && !FD_ISSET(s, &rd));

	/* A blocked poll on the master wakes when a child writes the slave. */
	pid_t kid = fork();
	if (kid == 0) {
		usleep(100000);
		write(s, "late", 4);
		_exit(0);
	}
	struct pollfd p = { m, POLLIN, 0 };
	EXPECT_VAL("poll wakes", poll(&p, 1, 5000), 1);
	CHECK(p.revents == POLLIN);
	read_some("late data", m, 4);
	waitpid(kid, NULL, 0);

	/* And a blocked select on the slave when the parent writes a line. */
	kid = fork();
	if (kid == 0) {
		usleep(100000);
		write(m, "line\n", 5);
		_exit(0);
	}
	FD_ZERO(&rd);
	FD_SET(s, &rd);
	EXPECT_VAL("select wakes", select(s + 1, &rd, NULL, NULL, NULL), 1);
	CHECK(FD_ISSET(s, &rd));
	EXPECT_VAL("read it", read(s, buf, sizeof buf), 5);
	waitpid(kid, NULL, 0);

	/* A blocked read wakes too. */
	kid = fork();
	if (kid == 0) {
		usleep(100000);
		write(s, "r", 1);
		_exit(0);
	}
	EXPECT_VAL("blocking master read", read(m, buf, sizeof buf), 1);
	waitpid(kid, NULL, 0);

	/* O_NONBLOCK on both ends. */
	fcntl(m, F_SETFL, O_NONBLOCK);
	fcntl(s, F_SETFL, O_NONBLOCK);
	EXPECT_ERR("master read, nothing there", read(m, buf, sizeof buf), EAGAIN);
	EXPECT_ERR("slave read, nothing there", read(s, buf, sizeof buf), EAGAIN);
	write(m, "half", 4);
	usleep(50000);
	EXPECT_ERR("slave read, half a line", read(s, buf, sizeof buf), EAGAIN);
	EXPECT_VAL("zero-length read", read(s, buf, 0), 0);
	EXPECT_VAL("zero-length write", write(m, buf, 0), 0);
	return conformance_done();
}
