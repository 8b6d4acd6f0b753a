/*
 * ftruncate shrinking a mapped file: a touch of a page wholly beyond the
 * new end raises SIGBUS with BUS_ADRERR at the touched address, for shared
 * and private mappings (even pages the private mapping had written); the
 * rest of the page holding the new end reads as zeros. A truncation by
 * another process does the same.
 */
#include "mm_shared.h"

#include <sys/wait.h>

int main(void)
{
	conformance_init();
	catch_faults();

	int fd = temp_file(NULL, 0);
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

	/* A truncation by another process takes the pages from this one too. */
	EXPECT_VAL("pwrite 2 pages", pwrite(fd, data, 2 * PG, 0), 2 * PG);
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK(touch(m + PG, 0) == 0 && m[PG] == 'd');
	pid_t pid = fork();
	if (pid == 0)
		_exit(ftruncate(fd, 10) == 0 ? 0 : 1);
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("page truncated by a child: %s\n", strsignal(touch(m + PG, 0)));
	CHECK(got_code == BUS_ADRERR && got_addr == m + PG);
	CHECK(touch(m + 5, 0) == 0 && m[5] == 'd' && m[10] == 0);
	munmap(m, 2 * PG);
	close(fd);
	return conformance_done();
}
