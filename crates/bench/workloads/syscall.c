/* Syscall round trip: getppid through the raw syscall(2) entry and through
 * the libc wrapper. The two differ once a platform patches syscall sites. */
#include "common.h"
#include <sys/syscall.h>
#include <unistd.h>

static volatile long sink;

static long long raw(long n, const char *path, long *ops)
{
	(void)path;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		sink = syscall(SYS_getppid);
	*ops = n;
	return now_ns() - t0;
}

static long long wrapper(long n, const char *path, long *ops)
{
	(void)path;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		sink = getppid();
	*ops = n;
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	static const struct mode modes[] = {
		{ "syscall", raw, 0 },
		{ "libc", wrapper, 0 },
		{ 0 },
	};
	return bench_main(argc, argv, modes);
}
