/*
 * fs_unlink_open: see the checks below; runs in a fresh directory under /tmp
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
	char buf[16] = {0};
	int fd = EXPECT_OK("create", open("f", O_CREAT | O_RDWR, 0644));
	EXPECT_VAL("write", write(fd, "still here", 10), 10);
	int fd2 = EXPECT_OK("open again", open("f", O_RDONLY));
	EXPECT_OK("unlink", unlink("f"));
	EXPECT_ERR("gone by name", access("f", F_OK), ENOENT);
	struct stat st;
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_nlink == 0 && st.st_size == 10);
	EXPECT_VAL("read through the second fd", read(fd2, buf, sizeof buf), 10);
	CHECK(memcmp(buf, "still here", 10) == 0);
	EXPECT_VAL("write after unlink", pwrite(fd, "S", 1, 0), 1);
	EXPECT_VAL("pread sees it", pread(fd2, buf, 1, 0), 1);
	CHECK(buf[0] == 'S');
	EXPECT_OK("ftruncate after unlink", ftruncate(fd, 3));
	EXPECT_OK("fstat again", fstat(fd2, &st));
	CHECK(st.st_size == 3);
	fd = EXPECT_OK("a new file by the old name", open("f", O_CREAT | O_EXCL | O_RDWR, 0644));
	EXPECT_OK("fstat new", fstat(fd, &st));
	CHECK(st.st_size == 0 && st.st_nlink == 1);
	close(fd);
	close(fd2);
	EXPECT_OK("unlink new", unlink("f"));
	EXPECT_OK("mkdir", mkdir("d", 0755));
	int dfd = EXPECT_OK("open dir", open("d", O_RDONLY | O_DIRECTORY));
	EXPECT_OK("rmdir while open", rmdir("d"));
	EXPECT_OK("fstat removed dir", fstat(dfd, &st));
	CHECK(st.st_nlink == 0);
	EXPECT_ERR("create in the removed dir", openat(dfd, "x", O_CREAT | O_WRONLY, 0644), ENOENT);
	close(dfd);
	leave_tmpdir();
	return conformance_done();
}
