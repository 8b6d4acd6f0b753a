/* fork, exit statuses, wait4/waitpid/waitid, WNOHANG, ECHILD, orphans. */
#include "conformance.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	conformance_init();
	int x = 1;
	pid_t child = fork();
	if (child == 0) {
		x = 2; /* copy-on-write: the parent never sees this */
		_exit(7);
	}
	CHECK(child > 0);
	int status = 0;
	EXPECT_VAL("waitpid(child)", waitpid(child, &status, 0) == child, 1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	CHECK(x == 1);
	EXPECT_ERR("waitpid(no children)", waitpid(-1, &status, 0), ECHILD);
	EXPECT_ERR("waitpid(WNOHANG, no children)", waitpid(-1, &status, WNOHANG), ECHILD);
	EXPECT_ERR("wait4 bad options", wait4(-1, &status, 0x100, NULL), EINVAL);

	/* A child killed by a signal. */
	child = fork();
	if (child == 0) {
		kill(getpid(), SIGTERM);
		_exit(0);
	}
	waitpid(child, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

	/* WNOHANG on a running child, then waitid. */
	int p[2];
	CHECK(pipe(p) == 0);
	child = fork();
	if (child == 0) {
		char c;
		close(p[1]);
		read(p[0], &c, 1); /* until the parent closes its end */
		_exit(3);
	}
	close(p[0]);
	EXPECT_VAL("waitpid(WNOHANG, running)", waitpid(child, &status, WNOHANG), 0);
	close(p[1]);
	siginfo_t info;
	memset(&info, 0, sizeof info);
	EXPECT_VAL("waitid(P_PID, WEXITED)", waitid(P_PID, child, &info, WEXITED), 0);
	CHECK(info.si_pid == child && info.si_code == CLD_EXITED && info.si_status == 3);
	EXPECT_ERR("waitid bad options", waitid(P_ALL, 0, &info, 0), EINVAL);

	/* Many children, reaped in any order. */
	for (int i = 0; i < 5; i++) {
		if (fork() == 0)
			_exit(10 + i);
	}
	int sum = 0;
	for (int i = 0; i < 5; i++) {
		CHECK(wait(&status) > 0);
		sum += WEXITSTATUS(status);
	}
	CHECK(sum == 10 + 11 + 12 + 13 + 14);

	/* getppid in the child is the parent. */
	pid_t me = getpid();
	if (fork() == 0)
		_exit(getppid() == me ? 0 : 1);
	wait(&status);
	CHECK(WEXITSTATUS(status) == 0);
	return conformance_done();
}
