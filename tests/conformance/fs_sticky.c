/*
 * fs_sticky: see the checks below; runs in a fresh directory under /tmp
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
	EXPECT_OK("mkdir sticky", mkdir("s", 01777));
	EXPECT_OK("stat", stat("s", &st));
	CHECK((st.st_mode & 07777) == 01755);
	EXPECT_OK("chmod 1777", chmod("s", 01777));
	EXPECT_OK("stat", stat("s", &st));
	CHECK((st.st_mode & 07777) == 01777 && (st.st_mode & S_ISVTX));
	close(open("s/other", O_CREAT | O_WRONLY, 0644));
	EXPECT_OK("give it away", chown("s/other", 1000, 1000));
	EXPECT_OK("give the dir away", chown("s", 1001, 1001));
	EXPECT_OK("root renames in a sticky dir", rename("s/other", "s/other2"));
	EXPECT_OK("root removes in a sticky dir", unlink("s/other2"));
	EXPECT_OK("stat /tmp", stat("/tmp", &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 01777) == 01777);
	EXPECT_OK("rmdir", rmdir("s"));
	leave_tmpdir();
	return conformance_done();
}
