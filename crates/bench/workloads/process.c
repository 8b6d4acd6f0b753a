/* Processes and threads: fork + _exit + wait, fork + execve(PATH) + wait,
 * and pthread_create + pthread_join. */
#include "common.h"
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void reap(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("child failed");
}

static long long do_fork(long n, const char *path, long *ops)
{
	(void)path;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		reap(pid);
	}
	*ops = n;
	return now_ns() - t0;
}

static long long do_exec(long n, const char *path, long *ops)
{
	char *const args[] = { (char *)path, NULL };
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execve(path, args, environ);
			_exit(127);
		}
		reap(pid);
	}
	*ops = n;
	return now_ns() - t0;
}

static void *nothing(void *arg)
{
	return arg;
}

static long long do_thread(long n, const char *path, long *ops)
{
	(void)path;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pthread_t t;
		int err = pthread_create(&t, NULL, nothing, NULL);
		if (err != 0) {
			errno = err;
			die("pthread_create");
		}
		err = pthread_join(t, NULL);
		if (err != 0) {
			errno = err;
			die("pthread_join");
		}
	}
	*ops = n;
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	static const struct mode modes[] = {
		{ "fork", do_fork, 0 },
		{ "exec", do_exec, 1 },
		{ "thread", do_thread, 0 },
		{ 0 },
	};
	return bench_main(argc, argv, modes);
}
