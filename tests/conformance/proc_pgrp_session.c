/* Process groups and sessions: setsid (EPERM for a group leader),
 * setpgid's rules (ESRCH for a non-child, EPERM across sessions and for a
 * session leader, EACCES once the child has exec'd, EINVAL), getpgid and
 * getsid of others. Run in a child: it starts as no group's leader. */
#include "conformance.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

static void body(void)
{
	pid_t me = getpid();
	EXPECT_ERR("getpgid of nobody", getpgid(999999), ESRCH);
	EXPECT_ERR("getsid of nobody", getsid(999999), ESRCH);
	EXPECT_ERR("setpgid negative pgid", setpgid(0, -1), EINVAL);
	EXPECT_ERR("setpgid negative pid", setpgid(-1, 0), EINVAL);
	EXPECT_ERR("setpgid negative pid and pgid", setpgid(-5, 3), ESRCH);
	EXPECT_ERR("setpgid of a non-child", setpgid(getppid(), 0), ESRCH);
	EXPECT_ERR("setpgid to a missing group", setpgid(0, 999999), EPERM);

	/* A group leader cannot start a session. */
	CHECK(setpgid(0, 0) == 0);
	CHECK(getpgrp() == me);
	EXPECT_ERR("setsid as group leader", setsid(), EPERM);

	/* A child can: it leads the new session and group. */
	int sync[2], back[2];
	CHECK(pipe(sync) == 0 && pipe(back) == 0);
	pid_t c = fork();
	if (c == 0) {
		pid_t sid = setsid();
		int ok = sid == getpid() && getsid(0) == sid && getpgrp() == sid;
		ok = ok && setsid() == -1 && errno == EPERM;
		ok = ok && setpgid(0, 0) == -1 && errno == EPERM;
		write(back[1], &ok, sizeof ok);
		char ch;
		read(sync[0], &ch, 1);
		_exit(0);
	}
	int ok = 0;
	CHECK(read(back[0], &ok, sizeof ok) == sizeof ok);
	CHECK(ok);
	EXPECT_VAL("child's session is its pid", getsid(c) == c, 1);
	EXPECT_VAL("child's group is its pid", getpgid(c) == c, 1);
	EXPECT_ERR("setpgid of a child in another session", setpgid(c, c), EPERM);
	EXPECT_ERR("move ourselves to its group", setpgid(0, c), EPERM);
	CHECK(write(sync[1], "x", 1) == 1);
	CHECK(waitpid(c, NULL, 0) == c);

	/* Moving a child between groups of our session. */
	c = fork();
	if (c == 0) {
		char ch;
		read(sync[0], &ch, 1);
		_exit(0);
	}
	EXPECT_VAL("child into its own group", setpgid(c, c), 0);
	EXPECT_VAL("its group", getpgid(c) == c, 1);
	EXPECT_VAL("child back into ours", setpgid(c, me), 0);
	EXPECT_VAL("its group again", getpgid(c) == me, 1);
	CHECK(write(sync[1], "x", 1) == 1);
	CHECK(waitpid(c, NULL, 0) == c);
	EXPECT_ERR("getpgid of a reaped child", getpgid(c), ESRCH);

	/* After the child execs: EACCES. A close-on-exec pipe says when. */
	int execd[2];
	CHECK(pipe2(execd, O_CLOEXEC) == 0);
	c = fork();
	if (c == 0) {
		dup2(sync[0], 0);
		char *argv[] = {"/bin/sh", "-c", "read x", NULL};
		char *envp[] = {NULL};
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close(execd[1]);
	char ch;
	CHECK(read(execd[0], &ch, 1) == 0);
	EXPECT_ERR("setpgid after the child exec'd", setpgid(c, c), EACCES);
	CHECK(write(sync[1], "\n", 1) == 1);
	int status;
	CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status));
}

int main(void)
{
	conformance_init();
	pid_t c = fork();
	if (c == 0) {
		body();
		_exit(conformance_failures ? 1 : 0);
	}
	int status;
	CHECK(waitpid(c, &status, 0) == c);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return conformance_done();
}
