/* A pseudo-terminal as a controlling terminal: a session leader's open
 * makes it one (O_NOCTTY does not), /dev/tty then opens it, TIOCGSID,
 * TIOCGPGRP/TIOCSPGRP and their errors, TIOCSCTTY and TIOCNOTTY; the
 * signal characters (^C, ^\, ^Z) reach the foreground group, flush the
 * input unless NOFLSH, and echo as ^X. */
#include "pty_helpers.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t got[65];
static void on_signal(int sig) { got[sig]++; }

static int m, s;
static int ready[2], go[2];

/* Child side: a new session whose controlling terminal is the slave. */
static int session_leader(const char *path)
{
	CHECK(setsid() == getpid());
	EXPECT_ERR("/dev/tty before", open("/dev/tty", O_RDWR), ENXIO);
	int quiet = EXPECT_OK("open slave O_NOCTTY", open(path, O_RDWR | O_NOCTTY));
	EXPECT_ERR("still no /dev/tty", open("/dev/tty", O_RDWR), ENXIO);
	EXPECT_ERR("TIOCGPGRP, not yet controlling", ioctl(quiet, TIOCGPGRP, &(pid_t){0}), ENOTTY);
	int fd = EXPECT_OK("open slave", open(path, O_RDWR));
	pid_t v = 0;
	EXPECT_VAL("TIOCGSID", ioctl(fd, TIOCGSID, &v), 0);
	CHECK(v == getpid());
	EXPECT_VAL("TIOCGPGRP", ioctl(fd, TIOCGPGRP, &v), 0);
	CHECK(v == getpgrp());
	CHECK(tcgetpgrp(quiet) == getpgrp());
	CHECK(tcgetsid(fd) == getpid());
	int tty = EXPECT_OK("open /dev/tty", open("/dev/tty", O_RDWR));
	CHECK(isatty(tty));
	char link[64], target[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", tty);
	ssize_t len = readlink(link, target, sizeof target - 1);
	CHECK(len == 8 && memcmp(target, "/dev/tty", 8) == 0);
	close(tty);
	EXPECT_VAL("TIOCSCTTY again", ioctl(fd, TIOCSCTTY, 0), 0);
	EXPECT_ERR("TIOCSPGRP negative", ioctl(fd, TIOCSPGRP, &(pid_t){-1}), EINVAL);
	EXPECT_ERR("TIOCSPGRP no such group", ioctl(fd, TIOCSPGRP, &(pid_t){4000000}), ESRCH);
	EXPECT_ERR("TIOCSPGRP other session", ioctl(fd, TIOCSPGRP, &(pid_t){getppid()}), EPERM);
	EXPECT_ERR("TIOCSPGRP bad pointer", ioctl(fd, TIOCSPGRP, BAD_PTR), EFAULT);
	EXPECT_VAL("TIOCSPGRP own group", ioctl(fd, TIOCSPGRP, &(pid_t){getpgrp()}), 0);

	/* Give it up and take it back. */
	signal(SIGHUP, SIG_IGN);
	EXPECT_VAL("TIOCNOTTY", ioctl(fd, TIOCNOTTY), 0);
	EXPECT_ERR("/dev/tty after TIOCNOTTY", open("/dev/tty", O_RDWR), ENXIO);
	EXPECT_ERR("TIOCGSID after TIOCNOTTY", ioctl(fd, TIOCGSID, &v), ENOTTY);
	EXPECT_VAL("TIOCSCTTY", ioctl(fd, TIOCSCTTY, 0), 0);
	signal(SIGHUP, SIG_DFL);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGTSTP, &sa, NULL);
	write(ready[1], "r", 1);
	return fd;
}

int main(void)
{
	conformance_init();
	open_pair(&m, &s);
	char path[64];
	snprintf(path, sizeof path, "%s", ptsname(m));
	/* The sandbox runs this as pid 1, a session leader: ask from a child. */
	pid_t kid = fork();
	if (kid == 0) {
		EXPECT_ERR("TIOCSCTTY, not a session leader", ioctl(s, TIOCSCTTY, 0), EPERM);
		_exit(conformance_failures);
	}
	int status;
	CHECK(waitpid(kid, &status, 0) == kid && status == 0);
	pipe(ready);
	pipe(go);
	kid = fork();
	if (kid == 0) {
		session_leader(path);
		char c;
		/* Wait for each signal in turn. */
		int sigs[] = { SIGINT, SIGQUIT, SIGTSTP };
		for (int i = 0; i < 3; i++) {
			while (!got[sigs[i]])
				usleep(1000);
			printf("child got signal %d\n", sigs[i]);
			write(ready[1], "s", 1);
		}
		read(go[0], &c, 1);
		_exit(conformance_failures ? 1 : 0);
	}
	char c;
	CHECK(read(ready[0], &c, 1) == 1 && c == 'r');
	pid_t v;
	EXPECT_VAL("master TIOCGPGRP", ioctl(m, TIOCGPGRP, &v), 0);
	CHECK(v == kid);
	EXPECT_VAL("master TIOCGSID", ioctl(m, TIOCGSID, &v), 0);
	CHECK(v == kid);
	EXPECT_ERR("parent TIOCSCTTY, taken", ioctl(s, TIOCSCTTY, 0), EPERM);

	write(m, "abc\003", 4);
	CHECK(read(ready[0], &c, 1) == 1 && c == 's');
	read_some("echo of ^C", m, 5);
	int avail = -1;
	EXPECT_VAL("FIONREAD after ^C", ioctl(s, FIONREAD, &avail), 0);
	CHECK(avail == 0);

	struct termios t;
	tcgetattr(s, &t);
	t.c_lflag |= NOFLSH;
	tcsetattr(s, TCSANOW, &t);
	write(m, "de\n\034", 4);
	CHECK(read(ready[0], &c, 1) == 1 && c == 's');
	read_some("echo of ^\\", m, 6);
	EXPECT_VAL("FIONREAD after ^\\ with NOFLSH", ioctl(s, FIONREAD, &avail), 0);
	CHECK(avail == 3);

	t.c_lflag &= ~ECHO;
	tcsetattr(s, TCSANOW, &t);
	write(m, "\032", 1);
	CHECK(read(ready[0], &c, 1) == 1 && c == 's');
	CHECK(!wait_for(m, POLLIN, 100));

	/* ISIG off: the characters are input. */
	t.c_lflag &= ~ISIG;
	tcsetattr(s, TCSANOW, &t);
	write(m, "\003\n", 2);
	EXPECT_VAL("FIONREAD, ^C as data", wait_queued(s, 5), 5);

	write(go[1], "g", 1);
	CHECK(waitpid(kid, &status, 0) == kid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return conformance_done();
}
