/*
 * fs_truncate: see the checks below; runs in a fresh directory under /tmp
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
	struct stat st;
	char buf[32];
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	CHECK(write(fd, "0123456789", 10) == 10);
	EXPECT_OK("truncate shorter", truncate("f", 4));
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_size == 4);
	EXPECT_OK("ftruncate longer", ftruncate(fd, 12));
	EXPECT_VAL("read", pread(fd, buf, sizeof buf, 0), 12);
	CHECK(memcmp(buf, "0123\0\0\0\0\0\0\0\0", 12) == 0);
	EXPECT_OK("truncate to 0", ftruncate(fd, 0));
	EXPECT_VAL("read empty", pread(fd, buf, sizeof buf, 0), 0);
	EXPECT_VAL("offset survives truncation", lseek(fd, 0, SEEK_CUR), 10);
	EXPECT_VAL("write at the old offset", write(fd, "x", 1), 1);
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_size == 11);
	EXPECT_OK("huge sparse truncate", ftruncate(fd, 1LL << 40));
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_size == (1LL << 40) && st.st_blocks < 1024);
	EXPECT_OK("back down", ftruncate(fd, 3));
	EXPECT_ERR("negative", ftruncate(fd, -1), EINVAL);
	EXPECT_ERR("truncate negative", truncate("f", -1), EINVAL);
	close(fd);
	fd = open("f", O_RDONLY);
	EXPECT_ERR("ftruncate O_RDONLY", ftruncate(fd, 0), EINVAL);
	close(fd);
	EXPECT_OK("mkdir", mkdir("d", 0755));
	EXPECT_ERR("truncate a dir", truncate("d", 0), EISDIR);
	fd = open("d", O_RDONLY);
	EXPECT_ERR("ftruncate a dir", ftruncate(fd, 0), EINVAL);
	close(fd);
	EXPECT_ERR("truncate missing", truncate("nope", 0), ENOENT);
	EXPECT_OK("chmod 4755", chmod("f", 04755));
	EXPECT_OK("root truncate keeps setuid", truncate("f", 1));
	EXPECT_OK("stat", stat("f", &st));
	CHECK((st.st_mode & 07777) == 04755 && st.st_size == 1);
	unlink("f"); rmdir("d");
	leave_tmpdir();
	return conformance_done();
}
