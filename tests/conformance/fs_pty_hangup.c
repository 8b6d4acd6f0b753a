/* Hang-up: closing the master ends the slave (reads return end of file,
 * writes and ioctls fail with EIO, poll reports everything), removes
 * /dev/pts/N, sends the session leader SIGHUP and SIGCONT and frees
 * /dev/tty; closing the last slave makes master reads fail with EIO once
 * the data is drained, and poll report POLLHUP; input written meanwhile
 * waits for the slave's next open. */
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
	return conformance_done();
}
