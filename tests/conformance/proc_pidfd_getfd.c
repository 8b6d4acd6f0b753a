/* pidfd_getfd(2): taking a copy of another process's fd (close-on-exec, the
 * same open file), argument checks, zombies and reaped processes, and the
 * ptrace-attach permission (same ids and dumpable, or CAP_SYS_PTRACE). */
#include "conformance.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int pidfd_open(pid_t pid, unsigned flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static long getfd(int pidfd, int fd, unsigned flags)
{
	return syscall(SYS_pidfd_getfd, pidfd, fd, flags);
}

static void drop_to_nobody(void)
{
	if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
		_exit(99);
}

/* A child that opens a pipe holding "hello" (its read end's number goes to
 * the parent through `info`), optionally becomes nobody, then obeys
 * one-byte commands from `cmd`: 'd' makes it dumpable, anything else (or
 * end of file) ends it. Each command is acknowledged on `info`. */
static pid_t holder(int info[2], int cmd[2], int nobody)
{
	if (pipe(info) != 0 || pipe(cmd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(info[0]);
		close(cmd[1]);
		int p[2];
		if (pipe(p) != 0 || write(p[1], "hello", 5) != 5)
			_exit(98);
		if (nobody)
			drop_to_nobody();
		write(info[1], &p[0], sizeof p[0]);
		char c;
		while (read(cmd[0], &c, 1) == 1 && c == 'd') {
			prctl(PR_SET_DUMPABLE, 1);
			write(info[1], &c, 1);
		}
		_exit(0);
	}
	close(info[1]);
	close(cmd[0]);
	return pid;
}

/* Runs `getfd(pidfd_open(target), fd)` in a child that is nobody; returns
 * 0 if it succeeded, else the errno. */
static int getfd_as_nobody(pid_t target, int fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		drop_to_nobody();
		int pidfd = pidfd_open(target, 0);
		if (pidfd < 0)
			_exit(97);
		_exit(getfd(pidfd, fd, 0) >= 0 ? 0 : errno);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_basics(void)
{
	printf("-- basics\n");
	int info[2], cmd[2];
	pid_t pid = holder(info, cmd, 0);
	int remote;
	CHECK(read(info[0], &remote, sizeof remote) == sizeof remote);
	int pidfd = pidfd_open(pid, 0);

	int fd = EXPECT_OK("getfd", getfd(pidfd, remote, 0));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	char buf[8] = {0};
	CHECK(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
	close(fd);
	EXPECT_ERR("flags", getfd(pidfd, remote, 1), EINVAL);
	EXPECT_ERR("closed target fd", getfd(pidfd, 999, 0), EBADF);
	EXPECT_ERR("negative target fd", getfd(pidfd, -1, 0), EBADF);
	EXPECT_ERR("not a pidfd", getfd(0, remote, 0), EBADF);
	EXPECT_ERR("closed pidfd", getfd(999, remote, 0), EBADF);
	EXPECT_ERR("PIDFD_SELF_THREAD", getfd(-10000, 1, 0), EBADF);

	int self = pidfd_open(getpid(), 0);
	fd = EXPECT_OK("getfd from self", getfd(self, 1, 0));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	close(fd);
	close(self);

	close(cmd[1]);
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	CHECK(poll(&p, 1, -1) == 1);
	EXPECT_ERR("zombie", getfd(pidfd, remote, 0), ESRCH);
	CHECK(waitpid(pid, NULL, 0) == pid);
	EXPECT_ERR("reaped", getfd(pidfd, remote, 0), ESRCH);
	close(pidfd);
	close(info[0]);
}

static void test_permission(void)
{
	printf("-- permission\n");
	int info[2], cmd[2];
	pid_t pid = holder(info, cmd, 1);
	int remote;
	CHECK(read(info[0], &remote, sizeof remote) == sizeof remote);

	/* Its uid changed, so it is not dumpable: only CAP_SYS_PTRACE may. */
	printf("nobody from non-dumpable nobody: %s\n", errno_name(getfd_as_nobody(pid, remote)));
	printf("before a bad fd: %s\n", errno_name(getfd_as_nobody(pid, 999)));
	int pidfd = pidfd_open(pid, 0);
	int fd = EXPECT_OK("root from non-dumpable nobody", getfd(pidfd, remote, 0));
	close(fd);

	char c = 'd';
	CHECK(write(cmd[1], &c, 1) == 1 && read(info[0], &c, 1) == 1);
	CHECK(getfd_as_nobody(pid, remote) == 0);
	printf("dumpable, bad fd: %s\n", errno_name(getfd_as_nobody(pid, 999)));

	/* nobody may not take root's. */
	CHECK(getfd_as_nobody(getpid(), 1) == EPERM);

	close(cmd[1]);
	CHECK(waitpid(pid, NULL, 0) == pid);
	close(pidfd);
	close(info[0]);
}

int main(void)
{
	conformance_init();
	test_basics();
	test_permission();
	return conformance_done();
}
