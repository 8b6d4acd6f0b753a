/*
 * fs_rename: see the checks below; runs in a fresh directory under /tmp
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

static int exists(const char *p) { struct stat st; return lstat(p, &st) == 0; }
int main(void)
{
	conformance_init();
	enter_tmpdir();
	struct stat a, b;
	close(open("a", O_CREAT | O_WRONLY, 0644));
	EXPECT_OK("stat a", stat("a", &a));
	EXPECT_OK("rename a b", rename("a", "b"));
	CHECK(!exists("a") && exists("b"));
	EXPECT_OK("stat b", stat("b", &b));
	CHECK(a.st_ino == b.st_ino);
	close(open("c", O_CREAT | O_WRONLY, 0644));
	EXPECT_OK("rename over a file", rename("b", "c"));
	CHECK(!exists("b") && exists("c"));
	EXPECT_OK("stat c", stat("c", &b));
	CHECK(a.st_ino == b.st_ino);
	EXPECT_OK("link c d", link("c", "d"));
	EXPECT_OK("rename to a hard link of itself", rename("c", "d"));
	CHECK(exists("c") && exists("d"));
	EXPECT_OK("unlink d", unlink("d"));
	EXPECT_OK("rename onto itself", rename("c", "c"));
	EXPECT_OK("mkdir d1", mkdir("d1", 0755));
	EXPECT_OK("mkdir d2", mkdir("d2", 0755));
	EXPECT_ERR("file over dir", rename("c", "d1"), EISDIR);
	EXPECT_ERR("dir over file", rename("d1", "c"), ENOTDIR);
	EXPECT_OK("dir over empty dir", rename("d1", "d2"));
	CHECK(!exists("d1") && exists("d2"));
	EXPECT_OK("mkdir d2/sub", mkdir("d2/sub", 0755));
	EXPECT_OK("mkdir e", mkdir("e", 0755));
	EXPECT_ERR("dir over non-empty dir", rename("e", "d2"), ENOTEMPTY);
	EXPECT_ERR("dir into itself", rename("d2", "d2/sub/x"), EINVAL);
	EXPECT_ERR("dir onto its own child", rename("d2", "d2/sub"), EINVAL);
	EXPECT_ERR("parent onto child's place", rename("d2/sub", "d2"), ENOTEMPTY);
	EXPECT_ERR("missing source", rename("nope", "x"), ENOENT);
	EXPECT_ERR("missing target dir", rename("c", "nope/x"), ENOENT);
	EXPECT_ERR("file with trailing slash", rename("c/", "x"), ENOTDIR);
	EXPECT_ERR("to a trailing slash name", rename("c", "x/"), ENOTDIR);
	EXPECT_OK("dir with trailing slashes", rename("e/", "f/"));
	EXPECT_OK("move a file into a dir", rename("c", "d2/sub/c"));
	EXPECT_OK("move a dir across dirs", rename("d2/sub", "f/sub"));
	struct stat f, d2;
	EXPECT_OK("stat f", stat("f", &f));
	EXPECT_OK("stat d2", stat("d2", &d2));
	CHECK(f.st_nlink == 3 && d2.st_nlink == 2);
	EXPECT_ERR("rename .", rename(".", "z"), EBUSY);
	EXPECT_ERR("rename onto ..", rename("f", ".."), EBUSY);
	EXPECT_OK("unlink f/sub/c", unlink("f/sub/c"));
	EXPECT_OK("rmdir f/sub", rmdir("f/sub"));
	EXPECT_OK("rmdir f", rmdir("f"));
	EXPECT_OK("rmdir d2", rmdir("d2"));
	leave_tmpdir();
	return conformance_done();
}
