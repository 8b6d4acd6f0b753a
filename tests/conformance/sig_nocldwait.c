/* SIGCHLD with SA_NOCLDWAIT or SIG_IGN: children are reaped when they
 * exit, wait gets ECHILD (after waiting for every child), and with
 * SA_NOCLDWAIT and a handler the SIGCHLD still arrives. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>
#include <sys/wait.h>

static volatile int chld;
static void on_chld(int sig)
{
	(void)sig;
	chld++;
}

static pid_t quick_child(int code)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(code);
	return pid;
}

int main(void)
{
	conformance_init();
	int st;

	signal(SIGCHLD, SIG_IGN);
	quick_child(1);
	quick_child(2);
	/* wait blocks until every child is gone, then ECHILD. */
	EXPECT_ERR("SIG_IGN: wait", wait(&st), ECHILD);
	EXPECT_ERR("SIG_IGN: waitpid WNOHANG", waitpid(-1, &st, WNOHANG), ECHILD);
	siginfo_t si;
	EXPECT_ERR("SIG_IGN: waitid", waitid(P_ALL, 0, &si, WEXITED), ECHILD);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	pid_t pid = quick_child(3);
	EXPECT_ERR("SA_NOCLDWAIT: waitpid", waitpid(pid, &st, 0), ECHILD);

	sa.sa_handler = on_chld;
	/* SA_RESTART: the SIGCHLD may land before the child is released, and
	 * the wait must not fail with EINTR at random. */
	sa.sa_flags = SA_NOCLDWAIT | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	pid = quick_child(4);
	EXPECT_ERR("SA_NOCLDWAIT + handler: waitpid", waitpid(pid, &st, 0), ECHILD);
	for (int i = 0; i < 200 && chld == 0; i++)
		usleep(5000);
	EXPECT_VAL("the handler ran", chld, 1);

	/* Back to the default: a zombie waits for us. */
	signal(SIGCHLD, SIG_DFL);
	pid = quick_child(5);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 5);

	/* A stopped child is not reaped under SIG_IGN; it is reported. */
	signal(SIGCHLD, SIG_IGN);
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGSTOP);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	kill(pid, SIGKILL);
	EXPECT_ERR("killed under SIG_IGN", waitpid(pid, &st, 0), ECHILD);
	return conformance_done();
}
