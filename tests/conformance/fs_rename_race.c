/*
 * fs_rename_race: see the checks below; runs in a fresh directory under /tmp
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
	int fd = EXPECT_OK("create", open("a", O_CREAT | O_RDWR, 0644));
	int ok = 1;
	for (int i = 0; i < 500; i++) {
		const char *from = (i % 2) ? "b" : "a", *to = (i % 2) ? "a" : "b";
		if (rename(from, to) != 0) ok = 0;
		if (write(fd, "x", 1) != 1) ok = 0;
		if (access(to, F_OK) != 0 || access(from, F_OK) == 0) ok = 0;
	}
	CHECK(ok);
	struct stat st;
	EXPECT_OK("stat the final name", stat("a", &st));
	CHECK(st.st_size == 500 && st.st_nlink == 1);
	close(fd);
	/* Rename a directory back and forth while holding it open as cwd. */
	EXPECT_OK("mkdir", mkdir("d", 0755));
	int dfd = EXPECT_OK("open dir", open("d", O_RDONLY | O_DIRECTORY));
	for (int i = 0; i < 100; i++) {
		if (rename((i % 2) ? "e" : "d", (i % 2) ? "d" : "e") != 0) ok = 0;
		int f = openat(dfd, "inner", O_CREAT | O_WRONLY, 0644);
		if (f < 0) ok = 0; else close(f);
	}
	CHECK(ok);
	EXPECT_OK("the file made through the fd is in the renamed dir", access("d/inner", F_OK));
	EXPECT_OK("unlink through the fd", unlinkat(dfd, "inner", 0));
	close(dfd);
	/* Swap two names many times with RENAME_EXCHANGE. */
	close(open("x", O_CREAT | O_WRONLY, 0600));
	close(open("y", O_CREAT | O_WRONLY, 0644));
	for (int i = 0; i < 101; i++)
		if (syscall(SYS_renameat2, AT_FDCWD, "x", AT_FDCWD, "y", RENAME_EXCHANGE) != 0) ok = 0;
	CHECK(ok);
	EXPECT_OK("stat x", stat("x", &st));
	CHECK((st.st_mode & 0777) == 0644);
	unlink("x"); unlink("y"); unlink("a"); rmdir("d");
	leave_tmpdir();
	return conformance_done();
}
