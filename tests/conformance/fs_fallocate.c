/*
 * fs_fallocate: see the checks below; runs in a fresh directory under /tmp
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

#include <linux/falloc.h>
int main(void)
{
	conformance_init();
	enter_tmpdir();
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	struct stat st;
	EXPECT_OK("fallocate 0", fallocate(fd, 0, 0, 8192));
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_size == 8192 && st.st_blocks >= 16);
	EXPECT_OK("KEEP_SIZE", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_size == 8192 && st.st_blocks >= 32);
	char page[12288];
	memset(page, 'z', sizeof page);
	CHECK(pwrite(fd, page, sizeof page, 0) == (ssize_t)sizeof page);
	EXPECT_OK("PUNCH_HOLE|KEEP_SIZE", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096));
	char buf[4096];
	EXPECT_VAL("read the hole", pread(fd, buf, 4096, 4096), 4096);
	int zero = 1;
	for (int i = 0; i < 4096; i++) if (buf[i]) zero = 0;
	CHECK(zero);
	EXPECT_VAL("data around it", pread(fd, buf, 1, 8192), 1);
	CHECK(buf[0] == 'z');
	EXPECT_VAL("SEEK_HOLE finds the punched page", lseek(fd, 0, SEEK_HOLE), 4096);
	EXPECT_OK("unaligned punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, 5));
	EXPECT_VAL("read", pread(fd, buf, 20, 0), 20);
	CHECK(buf[9] == 'z' && buf[10] == 0 && buf[14] == 0 && buf[15] == 'z');
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_size == 12288);
	EXPECT_ERR("PUNCH_HOLE without KEEP_SIZE", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
	EXPECT_ERR("zero length", fallocate(fd, 0, 0, 0), EINVAL);
	EXPECT_ERR("negative offset", fallocate(fd, 0, -1, 10), EINVAL);
	EXPECT_ERR("unknown mode", fallocate(fd, 0x100, 0, 10), EOPNOTSUPP);
	EXPECT_ERR("NO_HIDE_STALE", fallocate(fd, 0x4, 0, 10), EOPNOTSUPP);
	EXPECT_ERR("too big", fallocate(fd, 0, 0x7fffffffffffffffLL, 10), EFBIG);
	EXPECT_ERR("bad fd", fallocate(999, 0, 0, 10), EBADF);
	close(fd);
	fd = open("f", O_RDONLY);
	EXPECT_ERR("read-only fd", fallocate(fd, 0, 0, 10), EBADF);
	close(fd);
	EXPECT_OK("mkdir", mkdir("d", 0755));
	fd = open("d", O_RDONLY);
	EXPECT_ERR("directory (not writable)", fallocate(fd, 0, 0, 10), EBADF);
	close(fd);
	unlink("f"); rmdir("d");
	leave_tmpdir();
	return conformance_done();
}
