/* Hang-up: closing the master ends the slave (reads return end of file,
 * writes and ioctls fail with EIO, poll reports everything), removes
 * /dev/pts/N, sends the session leader SIGHUP and SIGCONT and frees
 * /dev/tty; closing the last slave makes master reads fail with EIO once
 * the data is drained, and poll report POLLHUP; input written meanwhile
 * waits for the slave's next open. A session leader's exit sends its
 * terminal's foreground group SIGHUP and frees the terminal. */
#include "pty_helpers.h"
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static volatile sig_atomic_t hup, cont;
static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup++;
	else
		cont++;
}

int main(void)
{
	conformance_init();
	int m, s;
	char buf[64];
	open_pair(&m, &s);

	/* The slave closes: the master drains, then EIO. */
	write(s, "bye\n", 4);
	close(s);
	CHECK(wait_for(m, POLLHUP, 1000));
	CHECK(revents(m) == (POLLIN | POLLOUT | POLLHUP));
	read_some("drained", m, 5);
	EXPECT_ERR("master read after slave close", read(m, buf, sizeof buf), EIO);
	CHECK(revents(m) == (POLLOUT | POLLHUP));
	EXPECT_VAL("master write still works", write(m, "x\n", 2), 2);
	s = EXPECT_OK("reopen slave", open(ptsname(m), O_RDWR | O_NOCTTY));
	EXPECT_VAL("the input waited", read(s, buf, sizeof buf), 2);
	read_some("its echo, once the slave is open", m, 3);
	close(s);
	close(m);

	/* The master closes under a session whose controlling terminal it is. */
	open_pair(&m, &s);
	char path[64];
	snprintf(path, sizeof path, "%s", ptsname(m));
	int ready[2];
	pipe(ready);
	pid_t kid = fork();
	if (kid == 0) {
		close(m);
		close(s);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGCONT, &sa, NULL);
		setsid();
		int fd = open(path, O_RDWR);
		int tty = open("/dev/tty", O_RDWR);
		write(ready[1], fd >= 0 && tty >= 0 ? "r" : "x", 1);
		while (!hup || !cont)
			usleep(1000);
		printf("child: SIGHUP %d SIGCONT %d\n", hup, cont);
		EXPECT_VAL("slave read after hangup", read(fd, buf, sizeof buf), 0);
		EXPECT_VAL("/dev/tty fd read after hangup", read(tty, buf, sizeof buf), 0);
		EXPECT_ERR("slave write after hangup", write(fd, "x", 1), EIO);
		EXPECT_ERR("TIOCGPGRP after hangup", ioctl(fd, TIOCGPGRP, &(pid_t){0}), EIO);
		EXPECT_ERR("TIOCSPGRP after hangup", ioctl(fd, TIOCSPGRP, &(pid_t){0}), ENOTTY);
		CHECK(revents(fd) == (POLLIN | POLLOUT | POLLERR | POLLHUP));
		EXPECT_ERR("/dev/tty after hangup", open("/dev/tty", O_RDWR), ENXIO);
		EXPECT_ERR("reopen after hangup", open(path, O_RDWR), ENOENT);
		_exit(conformance_failures);
	}
	close(s);
	char c;
	CHECK(read(ready[0], &c, 1) == 1 && c == 'r');
	close(m);
	int status;
	CHECK(waitpid(kid, &status, 0) == kid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct stat st;
	EXPECT_ERR("slave node after master close", stat(path, &st), ENOENT);

	/* The session leader exits: its foreground group gets SIGHUP and the
	 * terminal controls no session any more. */
	open_pair(&m, &s);
	snprintf(path, sizeof path, "%s", ptsname(m));
	int report[2];
	pipe(report);
	kid = fork();
	if (kid == 0) {
		close(m);
		close(s);
		setsid();
		int fd = open(path, O_RDWR);
		pid_t member = fork();
		if (member == 0) {
			struct sigaction sa;
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = on_signal;
			sigaction(SIGHUP, &sa, NULL);
			sigaction(SIGCONT, &sa, NULL);
			write(ready[1], "m", 1);
			while (!hup)
				usleep(1000);
			usleep(50000);
			int r[4] = { hup, cont, open("/dev/tty", O_RDWR) < 0 ? errno : 0,
				     ioctl(fd, TIOCGPGRP, &(pid_t){0}) < 0 ? errno : 0 };
			write(report[1], r, sizeof r);
			_exit(0);
		}
		char c;
		read(ready[0], &c, 1);
		_exit(0);
	}
	CHECK(waitpid(kid, &status, 0) == kid && WIFEXITED(status));
	int r[4];
	CHECK(read(report[0], r, sizeof r) == sizeof r);
	printf("member after the leader's exit: SIGHUP %d SIGCONT %d, /dev/tty %s, TIOCGPGRP %s\n",
	       r[0], r[1], r[2] ? strerrorname_np(r[2]) : "ok", r[3] ? strerrorname_np(r[3]) : "ok");
	EXPECT_VAL("slave still open from the member: master write", write(m, "x\n", 2), 2);
	return conformance_done();
}
