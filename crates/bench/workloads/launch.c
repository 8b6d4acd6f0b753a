/* The harness's launcher, not a workload: `launch RESULT PROG [ARGS...]`.
 *
 * It starts PROG (looked up in PATH) with posix_spawnp, waits for it with
 * wait4 and writes `WALL_NS MAXRSS_KIB STATUS` to RESULT, then exits 0. Or
 * `error MESSAGE` when PROG cannot be started.
 *
 * Why a launcher: a child's ru_maxrss includes the peak RSS of the address
 * space it called execve from. The harness is a multi-MiB Rust process and
 * std spawns with CLONE_VM, so every child would report at least the
 * harness's RSS. This static program is tiny, so the child it spawns starts
 * from a tiny address space. It also times PROG from just before the spawn to
 * just after the wait, leaving the harness's own spawn cost out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: launch RESULT PROG [ARGS...]\n");
		return 2;
	}
	FILE *out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 2;
	}
	pid_t pid;
	struct rusage ru;
	int status;
	long long t0 = now_ns();
	int err = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
	if (err != 0) {
		fprintf(out, "error %s: %s\n", argv[2], strerror(err));
		fclose(out);
		return 0;
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(out, "error wait4: %s\n", strerror(errno));
			fclose(out);
			return 0;
		}
	}
	long long wall = now_ns() - t0;
	fprintf(out, "%lld %ld %d\n", wall, ru.ru_maxrss, status);
	return fclose(out) == 0 ? 0 : 2;
}
