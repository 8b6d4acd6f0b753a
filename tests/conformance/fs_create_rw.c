/*
 * fs_create_rw: see the checks below; runs in a fresh directory under /tmp
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
	char buf[64] = {0};
	int fd = EXPECT_OK("open O_CREAT", open("f", O_CREAT | O_RDWR, 0644));
	EXPECT_VAL("write", write(fd, "hello world", 11), 11);
	EXPECT_VAL("lseek 0", lseek(fd, 0, SEEK_SET), 0);
	EXPECT_VAL("read back", read(fd, buf, sizeof buf), 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	EXPECT_VAL("pwrite", pwrite(fd, "W", 1, 6), 1);
	EXPECT_VAL("pread", pread(fd, buf, 5, 6), 5);
	CHECK(memcmp(buf, "World", 5) == 0);
	struct stat st;
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
	CHECK(st.st_size == 11 && st.st_nlink == 1);
	CHECK(st.st_uid == geteuid() && st.st_gid == getegid());
	EXPECT_VAL("write past the end", pwrite(fd, "!", 1, 20), 1);
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_size == 21);
	EXPECT_VAL("read the gap", pread(fd, buf, 9, 11), 9);
	CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0\0", 9) == 0);
	EXPECT_OK("close", close(fd));
	EXPECT_ERR("O_CREAT|O_EXCL existing", open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	fd = EXPECT_OK("O_TRUNC", open("f", O_WRONLY | O_TRUNC));
	EXPECT_OK("fstat after O_TRUNC", fstat(fd, &st));
	CHECK(st.st_size == 0);
	EXPECT_ERR("read on O_WRONLY", read(fd, buf, 1), EBADF);
	close(fd);
	fd = EXPECT_OK("creat", creat("g", 0600));
	EXPECT_VAL("write to creat", write(fd, "x", 1), 1);
	close(fd);
	EXPECT_OK("stat g", stat("g", &st));
	CHECK((st.st_mode & 07777) == 0600 && st.st_size == 1);
	fd = EXPECT_OK("O_RDONLY|O_TRUNC truncates", open("g", O_RDONLY | O_TRUNC));
	close(fd);
	EXPECT_OK("stat g again", stat("g", &st));
	CHECK(st.st_size == 0);
	fd = EXPECT_OK("O_CREAT with mode 0 then RDWR", open("h", O_CREAT | O_RDWR, 0));
	EXPECT_VAL("write a 0-mode file created now", write(fd, "y", 1), 1);
	close(fd);
	EXPECT_OK("unlink f", unlink("f"));
	EXPECT_OK("unlink g", unlink("g"));
	EXPECT_OK("unlink h", unlink("h"));
	EXPECT_ERR("unlink again", unlink("f"), ENOENT);
	EXPECT_ERR("open removed", open("f", O_RDONLY), ENOENT);
	leave_tmpdir();
	return conformance_done();
}
