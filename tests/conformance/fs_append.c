/*
 * fs_append: see the checks below; runs in a fresh directory under /tmp
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
	char buf[32] = {0};
	int fd = EXPECT_OK("create", open("f", O_CREAT | O_WRONLY, 0644));
	EXPECT_VAL("write", write(fd, "0123456789", 10), 10);
	close(fd);
	fd = EXPECT_OK("O_APPEND", open("f", O_WRONLY | O_APPEND));
	EXPECT_VAL("position starts at 0", lseek(fd, 0, SEEK_CUR), 0);
	EXPECT_VAL("append", write(fd, "ab", 2), 2);
	EXPECT_VAL("position after append", lseek(fd, 0, SEEK_CUR), 12);
	EXPECT_VAL("seek to 0", lseek(fd, 0, SEEK_SET), 0);
	EXPECT_VAL("still appends", write(fd, "cd", 2), 2);
	EXPECT_VAL("position", lseek(fd, 0, SEEK_CUR), 14);
	EXPECT_VAL("pwrite with O_APPEND appends", pwrite(fd, "ef", 2, 0), 2);
	EXPECT_VAL("pwrite leaves the position", lseek(fd, 0, SEEK_CUR), 14);
	close(fd);
	fd = open("f", O_RDONLY);
	EXPECT_VAL("read all", read(fd, buf, sizeof buf), 16);
	CHECK(memcmp(buf, "0123456789abcdef", 16) == 0);
	close(fd);
	fd = EXPECT_OK("O_RDWR", open("f", O_RDWR));
	EXPECT_OK("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
	CHECK(fcntl(fd, F_GETFL) & O_APPEND);
	EXPECT_VAL("append via F_SETFL", write(fd, "g", 1), 1);
	EXPECT_OK("F_SETFL 0", fcntl(fd, F_SETFL, 0));
	EXPECT_VAL("seek 0", lseek(fd, 0, SEEK_SET), 0);
	EXPECT_VAL("overwrite", write(fd, "Z", 1), 1);
	close(fd);
	struct stat st;
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_size == 17);
	int a = open("f", O_WRONLY | O_APPEND), b = open("f", O_WRONLY | O_APPEND);
	int ok = 1;
	for (int i = 0; i < 50; i++)
		if (write(i % 2 ? a : b, "12345678", 8) != 8) ok = 0;
	CHECK(ok);
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_size == 17 + 400);
	close(a); close(b);
	unlink("f");
	leave_tmpdir();
	return conformance_done();
}
