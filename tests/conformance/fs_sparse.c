/*
 * fs_sparse: see the checks below; runs in a fresh directory under /tmp
 * (made with mkdtemp, removed at the end) and prints properties only.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>

/* Each program works in a fresh directory under /tmp and removes it. */
static char dir_[] = "/tmp/carapace-fs-XXXXXX";
__attribute__((unused)) static void enter_tmpdir(void)
{
	umask(022);
	if (!mkdtemp(dir_)) {
		printf("FAIL: mkdtemp: %s\n", errno_name(errno));
		exit(1);
	}
	if (chdir(dir_) != 0) {
		printf("FAIL: chdir: %s\n", errno_name(errno));
		exit(1);
	}
}
__attribute__((unused)) static void leave_tmpdir(void)
{
	CHECK(chdir("/") == 0);
	EXPECT_OK("remove the directory", rmdir(dir_));
}

int main(void)
{
	conformance_init();
	enter_tmpdir();
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	char page[4096];
	memset(page, 'a', sizeof page);
	CHECK(pwrite(fd, page, 4096, 0) == 4096);
	CHECK(pwrite(fd, page, 4096, 1 << 20) == 4096);
	struct stat st;
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_size == (1 << 20) + 4096);
	CHECK(st.st_blocks >= 16 && st.st_blocks < 256);
	EXPECT_VAL("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA), 0);
	EXPECT_VAL("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE), 4096);
	EXPECT_VAL("SEEK_DATA in the hole", lseek(fd, 8192, SEEK_DATA), 1 << 20);
	EXPECT_VAL("SEEK_HOLE in data", lseek(fd, (1 << 20) + 10, SEEK_HOLE), (1 << 20) + 4096);
	EXPECT_ERR("SEEK_DATA at EOF", lseek(fd, (1 << 20) + 4096, SEEK_DATA), ENXIO);
	EXPECT_ERR("SEEK_HOLE past EOF", lseek(fd, (1 << 21), SEEK_HOLE), ENXIO);
	EXPECT_ERR("SEEK_DATA negative", lseek(fd, -1, SEEK_DATA), ENXIO);
	char buf[16];
	EXPECT_VAL("read in the hole", pread(fd, buf, 16, 100000), 16);
	CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	EXPECT_OK("extend with truncate", ftruncate(fd, 1 << 22));
	EXPECT_VAL("trailing hole", lseek(fd, (1 << 20) + 4096, SEEK_HOLE), (1 << 20) + 4096);
	EXPECT_ERR("no data after", lseek(fd, (1 << 20) + 4096, SEEK_DATA), ENXIO);
	close(fd);
	unlink("f");
	leave_tmpdir();
	return conformance_done();
}
