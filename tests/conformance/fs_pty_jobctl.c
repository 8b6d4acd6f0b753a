/* Job control on a pseudo-terminal: a background process group's read
 * stops it with SIGTTIN (EIO if it ignores SIGTTIN or its group is
 * orphaned); its write succeeds unless TOSTOP is set, then SIGTTOU stops it
 * (unless it ignores SIGTTOU); tcsetattr and tcsetpgrp from the background
 * stop it with SIGTTOU; the getters do not. An orphaned group gets EIO. */
#include "pty_helpers.h"
#include <signal.h>
#include <sys/wait.h>

static int fd;

/* Runs `job` in a new background process group; returns how it ended:
 * "stopped by N" (then killed), or its exit status. */
static void background(const char *label, int (*job)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(job());
	}
	setpgid(pid, pid);
	int status;
	waitpid(pid, &status, WUNTRACED);
	if (WIFSTOPPED(status)) {
		printf("%s: stopped by %s\n", label, sigabbrev_np(WSTOPSIG(status)));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	} else if (WIFEXITED(status)) {
		int e = WEXITSTATUS(status);
		printf("%s: %s\n", label, e ? strerrorname_np(e) : "ok");
	} else {
		printf("%s: signal %d\n", label, WTERMSIG(status));
	}
}

static int do_read(void)
{
	char c;
	return read(fd, &c, 1) < 0 ? errno : 0;
}

static int read_ignoring(void)
{
	signal(SIGTTIN, SIG_IGN);
	return do_read();
}

static int read_blocking(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTTIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return do_read();
}

static int do_write(void)
{
	return write(fd, "w", 1) == 1 ? 0 : errno;
}

static int write_ignoring(void)
{
	signal(SIGTTOU, SIG_IGN);
	return do_write();
}

static int do_tcsetattr(void)
{
	struct termios t;
	tcgetattr(fd, &t);
	return tcsetattr(fd, TCSANOW, &t) == 0 ? 0 : errno;
}

static int getters(void)
{
	struct termios t;
	struct winsize ws;
	return tcgetattr(fd, &t) == 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 &&
			       tcgetpgrp(fd) != getpgrp()
		       ? 0
		       : 1;
}

static int set_foreground(void)
{
	return tcsetpgrp(fd, getpgrp()) == 0 ? 0 : errno;
}

static int take_foreground(void)
{
	signal(SIGTTOU, SIG_IGN);
	return set_foreground();
}

int main(void)
{
	conformance_init();
	int m, s;
	open_pair(&m, &s);
	char path[64];
	snprintf(path, sizeof path, "%s", ptsname(m));
	pid_t leader = fork();
	if (leader == 0) {
		close(m);
		close(s);
		setsid();
		fd = open(path, O_RDWR);
		CHECK(tcgetpgrp(fd) == getpgrp());
		background("background read", do_read);
		background("background read, SIGTTIN ignored", read_ignoring);
		background("background read, SIGTTIN blocked", read_blocking);
		background("background write", do_write);
		background("background tcsetattr", do_tcsetattr);
		background("background getters", getters);
		struct termios t;
		tcgetattr(fd, &t);
		t.c_lflag |= TOSTOP;
		tcsetattr(fd, TCSANOW, &t);
		background("background write, TOSTOP", do_write);
		background("background write, TOSTOP, SIGTTOU ignored", write_ignoring);
		EXPECT_VAL("foreground write, TOSTOP", write(fd, "f", 1), 1);

		/* tcsetpgrp from the background: SIGTTOU, unless ignored. */
		background("background tcsetpgrp", set_foreground);
		CHECK(tcgetpgrp(fd) == getpgrp());
		background("background tcsetpgrp, SIGTTOU ignored", take_foreground);
		CHECK(tcgetpgrp(fd) != getpgrp());

		/* Now the leader is in the background, and its group is orphaned
		 * (its parent is in another session): EIO instead of stopping. */
		char c;
		EXPECT_ERR("orphaned background read", read(fd, &c, 1), EIO);
		EXPECT_ERR("orphaned background write, TOSTOP", write(fd, "o", 1), EIO);
		EXPECT_ERR("orphaned background tcsetattr", tcsetattr(fd, TCSANOW, &t), EIO);
		_exit(conformance_failures);
	}
	close(s);
	int status;
	CHECK(waitpid(leader, &status, 0) == leader && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return conformance_done();
}
