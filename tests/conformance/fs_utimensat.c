/*
 * fs_utimensat: see the checks below; runs in a fresh directory under /tmp
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
	close(open("f", O_CREAT | O_WRONLY, 0644));
	struct timespec ts[2] = {{1000000000, 123456789}, {1100000000, 5}};
	EXPECT_OK("set both", utimensat(AT_FDCWD, "f", ts, 0));
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123456789);
	CHECK(st.st_mtim.tv_sec == 1100000000 && st.st_mtim.tv_nsec == 5);
	struct timespec omit[2] = {{0, UTIME_OMIT}, {1200000000, 0}};
	EXPECT_OK("omit atime", utimensat(AT_FDCWD, "f", omit, 0));
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1200000000);
	struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	EXPECT_OK("now for atime", utimensat(AT_FDCWD, "f", now, 0));
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_atim.tv_sec > 1600000000 && st.st_mtim.tv_sec == 1200000000);
	EXPECT_OK("NULL times", utimensat(AT_FDCWD, "f", NULL, 0));
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_mtim.tv_sec > 1600000000);
	CHECK(st.st_ctim.tv_sec > 1600000000);
	int fd = open("f", O_RDONLY);
	EXPECT_OK("futimens", futimens(fd, ts));
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(st.st_mtim.tv_sec == 1100000000);
	close(fd);
	struct timeval tv[2] = {{900000000, 1}, {900000001, 2}};
	EXPECT_OK("utimes", utimes("f", tv));
	EXPECT_OK("stat", stat("f", &st));
	CHECK(st.st_atim.tv_sec == 900000000 && st.st_atim.tv_nsec == 1000);
	CHECK(st.st_mtim.tv_sec == 900000001 && st.st_mtim.tv_nsec == 2000);
	EXPECT_OK("symlink", symlink("f", "l"));
	EXPECT_OK("NOFOLLOW sets the link's times", utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
	EXPECT_OK("lstat", lstat("l", &st));
	CHECK(st.st_mtim.tv_sec == 1100000000);
	EXPECT_OK("stat target", stat("f", &st));
	CHECK(st.st_mtim.tv_sec == 900000001);
	struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
	EXPECT_ERR("bad nsec", utimensat(AT_FDCWD, "f", bad, 0), EINVAL);
	EXPECT_ERR("bad flags", utimensat(AT_FDCWD, "f", NULL, 0x1), EINVAL);
	EXPECT_ERR("missing", utimensat(AT_FDCWD, "nope", NULL, 0), ENOENT);
	unlink("l"); unlink("f");
	leave_tmpdir();
	return conformance_done();
}
