/* Orphans: a process whose parent exits is reparented (to the nearest
 * child subreaper, else init) and reaped there; PR_SET_CHILD_SUBREAPER and
 * its errors; a reparented zombie is reaped by the new parent. */
#include "conformance.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* Forks a middle process that forks a grandchild, reports its pid on
 * `report` and exits at once. The grandchild waits on `gate`, then exits 0
 * if its parent is then `expect`. Returns the middle process's pid, reaped. */
static pid_t orphan(int gate, int report, pid_t expect)
{
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			read(gate, &c, 1);
			_exit(getppid() == expect ? 0 : 1);
		}
		write(report, &g, sizeof g);
		_exit(0);
	}
	waitpid(mid, NULL, 0);
	return mid;
}

int main(void)
{
	conformance_init();
	int status;
	int on = -1;

	EXPECT_VAL("get subreaper", prctl(PR_GET_CHILD_SUBREAPER, &on), 0);
	EXPECT_VAL("not a subreaper", on, 0);
	EXPECT_ERR("get subreaper bad pointer", prctl(PR_GET_CHILD_SUBREAPER, BAD_PTR), EFAULT);
	EXPECT_VAL("set subreaper", prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	EXPECT_VAL("get subreaper", prctl(PR_GET_CHILD_SUBREAPER, &on), 0);
	EXPECT_VAL("is a subreaper", on, 1);

	int gate[2], report[2];
	CHECK(pipe(gate) == 0 && pipe(report) == 0);
	pid_t mid = orphan(gate[0], report[1], getpid());
	CHECK(mid > 0);
	pid_t g;
	CHECK(read(report[0], &g, sizeof g) == sizeof g);
	/* The grandchild is ours now. */
	EXPECT_VAL("orphan not yet exited", waitpid(g, &status, WNOHANG), 0);
	CHECK(write(gate[1], "x", 1) == 1);
	CHECK(waitpid(g, &status, 0) == g);
	EXPECT_VAL("orphan saw the subreaper as parent", WEXITSTATUS(status), 0);

	/* A zombie orphan: the grandchild exits before the middle process. */
	pid_t m2 = fork();
	if (m2 == 0) {
		pid_t z = fork();
		if (z == 0)
			_exit(12);
		write(report[1], &z, sizeof z);
		usleep(100000);
		_exit(0);
	}
	CHECK(read(report[0], &g, sizeof g) == sizeof g);
	CHECK(waitpid(m2, &status, 0) == m2);
	CHECK(waitpid(g, &status, 0) == g);
	EXPECT_VAL("reparented zombie's status", WEXITSTATUS(status), 12);

	/* A nested subreaper takes its own orphans. */
	pid_t outer = fork();
	if (outer == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		pid_t me = getpid();
		pid_t m = fork();
		if (m == 0) {
			pid_t gg = fork();
			if (gg == 0) {
				usleep(50000);
				_exit(getppid() == me ? 0 : 1);
			}
			_exit(0);
		}
		waitpid(m, NULL, 0);
		int st;
		pid_t got = wait(&st);
		_exit(got > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 2);
	}
	CHECK(waitpid(outer, &status, 0) == outer);
	EXPECT_VAL("nested subreaper reaped its orphan", WEXITSTATUS(status), 0);

	/* Without a subreaper an orphan leaves for another parent (init, or a
	 * subreaper further up): not its grandparent. Run from a child, since
	 * in the sandbox this program is init itself. */
	EXPECT_VAL("clear subreaper", prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
	pid_t c = fork();
	if (c == 0) {
		pid_t m3 = fork();
		if (m3 == 0) {
			pid_t o = fork();
			if (o == 0) {
				usleep(100000);
				_exit(0);
			}
			_exit(0);
		}
		waitpid(m3, NULL, 0);
		_exit(wait(NULL) == -1 && errno == ECHILD ? 0 : 1);
	}
	CHECK(waitpid(c, &status, 0) == c);
	EXPECT_VAL("the orphan is not its grandparent's", WEXITSTATUS(status), 0);
	return conformance_done();
}
