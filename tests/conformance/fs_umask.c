/*
 * fs_umask: see the checks below; runs in a fresh directory under /tmp
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
	EXPECT_VAL("umask returns the old mask", umask(077), 022);
	close(open("f", O_CREAT | O_WRONLY, 0666));
	EXPECT_OK("stat", stat("f", &st));
	CHECK((st.st_mode & 0777) == 0600);
	EXPECT_OK("mkdir", mkdir("d", 0777));
	EXPECT_OK("stat d", stat("d", &st));
	CHECK((st.st_mode & 0777) == 0700);
	EXPECT_OK("mknod", mknod("n", S_IFREG | 0666, 0));
	EXPECT_OK("stat n", stat("n", &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
	EXPECT_OK("mkfifo", mkfifo("p", 0666));
	EXPECT_OK("lstat p", lstat("p", &st));
	CHECK(S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0600);
	EXPECT_OK("symlink ignores umask", symlink("f", "l"));
	EXPECT_OK("lstat l", lstat("l", &st));
	CHECK((st.st_mode & 0777) == 0777);
	EXPECT_VAL("umask 0", umask(0), 077);
	close(open("g", O_CREAT | O_WRONLY, 0666));
	EXPECT_OK("stat g", stat("g", &st));
	CHECK((st.st_mode & 0777) == 0666);
	EXPECT_OK("mkdir with setuid/sticky bits", mkdir("e", 07777));
	EXPECT_OK("stat e", stat("e", &st));
	CHECK((st.st_mode & 07777) == 01777);
	EXPECT_VAL("umask keeps 9 bits", umask(07777), 0);
	EXPECT_VAL("umask read", umask(022), 0777);
	EXPECT_ERR("mknod a directory", mknod("x", S_IFDIR | 0755, 0), EPERM);
	EXPECT_ERR("mknod bad type", mknod("x", 0170000 | 0644, 0), EINVAL);
	unlink("f"); unlink("g"); unlink("n"); unlink("p"); unlink("l"); rmdir("d"); rmdir("e");
	leave_tmpdir();
	return conformance_done();
}
