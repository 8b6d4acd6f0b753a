/* execve from a thread that is not the leader: the other threads (blocked
 * in read, nanosleep and a futex wait) vanish, the exec'ing thread takes
 * over the leader's pid as its tid, and the parent's wait sees that pid. */
#include "conformance.h"
#include <dirent.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

static int block_pipe[2];
static int futex_word;

static void *block_read(void *arg)
{
	(void)arg;
	char c;
	read(block_pipe[0], &c, 1);
	return NULL;
}

static void *block_sleep(void *arg)
{
	(void)arg;
	struct timespec ts = {100, 0};
	nanosleep(&ts, NULL);
	return NULL;
}

static void *block_futex(void *arg)
{
	(void)arg;
	syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static char pid_arg[32];

static void *exec_thread(void *arg)
{
	char *self = arg;
	usleep(50000);
	char *argv[] = {self, "after-exec", pid_arg, NULL};
	char *envp[] = {NULL};
	execve(self, argv, envp);
	_exit(99);
}

/* The program after the exec: checks what it inherited and exits 0 if all
 * holds (the checks' lines are printed for the transcript). */
static int after_exec(const char *old_pid)
{
	CHECK(getpid() == atoi(old_pid));
	CHECK(syscall(SYS_gettid) == getpid());
	int threads = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d)))
		threads += e->d_name[0] != '.';
	if (d)
		closedir(d);
	EXPECT_VAL("threads after exec", threads, 1);
	return conformance_failures ? 1 : 42;
}

/* In a new child: notes its pid and starts threads blocked in read and
 * nanosleep. */
static void start_blocked_threads(void)
{
	snprintf(pid_arg, sizeof pid_arg, "%d", getpid());
	pipe(block_pipe);
	pthread_t t;
	pthread_create(&t, NULL, block_read, NULL);
	pthread_create(&t, NULL, block_sleep, NULL);
}

int main(int argc, char **argv)
{
	conformance_init();
	if (argc == 3 && strcmp(argv[1], "after-exec") == 0)
		return after_exec(argv[2]);

	for (int round = 0; round < 3; round++) {
		pid_t c = fork();
		if (c == 0) {
			start_blocked_threads();
			pthread_t t;
			pthread_create(&t, NULL, block_futex, NULL);
			pthread_create(&t, NULL, exec_thread, "/proc/self/exe");
			for (;;)
				pause();
		}
		int status;
		CHECK(waitpid(c, &status, 0) == c);
		CHECK(WIFEXITED(status));
		EXPECT_VAL("exec'd program's status", WEXITSTATUS(status), 42);
	}

	/* The leader execs while other threads block: the same, simpler. */
	pid_t c = fork();
	if (c == 0) {
		start_blocked_threads();
		char *args[] = {"/proc/self/exe", "after-exec", pid_arg, NULL};
		char *envp[] = {NULL};
		usleep(20000);
		execve(args[0], args, envp);
		_exit(99);
	}
	int status;
	CHECK(waitpid(c, &status, 0) == c);
	EXPECT_VAL("leader exec status", WEXITSTATUS(status), 42);
	return conformance_done();
}
