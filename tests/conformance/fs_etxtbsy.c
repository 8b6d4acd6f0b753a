/*
 * fs_etxtbsy: a file some process is executing cannot be opened for
 * writing or truncated, and a file open for writing cannot be executed
 * (ETXTBSY, Linux's deny_write_access on exec and on the mm's exe_file).
 * Works on copies of this program in a fresh directory under /tmp.
 */
#include "conformance.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char dir_[] = "/tmp/carapace-etxtbsy-XXXXXX";

/* Modes of the copies, chosen by argv[1]:
 *   wait R W: write a byte to fd W, then block reading fd R until EOF;
 *   fork R W: fork a child that does "wait R W", then exit;
 *   self:     exit 0 if opening /proc/self/exe for writing gives ETXTBSY;
 *   chain P R W: exec P as "wait R W";
 *   exit:     exit 7. */
static int run_mode(int argc, char **argv)
{
	if (strcmp(argv[1], "wait") == 0 && argc == 4) {
		int r = atoi(argv[2]), w = atoi(argv[3]);
		char c = 'r';
		if (write(w, &c, 1) != 1)
			return 2;
		close(w);
		while (read(r, &c, 1) > 0)
			;
		return 0;
	}
	if (strcmp(argv[1], "fork") == 0 && argc == 4) {
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			char *args[] = {argv[0], "wait", argv[2], argv[3], NULL};
			execv("/proc/self/exe", args);
			_exit(3);
		}
		return 0;
	}
	if (strcmp(argv[1], "self") == 0) {
		int fd = open("/proc/self/exe", O_WRONLY);
		return fd < 0 && errno == ETXTBSY ? 0 : 1;
	}
	if (strcmp(argv[1], "chain") == 0 && argc == 5) {
		char *args[] = {argv[2], "wait", argv[3], argv[4], NULL};
		execv(argv[2], args);
		return 3;
	}
	if (strcmp(argv[1], "exit") == 0)
		return 7;
	return 2;
}

static void copy_self(const char *to)
{
	int in = open("/proc/self/exe", O_RDONLY);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0755);
	char buf[65536];
	long n;
	if (in < 0 || out < 0) {
		printf("FAIL: copy: %s\n", errno_name(errno));
		exit(1);
	}
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (write(out, buf, n) != n) {
			printf("FAIL: copy write\n");
			exit(1);
		}
	}
	close(in);
	close(out);
}

/* Starts `prog mode` with the pipe fds as arguments and waits until the
 * program (or its forked child) is running; returns the write end that
 * keeps it blocked, and the pid in *pid. */
