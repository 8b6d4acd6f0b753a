/* Non-canonical mode: VMIN/VTIME reads (polling, timed, counted and
 * inter-byte timed), poll's VMIN threshold, echo of control characters,
 * ISIG off, flow control with IXON and TCXONC, and the input queue's limit
 * on master writes. */
#include "pty_helpers.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static int m, s;

static void set_cc(int vmin, int vtime)
{
	struct termios t;
	tcgetattr(s, &t);
	t.c_cc[VMIN] = vmin;
	t.c_cc[VTIME] = vtime;
	tcsetattr(s, TCSANOW, &t);
}

static long ms_since(struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A child that writes `first`, waits `ms`, then writes `second` to the master. */
static pid_t typist(const char *first, int ms, const char *second)
{
	pid_t pid = fork();
	if (pid == 0) {
		write(m, first, strlen(first));
		usleep(ms * 1000);
		if (second)
			write(m, second, strlen(second));
		_exit(0);
	}
	return pid;
}

int main(void)
{
	conformance_init();
	open_pair(&m, &s);
	struct termios t;
	char buf[256];

	/* A partial canonical line becomes readable when ICANON goes off, and
	 * raw input becomes one line when it comes back on. */
	tcgetattr(s, &t);
	t.c_lflag &= ~ECHO;
	tcsetattr(s, TCSANOW, &t);
	write(m, "hello", 5);
	CHECK(!wait_for(s, POLLIN, 100));
	t.c_lflag &= ~ICANON;
	tcsetattr(s, TCSANOW, &t);
	CHECK(wait_for(s, POLLIN, 1000));
	EXPECT_VAL("canonical to raw", read(s, buf, sizeof buf), 5);
	write(m, "raw", 3);
	CHECK(wait_queued(s, 3) == 3);
	t.c_lflag |= ICANON;
	tcsetattr(s, TCSANOW, &t);
	CHECK(wait_for(s, POLLIN, 1000));
	EXPECT_VAL("raw to canonical: one line", read(s, buf, sizeof buf), 3);
	CHECK(!wait_for(s, POLLIN, 100));

	tcgetattr(s, &t);
	cfmakeraw(&t);
	EXPECT_VAL("tcsetattr raw", tcsetattr(s, TCSANOW, &t), 0);
	tcgetattr(s, &t);
	CHECK(!(t.c_lflag & (ICANON | ECHO | ISIG)) && !(t.c_oflag & OPOST));
	CHECK(t.c_cc[VMIN] == 1 && t.c_cc[VTIME] == 0);

	write(m, "ab\ncd", 5);
	CHECK(wait_queued(s, 5) == 5);
	EXPECT_VAL("VMIN 1 reads what is there", read(s, buf, sizeof buf), 5);
	CHECK(memcmp(buf, "ab\ncd", 5) == 0);
	write(m, "\003\r", 2);
	CHECK(wait_queued(s, 2) == 2);
	EXPECT_VAL("^C and CR are plain bytes", read(s, buf, sizeof buf), 2);
	CHECK(buf[0] == 3 && buf[1] == '\r');

	/* VMIN 0, VTIME 0: a poll. */
	set_cc(0, 0);
	EXPECT_VAL("VMIN 0 VTIME 0, nothing there", read(s, buf, sizeof buf), 0);

	/* VMIN 0, VTIME 2: waits up to 0.2 s for the first byte. */
	set_cc(0, 2);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_VAL("VMIN 0 VTIME 2 times out", read(s, buf, sizeof buf), 0);
	CHECK(ms_since(&t0) >= 150);
	pid_t kid = typist("z", 0, NULL);
	EXPECT_VAL("VMIN 0 VTIME 2 gets a byte", read(s, buf, sizeof buf), 1);
	waitpid(kid, NULL, 0);

	/* VMIN 3, VTIME 0: waits for three bytes, across writes. */
	set_cc(3, 0);
	kid = typist("1", 100, "23");
	EXPECT_VAL("VMIN 3 waits for 3", read(s, buf, sizeof buf), 3);
	CHECK(memcmp(buf, "123", 3) == 0);
	waitpid(kid, NULL, 0);
	write(m, "45", 2);
	CHECK(wait_queued(s, 2) == 2);
	EXPECT_VAL("VMIN 3, a smaller buffer is enough", read(s, buf, 1), 1);
	EXPECT_VAL("the rest", read(s, buf, 1), 1);

	/* poll waits for VMIN bytes when VTIME is 0. */
	write(m, "67", 2);
	CHECK(wait_queued(s, 2) == 2);
	CHECK(!wait_for(s, POLLIN, 100));
	write(m, "8", 1);
	CHECK(wait_for(s, POLLIN, 1000));
	EXPECT_VAL("read 3", read(s, buf, sizeof buf), 3);

	/* VMIN 5, VTIME 2: the inter-byte timer ends a short read. */
	set_cc(5, 2);
	kid = typist("xy", 0, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_VAL("VMIN 5 VTIME 2 returns 2", read(s, buf, sizeof buf), 2);
	waitpid(kid, NULL, 0);

	/* O_NONBLOCK wins over VMIN/VTIME. */
	set_cc(1, 0);
	int fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	EXPECT_ERR("nonblocking read, nothing there", read(s, buf, sizeof buf), EAGAIN);
	fcntl(s, F_SETFL, fl);

	/* Echo in raw mode shows control characters as ^X (newline too). */
	tcgetattr(s, &t);
	t.c_lflag |= ECHO | ECHOCTL;
	tcsetattr(s, TCSANOW, &t);
	write(m, "a\n\t\001", 4);
	read_some("raw echo", m, 6);
	CHECK(wait_queued(s, 4) == 4);
	read(s, buf, sizeof buf);
	t.c_lflag &= ~(ECHO | ECHOCTL);
	tcsetattr(s, TCSANOW, &t);

	/* IXON: ^S stops slave output, ^Q restarts it; TCOOFF/TCOON too. */
	t.c_iflag |= IXON;
	tcsetattr(s, TCSANOW, &t);
	write(m, "\023", 1);
	usleep(50000);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	EXPECT_ERR("write while stopped", write(s, "o", 1), EAGAIN);
	CHECK(!wait_for(s, POLLOUT, 0));
	write(m, "\021", 1);
	usleep(50000);
	EXPECT_VAL("write after start", write(s, "o", 1), 1);
	read_some("flow output", m, 1);
	EXPECT_VAL("TCOOFF", ioctl(s, TCXONC, TCOOFF), 0);
	EXPECT_ERR("write after TCOOFF", write(s, "p", 1), EAGAIN);
	EXPECT_VAL("TCOON", ioctl(s, TCXONC, TCOON), 0);
	EXPECT_VAL("write after TCOON", write(s, "p", 1), 1);
	read_some("tcoon output", m, 1);
	EXPECT_VAL("FIONREAD empty", ioctl(s, FIONREAD, &(int){0}), 0);
	fcntl(s, F_SETFL, fl);

	/* Nobody reads the slave: nonblocking master writes end with EAGAIN. */
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	static char big[65536];
	long total = 0;
	ssize_t n;
	while ((n = write(m, big, sizeof big)) > 0 && total < (1 << 22))
		total += n;
	CHECK(n == -1 && errno == EAGAIN);
	CHECK(total >= 4095);
	EXPECT_VAL("TCFLSH TCOFLUSH from the master", ioctl(m, TCFLSH, TCOFLUSH), 0);
	CHECK(wait_for(m, POLLOUT, 1000));
	return conformance_done();
}
