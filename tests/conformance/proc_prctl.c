/* prctl: PR_SET_NAME truncation and PR_GET_NAME (also through /proc comm,
 * per thread), PR_SET_PDEATHSIG (checked, not inherited, delivered when
 * the parent *thread* exits), PR_SET_DUMPABLE, unknown options. */
#include "conformance.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

static void *thread_name(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "worker-thread");
	char path[64], comm[64], mine[32];
	snprintf(path, sizeof path, "/proc/self/task/%ld/comm", (long)syscall(SYS_gettid));
	read_file(path, comm, sizeof comm);
	prctl(PR_GET_NAME, mine);
	return (void *)(long)(strcmp(comm, "worker-thread\n") == 0 &&
			      strcmp(mine, "worker-thread") == 0);
}

static int pdeath_pipe[2];

/* A thread that forks a child with PR_SET_PDEATHSIG, then exits. */
static void *parent_thread(void *arg)
{
	(void)arg;
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		write(pdeath_pipe[1], "r", 1);
		for (;;)
			pause();
	}
	char ch;
	read(pdeath_pipe[0], &ch, 1);
	return (void *)(long)c;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "dumpable") == 0)
		return prctl(PR_GET_DUMPABLE);
	conformance_init();
	char name[32];

	EXPECT_VAL("get initial name", prctl(PR_GET_NAME, name), 0);
	printf("initial name: %s\n", name);
	EXPECT_VAL("set name", prctl(PR_SET_NAME, "a-very-long-process-name"), 0);
	memset(name, 'x', sizeof name);
	EXPECT_VAL("get name", prctl(PR_GET_NAME, name), 0);
	printf("name: %s (%zu)\n", name, strlen(name));
	char comm[64];
	read_file("/proc/self/comm", comm, sizeof comm);
	printf("comm: %s", comm);
	EXPECT_VAL("set short name", prctl(PR_SET_NAME, "short"), 0);
	prctl(PR_GET_NAME, name);
	printf("name: %s\n", name);
	EXPECT_ERR("set name bad pointer", prctl(PR_SET_NAME, BAD_PTR), EFAULT);
	EXPECT_ERR("get name bad pointer", prctl(PR_GET_NAME, BAD_PTR), EFAULT);
	pthread_t t;
	void *ret;
	pthread_create(&t, NULL, thread_name, NULL);
	pthread_join(t, &ret);
	EXPECT_VAL("thread name is per thread", (long)ret, 1);
	prctl(PR_GET_NAME, name);
	printf("leader keeps: %s\n", name);
	/* A child inherits the name; exec names it after the new file. */
	int fds[2];
	CHECK(pipe(fds) == 0);
	pid_t k = fork();
	if (k == 0) {
		char mine[32];
		prctl(PR_GET_NAME, mine);
		dup2(fds[1], 1);
		printf("child: %s\n", mine);
		fflush(stdout);
		char *argv[] = {"/bin/cat", "/proc/self/comm", NULL};
		char *envp[] = {NULL};
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(fds[1]);
	char out[64] = {0};
	for (size_t got = 0, n; got < sizeof out - 1 && (n = read(fds[0], out + got, sizeof out - 1 - got)) > 0;)
		got += n;
	printf("%s", out);
	close(fds[0]);
	waitpid(k, NULL, 0);

	int sig = -1;
	EXPECT_VAL("get pdeathsig", prctl(PR_GET_PDEATHSIG, &sig), 0);
	EXPECT_VAL("pdeathsig", sig, 0);
	EXPECT_ERR("set pdeathsig 65", prctl(PR_SET_PDEATHSIG, 65), EINVAL);
	EXPECT_ERR("set pdeathsig -1", prctl(PR_SET_PDEATHSIG, -1), EINVAL);
	EXPECT_VAL("set pdeathsig", prctl(PR_SET_PDEATHSIG, SIGHUP), 0);
	prctl(PR_GET_PDEATHSIG, &sig);
	EXPECT_VAL("pdeathsig", sig, SIGHUP);
	EXPECT_ERR("get pdeathsig bad pointer", prctl(PR_GET_PDEATHSIG, BAD_PTR), EFAULT);
	pid_t c = fork();
	if (c == 0) {
		int s = -1;
		prctl(PR_GET_PDEATHSIG, &s);
		_exit(s);
	}
	int status;
	CHECK(waitpid(c, &status, 0) == c);
	EXPECT_VAL("child's pdeathsig (not inherited)", WEXITSTATUS(status), 0);
	prctl(PR_SET_PDEATHSIG, 0);

	/* The death signal comes when the thread that forked the child exits,
	 * though the process lives on. */
	CHECK(pipe(pdeath_pipe) == 0);
	pthread_create(&t, NULL, parent_thread, NULL);
	pthread_join(t, &ret);
	c = (pid_t)(long)ret;
	CHECK(waitpid(c, &status, 0) == c);
	CHECK(WIFSIGNALED(status));
	EXPECT_VAL("child killed by its death signal", WTERMSIG(status), SIGUSR1);

	EXPECT_VAL("get dumpable", prctl(PR_GET_DUMPABLE), 1);
	EXPECT_VAL("set dumpable 0", prctl(PR_SET_DUMPABLE, 0), 0);
	EXPECT_VAL("get dumpable", prctl(PR_GET_DUMPABLE), 0);
	c = fork();
	if (c == 0)
		_exit(prctl(PR_GET_DUMPABLE));
	CHECK(waitpid(c, &status, 0) == c);
	EXPECT_VAL("child inherits dumpable", WEXITSTATUS(status), 0);
	c = fork();
	if (c == 0) {
		char *argv[] = {"/proc/self/exe", "dumpable", NULL};
		char *envp[] = {NULL};
		execve(argv[0], argv, envp);
		_exit(127);
	}
	CHECK(waitpid(c, &status, 0) == c);
	EXPECT_VAL("dumpable again after exec", WEXITSTATUS(status), 1);
	EXPECT_ERR("set dumpable 2", prctl(PR_SET_DUMPABLE, 2), EINVAL);
	EXPECT_ERR("set dumpable 3", prctl(PR_SET_DUMPABLE, 3), EINVAL);
	EXPECT_VAL("set dumpable 1", prctl(PR_SET_DUMPABLE, 1), 0);
	EXPECT_VAL("get dumpable", prctl(PR_GET_DUMPABLE), 1);

	EXPECT_ERR("unknown option", prctl(0x7fff0000, 0, 0, 0, 0), EINVAL);
	return conformance_done();
}
