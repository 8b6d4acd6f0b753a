/* Core-dump default actions: the status says WIFSIGNALED with the signal;
 * WCOREDUMP is set only when a core is written, which RLIMIT_CORE 0 (the
 * default here) prevents. Terminate actions never set it. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void die_of(int sig, int how)
{
	int st = 0;
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_CORE, &rl);
		if (how == 0)
			raise(sig);
		else if (how == 1)
			*(volatile int *)8 = 1;
		else
			abort();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("signal %d: signaled=%d termsig=%d core=%d\n", sig, WIFSIGNALED(st), WTERMSIG(st),
	       WCOREDUMP(st) ? 1 : 0);
}

int main(void)
{
	conformance_init();
	die_of(SIGQUIT, 0);
	die_of(SIGABRT, 2);
	die_of(SIGSEGV, 1);
	die_of(SIGSEGV, 0);
	die_of(SIGFPE, 0);
	die_of(SIGILL, 0);
	die_of(SIGBUS, 0);
	die_of(SIGSYS, 0);
	die_of(SIGTRAP, 0);
	die_of(SIGXCPU, 0);
	die_of(SIGTERM, 0);
	die_of(SIGUSR1, 0);
	die_of(SIGKILL, 0);

	/* waitid says CLD_KILLED, not CLD_DUMPED. */
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_CORE, &rl);
		raise(SIGQUIT);
		_exit(0);
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	EXPECT_VAL("waitid", waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK(si.si_code == CLD_KILLED);
	CHECK(si.si_status == SIGQUIT);
	return conformance_done();
}
