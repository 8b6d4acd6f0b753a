/* The job-server pattern of make: SIGCHLD stays blocked except while
 * waiting in pselect6 or ppoll with a mask that lets it in; a child's exit
 * interrupts the wait with EINTR after the handler ran, and the old mask
 * is back afterwards. A ready fd returns at once with the mask restored. */
#include "conformance.h"
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/wait.h>

static volatile sig_atomic_t got;

static void on_chld(int sig)
{
	(void)sig;
	got++;
}

static int sigchld_blocked(void)
{
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, SIGCHLD);
}

int main(void)
{
	conformance_init();
	struct sigaction sa = {.sa_handler = on_chld};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigset_t block, open_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &open_mask);
	sigdelset(&open_mask, SIGCHLD);
	int p[2];
	CHECK(pipe(p) == 0);

	for (int round = 0; round < 3; round++) {
		got = 0;
		pid_t c = fork();
		if (c == 0)
			_exit(round);
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(p[0], &rd);
		EXPECT_ERR("pselect interrupted", pselect(p[0] + 1, &rd, NULL, NULL, NULL, &open_mask),
			   EINTR);
		EXPECT_VAL("handler ran", got, 1);
		EXPECT_VAL("SIGCHLD blocked again", sigchld_blocked(), 1);
		int status;
		CHECK(waitpid(c, &status, 0) == c && WEXITSTATUS(status) == round);
	}

	got = 0;
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	EXPECT_ERR("ppoll interrupted", ppoll(&pfd, 1, NULL, &open_mask), EINTR);
	EXPECT_VAL("handler ran", got, 1);
	EXPECT_VAL("SIGCHLD blocked again", sigchld_blocked(), 1);
	CHECK(waitpid(c, NULL, 0) == c);

	/* A ready fd: no signal, the mask is restored at once. */
	CHECK(write(p[1], "x", 1) == 1);
	EXPECT_VAL("ppoll ready", ppoll(&pfd, 1, NULL, &open_mask), 1);
	EXPECT_VAL("SIGCHLD still blocked", sigchld_blocked(), 1);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timespec zero = {0, 0};
	EXPECT_VAL("pselect ready", pselect(p[0] + 1, &rd, NULL, NULL, &zero, &open_mask), 1);
	EXPECT_VAL("SIGCHLD still blocked", sigchld_blocked(), 1);

	/* A pending blocked SIGCHLD is taken as soon as the wait opens the mask. */
	char ch;
	read(p[0], &ch, 1);
	got = 0;
	c = fork();
	if (c == 0)
		_exit(0);
	CHECK(waitpid(c, NULL, 0) == c);
	EXPECT_ERR("pending signal interrupts at once", ppoll(&pfd, 1, NULL, &open_mask), EINTR);
	EXPECT_VAL("handler ran", got, 1);

	EXPECT_ERR("ppoll bad sigsetsize", syscall(SYS_ppoll, &pfd, 1, &zero, &open_mask, 4), EINVAL);
	EXPECT_ERR("ppoll bad mask pointer", syscall(SYS_ppoll, &pfd, 1, &zero, BAD_PTR, 8), EFAULT);
	return conformance_done();
}
