/*
 * fs_nlink_times: see the checks below; runs in a fresh directory under /tmp
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
	struct stat st, dst;
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
	close(open("f", O_CREAT | O_WRONLY, 0644));
	EXPECT_OK("set old times on f", utimensat(AT_FDCWD, "f", old, 0));
	EXPECT_OK("set old times on .", utimensat(AT_FDCWD, ".", old, 0));
	int fd = open("f", O_WRONLY);
	CHECK(write(fd, "x", 1) == 1);
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_mtime > 1000000000 && st.st_ctime > 1000000000);
	CHECK(st.st_atime == 1000000000);
	close(fd);
	EXPECT_OK("old times again", utimensat(AT_FDCWD, "f", old, 0));
	EXPECT_OK("chmod", chmod("f", 0600));
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_mtime == 1000000000 && st.st_ctime > 1000000000);
	EXPECT_OK("stat .", stat(".", &dst));
	CHECK(dst.st_mtime == 1000000000);
	EXPECT_OK("link", link("f", "g"));
	EXPECT_OK("stat .", stat(".", &dst));
	CHECK(dst.st_mtime > 1000000000);
	EXPECT_OK("old times on f", utimensat(AT_FDCWD, "f", old, 0));
	EXPECT_OK("unlink g", unlink("g"));
	EXPECT_OK("stat f", stat("f", &st));
	CHECK(st.st_nlink == 1 && st.st_mtime == 1000000000 && st.st_ctime > 1000000000);
	EXPECT_OK("old times on f", utimensat(AT_FDCWD, "f", old, 0));
	fd = open("f", O_RDONLY);
	char c;
	CHECK(read(fd, &c, 1) == 1);
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_atime > 1000000000 && st.st_mtime == 1000000000);
	close(fd);
	EXPECT_OK("old times on f", utimensat(AT_FDCWD, "f", old, 0));
	EXPECT_OK("rename", rename("f", "h"));
	EXPECT_OK("stat h", stat("h", &st));
	CHECK(st.st_mtime == 1000000000 && st.st_ctime > 1000000000);
	EXPECT_OK("mkdir", mkdir("d", 0755));
	EXPECT_OK("stat .", stat(".", &dst));
	CHECK(dst.st_nlink == 3);
	EXPECT_OK("rename dir into dir", (mkdir("e", 0755), rename("d", "e/d")));
	EXPECT_OK("stat e", stat("e", &dst));
	CHECK(dst.st_nlink == 3);
	EXPECT_OK("stat .", stat(".", &dst));
	CHECK(dst.st_nlink == 3);
	EXPECT_OK("ino stable across rename", stat("e/d", &st));
	struct stat again;
	EXPECT_OK("rename back", rename("e/d", "d"));
	EXPECT_OK("stat d", stat("d", &again));
	CHECK(st.st_ino == again.st_ino);
	rmdir("d"); rmdir("e"); unlink("h");
	leave_tmpdir();
	return conformance_done();
}
