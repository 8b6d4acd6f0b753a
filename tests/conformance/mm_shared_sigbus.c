/*
 * ftruncate shrinking a mapped file: a touch of a page wholly beyond the
 * new end raises SIGBUS with BUS_ADRERR at the touched address, for shared
 * and private mappings (even pages the private mapping had written); the
 * rest of the page holding the new end reads as zeros.
 */
#include "conformance.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#define PG 4096L

static sigjmp_buf env;
static volatile int got_signo, got_code;
static void *volatile got_addr;

static void handler(int signo, siginfo_t *info, void *ctx)
{
	(void)ctx;
	got_signo = signo;
	got_code = info->si_code;
	got_addr = info->si_addr;
	siglongjmp(env, 1);
}

/* Reads (or writes) *p; returns the signal it raised, or 0. */
static int touch(volatile char *p, int write)
{
	got_signo = 0;
	got_addr = NULL;
	if (sigsetjmp(env, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	return got_signo;
}

static int temp_file(void)
{
	char path[] = "/tmp/mm_shared_XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

int main(void)
{
	conformance_init();
	struct sigaction sa = {0};
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	EXPECT_OK("sigaction", sigaction(SIGBUS, &sa, NULL));
	EXPECT_OK("sigaction", sigaction(SIGSEGV, &sa, NULL));

	int fd = temp_file();
	CHECK(fd >= 0);
	static char data[3 * PG];
	memset(data, 'd', sizeof(data));
	EXPECT_VAL("pwrite 3 pages", pwrite(fd, data, sizeof(data), 0), sizeof(data));
	char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && p != MAP_FAILED);
	/* Every page is touched first: shared written, private copied. */
	for (int i = 0; i < 3; i++) {
		CHECK(touch(m + i * PG + 8, 1) == 0);
		CHECK(touch(p + i * PG + 8, 1) == 0);
	}
	CHECK(p[2 * PG + 9] == 'd' && p[2 * PG + 8] == 1);

	EXPECT_OK("ftruncate to 100 bytes", ftruncate(fd, 100));
	/* The page holding the end stays, zeroed beyond it in the shared one. */
	CHECK(touch(m + 50, 0) == 0 && m[50] == 'd');
	CHECK(touch(m + 200, 0) == 0 && m[200] == 0);
	CHECK(touch(p + 50, 0) == 0);
	/* Pages wholly beyond the end: SIGBUS, BUS_ADRERR, the address. */
	printf("shared read beyond end: %s\n", strsignal(touch(m + PG + 5, 0)));
	CHECK(got_code == BUS_ADRERR && got_addr == m + PG + 5);
	printf("shared write beyond end: %s\n", strsignal(touch(m + 2 * PG, 1)));
	CHECK(got_code == BUS_ADRERR && got_addr == m + 2 * PG);
	printf("private written page beyond end: %s\n", strsignal(touch(p + 2 * PG + 8, 0)));
	CHECK(got_code == BUS_ADRERR && got_addr == p + 2 * PG + 8);
	printf("private write beyond end: %s\n", strsignal(touch(p + PG, 1)));
	CHECK(got_code == BUS_ADRERR);

	/* The sentry's own accesses fail with EFAULT, not a signal. */
	EXPECT_ERR("write from a page beyond end", write(fd, m + PG, 1), EFAULT);
	EXPECT_VAL("size unchanged by the failed write", lseek(fd, 0, SEEK_END), 100);

	/* Growing the file again makes the pages accessible, as zeros. */
	EXPECT_OK("ftruncate to 2 pages", ftruncate(fd, 2 * PG));
	CHECK(touch(m + PG + 5, 0) == 0 && m[PG + 5] == 0);
	CHECK(touch(p + PG + 8, 0) == 0 && p[PG + 8] == 0);
	printf("still beyond end: %s\n", strsignal(touch(m + 2 * PG, 0)));

	/* Truncation to zero. */
	EXPECT_OK("ftruncate to 0", ftruncate(fd, 0));
	printf("shared page 0 after truncation to 0: %s\n", strsignal(touch(m, 0)));
	CHECK(got_addr == m);
	printf("private page 0 after truncation to 0: %s\n", strsignal(touch(p + 8, 0)));
	munmap(m, 3 * PG);
	munmap(p, 3 * PG);
	close(fd);
	return conformance_done();
}
