/* Anonymous memory: first touch of fresh pages (ITERATIONS is MiB, the
 * result is per 4 KiB page), and mmap + touch + munmap churn of 64 KiB. */
#include "common.h"
#include <sys/mman.h>
#include <unistd.h>

static long long touch(long mib, const char *path, long *ops)
{
	(void)path;
	size_t len = (size_t)mib << 20;
	long page = sysconf(_SC_PAGESIZE);
	long long t0 = now_ns();
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	for (size_t off = 0; off < len; off += (size_t)page)
		p[off] = 1;
	if (munmap((void *)p, len) != 0)
		die("munmap");
	*ops = (long)(len / (size_t)page);
	return now_ns() - t0;
}

static long long churn(long n, const char *path, long *ops)
{
	(void)path;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		volatile char *p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		p[0] = 1;
		if (munmap((void *)p, 64 * 1024) != 0)
			die("munmap");
	}
	*ops = n;
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	static const struct mode modes[] = {
		{ "touch", touch, 0 },
		{ "churn", churn, 0 },
		{ 0 },
	};
	return bench_main(argc, argv, modes);
}
