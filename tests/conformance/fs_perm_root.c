/*
 * fs_perm_root: see the checks below; runs in a fresh directory under /tmp
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
	CHECK(geteuid() == 0);
	close(open("none", O_CREAT | O_WRONLY, 0000));
	int fd = EXPECT_OK("root opens a 000 file read-write", open("none", O_RDWR));
	close(fd);
	EXPECT_OK("access R_OK|W_OK", access("none", R_OK | W_OK));
	EXPECT_ERR("access X_OK without any x bit", access("none", X_OK), EACCES);
	EXPECT_OK("chmod o+x", chmod("none", 0001));
	EXPECT_OK("access X_OK with one x bit", access("none", X_OK));
	EXPECT_OK("mkdir 000", mkdir("closed", 0000));
	EXPECT_OK("root searches a 000 dir", close(open("closed/f", O_CREAT | O_WRONLY, 0644)));
	EXPECT_OK("access X_OK on a 000 dir", access("closed", X_OK));
	EXPECT_ERR("O_WRONLY on a dir", open("closed", O_WRONLY), EISDIR);
	EXPECT_OK("chown to another user", chown("none", 1000, 1000));
	struct stat st;
	EXPECT_OK("stat", stat("none", &st));
	CHECK(st.st_uid == 1000 && st.st_gid == 1000);
	fd = EXPECT_OK("root opens another user's 000 file", open("none", O_RDONLY));
	close(fd);
	EXPECT_OK("faccessat AT_EACCESS", faccessat(AT_FDCWD, "none", R_OK, AT_EACCESS));
	EXPECT_ERR("faccessat bad mode", faccessat(AT_FDCWD, "none", 8, 0), EINVAL);
	unlink("closed/f"); rmdir("closed"); unlink("none");
	leave_tmpdir();
	return conformance_done();
}
