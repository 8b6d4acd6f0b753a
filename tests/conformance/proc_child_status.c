/* /proc/[pid]/stat and /proc/[pid]/status of children: the state letter
 * of a sleeping, a stopped and a zombie child, PPid, Tgid, the Threads
 * count of a multi-threaded child, and the fields of stat that agree. */
#include "conformance.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static char buf[8192];

static const char *read_proc(pid_t pid, const char *file)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
	return buf;
}

/* The value of `key:` in status, as a string (its first word). */
static const char *status_field(pid_t pid, const char *key)
{
	static char value[64];
	read_proc(pid, "status");
	value[0] = 0;
	size_t len = strlen(key);
	for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, len) == 0 && line[len] == ':') {
			sscanf(line + len + 1, "%63s", value);
			break;
		}
	}
	return value;
}

/* stat's state letter (field 3) and ppid (field 4). */
static char stat_state(pid_t pid, int *ppid)
{
	read_proc(pid, "stat");
	char *close_paren = strrchr(buf, ')');
	char state = 0;
	*ppid = -1;
	if (close_paren)
		sscanf(close_paren + 2, "%c %d", &state, ppid);
	return state;
}

/* Polls until the child's stat shows `want` (a state change is not
 * instantaneous: the child has to get there). */
static char wait_state(pid_t pid, char want)
{
	int ppid;
	char state = 0;
	for (int i = 0; i < 500; i++) {
		state = stat_state(pid, &ppid);
		if (state == want)
			break;
		usleep(2000);
	}
	return state;
}

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	conformance_init();
	int sync[2];
	CHECK(pipe(sync) == 0);
	pid_t me = getpid();

	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		pthread_create(&t, NULL, park, NULL);
		pthread_create(&t, NULL, park, NULL);
		write(sync[1], "r", 1);
		for (;;)
			pause();
	}
	char ch;
	CHECK(read(sync[0], &ch, 1) == 1);
	printf("sleeping child state: %c\n", wait_state(c, 'S'));
	int ppid;
	stat_state(c, &ppid);
	CHECK(ppid == me);
	CHECK(atoi(status_field(c, "PPid")) == me);
	CHECK(atoi(status_field(c, "Tgid")) == c);
	CHECK(atoi(status_field(c, "Pid")) == c);
	printf("threads: %s\n", status_field(c, "Threads"));
	printf("status state: %s\n", status_field(c, "State"));

	CHECK(kill(c, SIGSTOP) == 0);
	int status;
	CHECK(waitpid(c, &status, WUNTRACED) == c && WIFSTOPPED(status));
	printf("stopped child state: %c\n", wait_state(c, 'T'));
	printf("status state: %s\n", status_field(c, "State"));
	CHECK(kill(c, SIGCONT) == 0);
	printf("continued child state: %c\n", wait_state(c, 'S'));

	CHECK(kill(c, SIGKILL) == 0);
	siginfo_t info;
	CHECK(waitid(P_PID, c, &info, WEXITED | WNOWAIT) == 0);
	printf("zombie child state: %c\n", wait_state(c, 'Z'));
	printf("status state: %s\n", status_field(c, "State"));
	CHECK(atoi(status_field(c, "PPid")) == me);
	CHECK(waitpid(c, &status, 0) == c);
	CHECK(open("/proc/self/stat", O_RDONLY) >= 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", c);
	EXPECT_ERR("reaped child's stat", open(path, O_RDONLY), ENOENT);

	/* Our own: running while we read it. */
	printf("self state: %c\n", stat_state(getpid(), &ppid));
	printf("self threads: %s\n", status_field(getpid(), "Threads"));
	return conformance_done();
}
