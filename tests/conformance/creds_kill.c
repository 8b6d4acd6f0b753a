/*
 * Who may signal whom: kill and tgkill check the sender's real and
 * effective uid against the target's real and saved uid (EPERM otherwise),
 * SIGCONT within a session is always allowed, signal 0 probes the same
 * check, and a zombie can still be "signalled" until it is reaped. Needs
 * root to start; as anyone else it only says so.
 */
#include "conformance.h"

#include <signal.h>
#include <sys/wait.h>

static pid_t child_as(uid_t uid, int ready[2])
{
	pid_t pid = fork();
	if (pid == 0) {
		if (syscall(SYS_setresuid, uid, uid, uid) != 0)
			_exit(2);
		char c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	char c;
	CHECK(read(ready[0], &c, 1) == 1);
	return pid;
}

int main(void)
{
	conformance_init();
	if (getuid() != 0) {
		printf("not root: nothing to check\n");
		return 0;
	}
	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t a = child_as(1000, ready);
	pid_t root_pid = getpid();

	pid_t b = fork();
	if (b == 0) {
		if (syscall(SYS_setresuid, 2000, 2000, 2000) != 0)
			_exit(2);
		EXPECT_ERR("uid 2000 kill(uid 1000, 0)", kill(a, 0), EPERM);
		EXPECT_ERR("uid 2000 kill(uid 1000, SIGTERM)", kill(a, SIGTERM), EPERM);
		EXPECT_ERR("uid 2000 tgkill(uid 1000)", syscall(SYS_tgkill, a, a, SIGTERM), EPERM);
		EXPECT_ERR("uid 2000 kill(root, SIGUSR1)", kill(root_pid, SIGUSR1), EPERM);
		EXPECT_OK("uid 2000 kill(uid 1000, SIGCONT) in its session", kill(a, SIGCONT));
		EXPECT_OK("uid 2000 kill(self, 0)", kill(getpid(), 0));
		/* kill(-1) counts refusals as nothing: Linux answers 0. */
		EXPECT_VAL("uid 2000 kill(-1, 0)", kill(-1, 0), 0);
		_exit(conformance_failures ? 1 : 0);
	}
	int status;
	CHECK(waitpid(b, &status, 0) == b && WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pid_t c = fork();
	if (c == 0) {
		/* The sender's real uid 1000 matches the target's. */
		if (syscall(SYS_setresuid, 1000, 3000, 3000) != 0)
			_exit(2);
		EXPECT_OK("real 1000 euid 3000 kill(uid 1000, 0)", kill(a, 0));
		EXPECT_OK("real 1000 euid 3000 kill(uid 1000, SIGUSR2)", kill(a, SIGUSR2));
		_exit(conformance_failures ? 1 : 0);
	}
	CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Never hang on a refused kill: the uid 1000 child ends either way. */
	kill(a, SIGKILL);
	CHECK(waitpid(a, &status, 0) == a);
	printf("uid 1000 child: %s %d\n", WIFSIGNALED(status) ? "killed by" : "exited",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));

	pid_t z = fork();
	if (z == 0)
		_exit(0);
	siginfo_t si;
	CHECK(waitid(P_PID, z, &si, WEXITED | WNOWAIT) == 0);
	EXPECT_OK("kill(zombie, 0)", kill(z, 0));
	EXPECT_OK("kill(zombie, SIGKILL)", kill(z, SIGKILL));
	CHECK(waitpid(z, &status, 0) == z);
	printf("zombie: exited %d\n", WEXITSTATUS(status));
	EXPECT_ERR("kill(reaped, 0)", kill(z, 0), ESRCH);
	return conformance_done();
}
