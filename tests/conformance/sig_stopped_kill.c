/* Killing a stopped process: SIGKILL ends it at once; SIGTERM (default
 * action) stays pending until SIGCONT, then ends it; a caught SIGTERM
 * runs its handler after SIGCONT. waitpid reports each step. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>
#include <sys/wait.h>

static void on_term(int sig)
{
	(void)sig;
	_exit(33);
}

static pid_t spin_child(int catch_term)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (catch_term)
			signal(SIGTERM, on_term);
		for (;;)
			pause();
	}
	return pid;
}

static void stop(pid_t pid)
{
	int st = 0;
	kill(pid, SIGSTOP);
	pid_t r = waitpid(pid, &st, WUNTRACED);
	CHECK(r == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
}

int main(void)
{
	conformance_init();
	int st = 0;

	pid_t pid = spin_child(0);
	stop(pid);
	EXPECT_VAL("SIGKILL a stopped child", kill(pid, SIGKILL), 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	pid = spin_child(0);
	stop(pid);
	EXPECT_VAL("SIGTERM a stopped child", kill(pid, SIGTERM), 0);
	usleep(50000);
	EXPECT_VAL("still stopped", waitpid(pid, &st, WNOHANG), 0);
	kill(pid, SIGCONT);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	pid = spin_child(1);
	usleep(20000); /* let it install its handler */
	stop(pid);
	kill(pid, SIGTERM);
	usleep(50000);
	EXPECT_VAL("caught: still stopped", waitpid(pid, &st, WNOHANG), 0);
	kill(pid, SIGCONT);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 33);

	/* A stopped child sees SIGCONT via WCONTINUED, then dies of SIGKILL. */
	pid = spin_child(0);
	stop(pid);
	kill(pid, SIGCONT);
	CHECK(waitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st));
	kill(pid, SIGSTOP);
	kill(pid, SIGKILL);
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r == pid && WIFSTOPPED(st));
	CHECK(r == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	EXPECT_ERR("no children left", waitpid(-1, &st, WNOHANG), ECHILD);
	return conformance_done();
}
