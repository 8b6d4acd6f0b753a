/* Shared by the carapace-bench workloads.
 *
 * Every workload is `PROGRAM MODE ITERATIONS [PATH]`. It runs the operation
 * ITERATIONS/10 + 1 times to warm up, then ITERATIONS times under
 * CLOCK_MONOTONIC, and prints the nanoseconds per operation on stdout as a
 * single number. Set-up (files, child processes) happens outside the timed
 * part. Any failure prints `what: strerror` on stderr and exits 1, so the
 * harness can tell "not supported" from a result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "%s\n", what);
	exit(1);
}

/* One mode: runs `n` operations, returns the nanoseconds they took and sets
 * `*ops` to the number of operations the result is divided by (usually n). */
typedef long long (*mode_fn)(long n, const char *path, long *ops);

struct mode {
	const char *name;
	mode_fn run;
	int needs_path;
};

static int bench_main(int argc, char **argv, const struct mode *modes)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODE ITERATIONS [PATH]\n", argv[0]);
		return 2;
	}
	long n = strtol(argv[2], NULL, 10);
	if (n <= 0)
		fail("ITERATIONS must be positive");
	for (const struct mode *m = modes; m->name; m++) {
		if (strcmp(m->name, argv[1]) != 0)
			continue;
		const char *path = argc > 3 ? argv[3] : NULL;
		if (m->needs_path && !path)
			fail("this mode needs a PATH");
		long ops = 0;
		m->run(n / 10 + 1, path, &ops);
		long long ns = m->run(n, path, &ops);
		if (ops <= 0)
			fail("no operations counted");
		if (printf("%.3f\n", (double)ns / (double)ops) < 0 || fflush(stdout) != 0)
			die("write result");
		return 0;
	}
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}
