/*
 * fs_mkdir_rmdir: see the checks below; runs in a fresh directory under /tmp
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
	struct stat st, parent;
	EXPECT_OK("stat .", stat(".", &parent));
	CHECK(parent.st_nlink == 2);
	EXPECT_OK("mkdir", mkdir("d", 0755));
	EXPECT_OK("stat d", stat("d", &st));
	CHECK(S_ISDIR(st.st_mode) && st.st_nlink == 2 && (st.st_mode & 0777) == 0755);
	EXPECT_OK("stat .", stat(".", &parent));
	CHECK(parent.st_nlink == 3);
	EXPECT_ERR("mkdir existing", mkdir("d", 0755), EEXIST);
	EXPECT_OK("mkdir with a trailing slash", mkdir("e/", 0755));
	close(open("d/f", O_CREAT | O_WRONLY, 0644));
	EXPECT_ERR("rmdir non-empty", rmdir("d"), ENOTEMPTY);
	EXPECT_ERR("rmdir a file", rmdir("d/f"), ENOTDIR);
	EXPECT_ERR("unlink a dir", unlink("d"), EISDIR);
	EXPECT_ERR("mkdir under a file", mkdir("d/f/x", 0755), ENOTDIR);
	EXPECT_ERR("mkdir over a file", mkdir("d/f", 0755), EEXIST);
	EXPECT_ERR("rmdir .", rmdir("d/."), EINVAL);
	EXPECT_ERR("rmdir ..", rmdir("d/.."), ENOTEMPTY);
	EXPECT_ERR("rmdir missing", rmdir("nope"), ENOENT);
	EXPECT_ERR("rmdir missing parent", rmdir("nope/x"), ENOENT);
	EXPECT_ERR("unlink with a slash", unlink("d/f/"), ENOTDIR);
	EXPECT_ERR("unlink dir with a slash", unlink("e/"), EISDIR);
	EXPECT_ERR("rename across mounts", rename("d/f", "/dev/shm/carapace-x"), EXDEV);
	EXPECT_ERR("rmdir a mount point", rmdir("/proc"), EBUSY);
	EXPECT_ERR("mkdir bad path", mkdir(BAD_PTR, 0755), EFAULT);
	char longname[300];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	EXPECT_ERR("name too long", mkdir(longname, 0755), ENAMETOOLONG);
	EXPECT_OK("mkdirat", mkdirat(AT_FDCWD, "d/sub", 0700));
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("unlinkat AT_REMOVEDIR", unlinkat(dfd, "sub", AT_REMOVEDIR));
	EXPECT_OK("unlinkat file", unlinkat(dfd, "f", 0));
	EXPECT_ERR("unlinkat AT_REMOVEDIR on nothing", unlinkat(dfd, "f", AT_REMOVEDIR), ENOENT);
	close(dfd);
	EXPECT_OK("rmdir", rmdir("d"));
	EXPECT_OK("rmdir with a slash", rmdir("e/"));
	EXPECT_OK("stat .", stat(".", &parent));
	CHECK(parent.st_nlink == 2);
	leave_tmpdir();
	return conformance_done();
}
