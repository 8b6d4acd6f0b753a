/* Job control: SIGSTOP/SIGCONT and SIGTSTP, waitpid with WUNTRACED and
 * WCONTINUED, waitid(WSTOPPED/WCONTINUED), SIGKILL of a stopped process,
 * and SIGCHLD on stop unless SA_NOCLDSTOP. */
#include "conformance.h"
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

static _Atomic int chld;
static void on_chld(int sig)
{
	(void)sig;
	chld++;
}

static pid_t spin_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			usleep(10000);
	}
	return pid;
}

int main(void)
{
	conformance_init();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	/* SA_RESTART: the SIGCHLD of a stop may arrive before the waiter sees
	 * the stop (Linux signals the parent before waking it), and without
	 * restart the wait would fail with EINTR at random. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);

	pid_t child = spin_child();
	int status;
	EXPECT_VAL("kill SIGSTOP", kill(child, SIGSTOP), 0);
	EXPECT_VAL("waitpid WUNTRACED", waitpid(child, &status, WUNTRACED) == child, 1);
	CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
	EXPECT_VAL("no second report", waitpid(child, &status, WUNTRACED | WNOHANG), 0);
	EXPECT_VAL("kill SIGCONT", kill(child, SIGCONT), 0);
	EXPECT_VAL("waitpid WCONTINUED", waitpid(child, &status, WCONTINUED) == child, 1);
	CHECK(WIFCONTINUED(status));

	/* SIGTSTP stops by default; waitid reports it. */
	kill(child, SIGTSTP);
	siginfo_t info;
	memset(&info, 0, sizeof info);
	EXPECT_VAL("waitid WSTOPPED", waitid(P_PID, child, &info, WSTOPPED), 0);
	CHECK(info.si_code == CLD_STOPPED && info.si_status == SIGTSTP);
	CHECK(chld >= 2);

	/* A stopped process dies of SIGKILL. */
	EXPECT_VAL("kill SIGKILL while stopped", kill(child, SIGKILL), 0);
	EXPECT_VAL("waitpid after SIGKILL", waitpid(child, &status, 0) == child, 1);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* SA_NOCLDSTOP: no SIGCHLD for a stop. */
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	child = spin_child();
	int before = chld;
	kill(child, SIGSTOP);
	waitpid(child, &status, WUNTRACED);
	CHECK(WIFSTOPPED(status));
	usleep(20000);
	CHECK(chld == before);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	CHECK(WIFSIGNALED(status));
	return conformance_done();
}
