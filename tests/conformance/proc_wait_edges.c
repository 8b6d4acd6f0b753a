/* wait4/waitid edge cases: option and id checks, ECHILD, a grandchild is
 * not ours, __WCLONE/__WALL against a child with no exit signal, P_PGID,
 * WNOWAIT then a real wait, WNOHANG with nothing ready, a child forked by
 * another thread of the process. */
#include "conformance.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

static char stack[1 << 16] __attribute__((aligned(16)));

static int quick(void *arg)
{
	return (int)(long)arg;
}

static int to_main[2], to_thread[2];

/* Forks a child, tells the main thread its pid, and stays alive (the
 * child's parent thread) until told to go. */
static void *fork_in_thread(void *arg)
{
	(void)arg;
	pid_t pid = fork();
	if (pid == 0)
		_exit(6);
	write(to_main[1], &pid, sizeof pid);
	char c;
	read(to_thread[0], &c, 1);
	return NULL;
}

int main(void)
{
	conformance_init();
	int status;
	siginfo_t info;

	EXPECT_ERR("wait4 no children", wait4(-1, &status, 0, NULL), ECHILD);
	EXPECT_ERR("waitid no children", waitid(P_ALL, 0, &info, WEXITED), ECHILD);
	EXPECT_ERR("wait4 bad option", wait4(-1, &status, 0x100, NULL), EINVAL);
	EXPECT_ERR("wait4 WNOWAIT", wait4(-1, &status, WNOWAIT, NULL), EINVAL);
	EXPECT_ERR("wait4 INT_MIN", wait4(-2147483647 - 1, &status, 0, NULL), ESRCH);
	EXPECT_ERR("waitid no event", waitid(P_ALL, 0, &info, 0), EINVAL);
	EXPECT_ERR("waitid bad idtype", syscall(SYS_waitid, 7, 0, &info, WEXITED, NULL), EINVAL);
	EXPECT_ERR("waitid P_PID 0", waitid(P_PID, 0, &info, WEXITED), EINVAL);
	EXPECT_ERR("waitid P_PGID -1", syscall(SYS_waitid, P_PGID, -1, &info, WEXITED, NULL), EINVAL);
	EXPECT_ERR("wait4 own pid", wait4(getpid(), &status, 0, NULL), ECHILD);

	/* A grandchild is not ours. */
	int fds[2], back[2];
	CHECK(pipe(fds) == 0);
	CHECK(pipe(back) == 0);
	pid_t child = fork();
	if (child == 0) {
		pid_t grandchild = fork();
		if (grandchild == 0) {
			char c;
			read(fds[0], &c, 1);
			_exit(0);
		}
		write(back[1], &grandchild, sizeof grandchild);
		waitpid(grandchild, NULL, 0);
		_exit(0);
	}
	pid_t grandchild;
	CHECK(read(back[0], &grandchild, sizeof grandchild) == sizeof grandchild);
	EXPECT_ERR("wait for a grandchild", waitpid(grandchild, &status, WNOHANG), ECHILD);
	EXPECT_ERR("waitid for a grandchild", waitid(P_PID, grandchild, &info, WEXITED | WNOHANG),
		   ECHILD);
	/* Nothing ready yet: WNOHANG gives 0, waitid a zeroed si_pid. */
	EXPECT_VAL("wait4 WNOHANG nothing ready", waitpid(child, &status, WNOHANG), 0);
	memset(&info, 0x55, sizeof info);
	EXPECT_VAL("waitid WNOHANG nothing ready", waitid(P_PID, child, &info, WEXITED | WNOHANG), 0);
	EXPECT_VAL("waitid WNOHANG si_pid", info.si_pid, 0);
	EXPECT_VAL("waitid WNOHANG si_signo", info.si_signo, 0);
	CHECK(write(fds[1], "x", 1) == 1);
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));

	/* A child with no exit signal: only __WCLONE or __WALL see it. */
	pid_t c = clone(quick, stack + sizeof stack, 0, (void *)5);
	CHECK(c > 0);
	EXPECT_ERR("clone child without __WCLONE", waitpid(c, &status, 0), ECHILD);
	EXPECT_ERR("clone child any without __WCLONE", waitpid(-1, &status, WNOHANG), ECHILD);
	memset(&info, 0, sizeof info);
	EXPECT_VAL("waitid __WCLONE WNOWAIT", waitid(P_PID, c, &info, WEXITED | __WCLONE | WNOWAIT), 0);
	CHECK(info.si_pid == c);
	EXPECT_VAL("si_code", info.si_code, CLD_EXITED);
	EXPECT_VAL("si_status", info.si_status, 5);
	CHECK(waitpid(c, &status, __WCLONE) == c);
	EXPECT_VAL("clone child status", WEXITSTATUS(status), 5);
	c = clone(quick, stack + sizeof stack, 0, (void *)7);
	CHECK(waitpid(-1, &status, __WALL) == c);
	EXPECT_VAL("__WALL status", WEXITSTATUS(status), 7);
	/* A SIGCHLD child is not a clone child. */
	pid_t p = fork();
	if (p == 0)
		_exit(1);
	EXPECT_ERR("SIGCHLD child with __WCLONE", waitpid(p, &status, __WCLONE), ECHILD);
	CHECK(waitpid(p, &status, 0) == p);

	/* P_PGID: a child in its own group. */
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		char ch;
		read(fds[0], &ch, 1);
		_exit(3);
	}
	CHECK(setpgid(p, p) == 0 || errno == EACCES);
	EXPECT_ERR("P_PGID of another group", waitid(P_PGID, getpgrp(), &info, WEXITED | WNOHANG),
		   ECHILD);
	CHECK(write(fds[1], "x", 1) == 1);
	memset(&info, 0, sizeof info);
	EXPECT_VAL("waitid P_PGID WNOWAIT", waitid(P_PGID, p, &info, WEXITED | WNOWAIT), 0);
	CHECK(info.si_pid == p);
	EXPECT_VAL("si_status", info.si_status, 3);
	/* WNOWAIT left it: it can be waited for again, then reaped. */
	memset(&info, 0, sizeof info);
	EXPECT_VAL("waitid again", waitid(P_PID, p, &info, WEXITED), 0);
	CHECK(info.si_pid == p);
	EXPECT_ERR("reaped", waitid(P_PID, p, &info, WEXITED), ECHILD);

	/* WEXITED not asked for: a zombie does not count (wait_task_zombie). */
	p = fork();
	if (p == 0)
		_exit(0);
	usleep(50000);
	EXPECT_ERR("waitid WSTOPPED only", waitid(P_PID, p, &info, WSTOPPED | WNOHANG), ECHILD);
	CHECK(waitpid(p, &status, 0) == p);

	/* A child forked by another thread is the process's child, but not
	 * this thread's own (__WNOTHREAD). */
	CHECK(pipe(to_main) == 0 && pipe(to_thread) == 0);
	pthread_t t;
	pthread_create(&t, NULL, fork_in_thread, NULL);
	pid_t theirs;
	CHECK(read(to_main[0], &theirs, sizeof theirs) == sizeof theirs);
	EXPECT_ERR("sibling thread's child with __WNOTHREAD", waitpid(theirs, &status, __WNOTHREAD),
		   ECHILD);
	CHECK(waitpid(theirs, &status, 0) == theirs);
	CHECK(write(to_thread[1], "x", 1) == 1);
	pthread_join(t, NULL);
	/* Once that thread is gone, its children are the remaining thread's. */
	CHECK(pipe(to_main) == 0);
	pthread_create(&t, NULL, fork_in_thread, NULL);
	CHECK(read(to_main[0], &theirs, sizeof theirs) == sizeof theirs);
	CHECK(write(to_thread[1], "x", 1) == 1);
	pthread_join(t, NULL);
	CHECK(waitpid(theirs, &status, __WNOTHREAD) == theirs);
	EXPECT_VAL("thread's child status", WEXITSTATUS(status), 6);

	/* Our own child with __WNOTHREAD. */
	p = fork();
	if (p == 0)
		_exit(8);
	CHECK(waitpid(p, &status, __WNOTHREAD) == p);
	EXPECT_VAL("own child with __WNOTHREAD", WEXITSTATUS(status), 8);

	/* wait4 with a bad status pointer: EFAULT, and the child stays reaped. */
	p = fork();
	if (p == 0)
		_exit(0);
	EXPECT_ERR("wait4 bad status", wait4(p, BAD_PTR, 0, NULL), EFAULT);
	EXPECT_ERR("waitid after EFAULT", waitid(P_PID, p, &info, WEXITED | WNOHANG), ECHILD);
	return conformance_done();
}