static int start(const char *prog, const char *mode, const char *extra, pid_t *pid)
{
	int hold[2], ready[2];
	/* Close-on-exec, so later runners do not keep earlier ones blocked. */
	if (pipe2(hold, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) {
		printf("FAIL: pipe\n");
		exit(1);
	}
	*pid = fork();
	if (*pid == 0) {
		char r[16], w[16];
		fcntl(hold[0], F_SETFD, 0);
		fcntl(ready[1], F_SETFD, 0);
		snprintf(r, sizeof r, "%d", hold[0]);
		snprintf(w, sizeof w, "%d", ready[1]);
		char *args[6] = {(char *)prog, (char *)mode, r, w, NULL, NULL};
		if (extra) {
			args[2] = (char *)extra;
			args[3] = r;
			args[4] = w;
		}
		execv(prog, args);
		_exit(100 + errno);
	}
	close(hold[0]);
	close(ready[1]);
	char c;
	CHECK(read(ready[0], &c, 1) == 1);
	close(ready[0]);
	return hold[1];
}

static int status_of(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return run_mode(argc, argv);
	conformance_init();
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir_)) {
		printf("FAIL: mkdtemp: %s\n", errno_name(errno));
		return 1;
	}
	if (chdir(dir_) != 0) {
		printf("FAIL: chdir: %s\n", errno_name(errno));
		return 1;
	}
	char prog[64], prog_b[64], alias[64];
	snprintf(prog, sizeof prog, "%s/prog", dir_);
	snprintf(prog_b, sizeof prog_b, "%s/prog_b", dir_);
	snprintf(alias, sizeof alias, "%s/alias", dir_);
	copy_self(prog);
	copy_self(prog_b);
	EXPECT_OK("hard link", link(prog, alias));

	int fd = EXPECT_OK("open for writing, not running", open(prog, O_WRONLY));
	close(fd);

	/* While a process runs it. */
	pid_t pid;
	int hold = start(prog, "wait", NULL, &pid);
	EXPECT_ERR("O_WRONLY while running", open(prog, O_WRONLY), ETXTBSY);
	EXPECT_ERR("O_RDWR while running", open(prog, O_RDWR), ETXTBSY);
	EXPECT_ERR("O_WRONLY|O_TRUNC while running", open(prog, O_WRONLY | O_TRUNC), ETXTBSY);
	EXPECT_ERR("O_RDWR through a hard link", open(alias, O_RDWR), ETXTBSY);
	EXPECT_ERR("truncate while running", truncate(prog, 0), ETXTBSY);
	fd = EXPECT_OK("O_RDONLY while running", open(prog, O_RDONLY));
	EXPECT_ERR("ftruncate of a read-only fd", ftruncate(fd, 0), EINVAL);
	close(fd);
	fd = EXPECT_OK("O_PATH while running", open(prog, O_PATH));
	close(fd);
	fd = EXPECT_OK("O_WRONLY on another copy", open(prog_b, O_WRONLY));
	close(fd);
	struct stat st;
	EXPECT_OK("stat", stat(prog, &st));
	CHECK(st.st_size > 0);
	pid_t pid2;
	int hold2 = start(prog, "wait", NULL, &pid2);
	close(hold);
	EXPECT_VAL("first runner exits", status_of(pid), 0);
	EXPECT_ERR("O_WRONLY while the second runs", open(prog, O_WRONLY), ETXTBSY);
	close(hold2);
	siginfo_t si;
	EXPECT_OK("second runner is a zombie", waitid(P_PID, pid2, &si, WEXITED | WNOWAIT));
	fd = EXPECT_OK("O_WRONLY once it exited, before the reap", open(prog, O_WRONLY));
	close(fd);
	EXPECT_VAL("second runner's status", status_of(pid2), 0);

	/* The exe of a forked child keeps the file busy after its parent exits. */
	hold = start(prog, "fork", NULL, &pid);
	EXPECT_VAL("forking runner exits", status_of(pid), 0);
	EXPECT_ERR("O_WRONLY while its child runs", open(prog, O_WRONLY), ETXTBSY);
	close(hold);
	/* The grandchild is reparented; wait until it is gone. */
	for (int i = 0; i < 2000; i++) {
		fd = open(prog, O_WRONLY);
		if (fd >= 0)
			break;
		usleep(1000);
	}
	CHECK(fd >= 0);
	close(fd);

	/* After the runner execs another program, the first is free. */
	hold = start(prog, "chain", prog_b, &pid);
	fd = EXPECT_OK("O_WRONLY of the program it left", open(prog, O_WRONLY));
	close(fd);
	EXPECT_ERR("O_WRONLY of the program it runs now", open(prog_b, O_WRONLY), ETXTBSY);
	close(hold);
	EXPECT_VAL("chained runner exits", status_of(pid), 0);

	/* The runner itself cannot open /proc/self/exe for writing. */
	pid = fork();
	if (pid == 0) {
		char *args[] = {prog, "self", NULL};
		execv(prog, args);
		_exit(3);
	}
	EXPECT_VAL("/proc/self/exe for writing", status_of(pid), 0);

	/* Exec of a file open for writing. */
	fd = open(prog, O_WRONLY);
	char *exit_args[] = {prog, "exit", NULL};
	EXPECT_ERR("execve while open O_WRONLY", execv(prog, exit_args), ETXTBSY);
	EXPECT_ERR("execve through the hard link", execv(alias, exit_args), ETXTBSY);
	close(fd);
	fd = open(prog, O_RDWR);
	EXPECT_ERR("execve while open O_RDWR", execv(prog, exit_args), ETXTBSY);
	pid = fork();
	if (pid == 0) {
		close(fd);
		execv(prog, exit_args);
		_exit(errno == ETXTBSY ? 0 : 1);
	}
	EXPECT_VAL("a child's execve while the parent writes", status_of(pid), 0);
	int dup_fd = dup(fd);
	close(fd);
	pid = fork();
	if (pid == 0) {
		execv(prog, exit_args);
		_exit(errno == ETXTBSY ? 0 : 1);
	}
	EXPECT_VAL("execve while a dup is open", status_of(pid), 0);
	close(dup_fd);
	pid = fork();
	if (pid == 0) {
		execv(prog, exit_args);
		_exit(3);
	}
	EXPECT_VAL("execve once closed", status_of(pid), 7);
	fd = open(prog, O_RDONLY);
	pid = fork();
	if (pid == 0) {
		execv(prog, exit_args);
		_exit(3);
	}
	EXPECT_VAL("execve while open O_RDONLY", status_of(pid), 7);
	close(fd);

	/* The write access of an fd inherited by a forked child. */
	int keep[2];
	CHECK(pipe(keep) == 0);
	fd = open(prog, O_WRONLY);
	pid = fork();
	if (pid == 0) {
		/* Keeps the description after the parent closes its fd. */
		char c;
		close(keep[1]);
		while (read(keep[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(keep[0]);
	close(fd);
	pid2 = fork();
	if (pid2 == 0) {
		execv(prog, exit_args);
		_exit(errno == ETXTBSY ? 0 : 1);
	}
	EXPECT_VAL("execve while a child keeps the description", status_of(pid2), 0);
	close(keep[1]);
	EXPECT_VAL("holder exits", status_of(pid), 0);

	EXPECT_OK("unlink prog", unlink(prog));
	EXPECT_OK("unlink prog_b", unlink(prog_b));
	EXPECT_OK("unlink alias", unlink(alias));
	CHECK(chdir("/") == 0);
	EXPECT_OK("remove the directory", rmdir(dir_));
	return conformance_done();
}
