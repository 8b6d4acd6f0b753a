/*
 * Mappings that reach beyond the end of file when they are made: the page
 * holding the end is accessible (zero beyond it), later pages raise
 * SIGBUS (BUS_ADRERR), for shared and private mappings; stores beyond the
 * end within the last page do not change the file size; an empty file's
 * first page faults too; and the sentry's own accesses give EFAULT.
 */
#include "mm_shared.h"

#include <sys/stat.h>

int main(void)
{
	conformance_init();
	catch_faults();

	int fd = temp_file(NULL, 0);
	CHECK(fd >= 0);
	static char data[100];
	memset(data, 'f', sizeof(data));
	EXPECT_VAL("pwrite 100 bytes", pwrite(fd, data, sizeof(data), 0), 100);

	for (int shared = 1; shared >= 0; shared--) {
		const char *kind = shared ? "shared" : "private";
		char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE,
			       fd, 0);
		CHECK(m != MAP_FAILED);
		printf("%s: first page: %d, byte 99 '%c', byte 100 zero: %d\n", kind,
		       touch(m + 99, 0), m[99], m[100] == 0);
		printf("%s: store beyond end in the last page: %d\n", kind, touch(m + 200, 1));
		printf("%s: second page: %s code BUS_ADRERR %d at address %d\n", kind,
		       strsignal(touch(m + PG + 1, 0)), got_code == BUS_ADRERR, got_addr == m + PG + 1);
		printf("%s: third page write: %s\n", kind, strsignal(touch(m + 2 * PG, 1)));
		struct stat st;
		EXPECT_OK("fstat", fstat(fd, &st));
		EXPECT_VAL("size", st.st_size, 100);
		EXPECT_ERR("read into a page beyond end", read(fd, m + PG, 10), EFAULT);
		EXPECT_ERR("write from a page beyond end", pwrite(fd, m + PG, 10, 0), EFAULT);
		munmap(m, 3 * PG);
	}

	/* A mapping at an offset wholly beyond the end is allowed; its pages fault. */
	char *far = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 4 * PG);
	CHECK(far != MAP_FAILED);
	printf("mapping at offset beyond end: %s\n", strsignal(touch(far, 0)));
	munmap(far, PG);

	/* An empty file. */
	EXPECT_OK("ftruncate 0", ftruncate(fd, 0));
	char *e = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(e != MAP_FAILED);
	printf("empty file: %s\n", strsignal(touch(e, 1)));
	EXPECT_OK("ftruncate 1", ftruncate(fd, 1));
	printf("after growing to one byte: %d\n", touch(e + 10, 1));
	char c = 1;
	EXPECT_VAL("pread byte 0", pread(fd, &c, 1, 0), 1);
	CHECK(c == 0);
	munmap(e, PG);
	close(fd);
	return conformance_done();
}
