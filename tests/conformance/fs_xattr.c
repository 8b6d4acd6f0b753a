/*
 * fs_xattr: see the checks below; runs in a fresh directory under /tmp
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

#include <sys/xattr.h>
int main(void)
{
	conformance_init();
	enter_tmpdir();
	close(open("f", O_CREAT | O_WRONLY, 0644));
	if (setxattr("f", "user.probe", "1", 1, 0) != 0 && errno == EOPNOTSUPP) {
		printf("no user xattrs here\n");
		unlink("f");
		leave_tmpdir();
		return conformance_done();
	}
	removexattr("f", "user.probe");
	char buf[256];
	EXPECT_ERR("get missing", getxattr("f", "user.a", buf, sizeof buf), ENODATA);
	EXPECT_OK("set", setxattr("f", "user.a", "value", 5, 0));
	EXPECT_VAL("get", getxattr("f", "user.a", buf, sizeof buf), 5);
	CHECK(memcmp(buf, "value", 5) == 0);
	EXPECT_VAL("size query", getxattr("f", "user.a", NULL, 0), 5);
	EXPECT_ERR("too small", getxattr("f", "user.a", buf, 2), ERANGE);
	EXPECT_ERR("CREATE existing", setxattr("f", "user.a", "x", 1, XATTR_CREATE), EEXIST);
	EXPECT_ERR("REPLACE missing", setxattr("f", "user.b", "x", 1, XATTR_REPLACE), ENODATA);
	EXPECT_OK("REPLACE", setxattr("f", "user.a", "vv", 2, XATTR_REPLACE));
	EXPECT_OK("CREATE", setxattr("f", "user.b", "", 0, XATTR_CREATE));
	EXPECT_VAL("empty value", getxattr("f", "user.b", buf, sizeof buf), 0);
	EXPECT_ERR("bad flags", setxattr("f", "user.c", "x", 1, 4), EINVAL);
	EXPECT_ERR("empty name", setxattr("f", "", "x", 1, 0), ERANGE);
	char longname[300];
	memset(longname, 'n', sizeof longname);
	memcpy(longname, "user.", 5);
	longname[299] = 0;
	EXPECT_ERR("long name", setxattr("f", longname, "x", 1, 0), ERANGE);
	EXPECT_ERR("unknown namespace", setxattr("f", "bogus.a", "x", 1, 0), EOPNOTSUPP);
	static char huge[70000];
	EXPECT_ERR("huge value", setxattr("f", "user.c", huge, sizeof huge, 0), E2BIG);
	ssize_t n = listxattr("f", buf, sizeof buf);
	int sawa = 0, sawb = 0, users = 0;
	for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1) {
		if (!strcmp(buf + i, "user.a")) sawa++;
		if (!strcmp(buf + i, "user.b")) sawb++;
		if (!strncmp(buf + i, "user.", 5)) users++;
	}
	CHECK(sawa == 1 && sawb == 1 && users == 2);
	CHECK(listxattr("f", NULL, 0) == n);
	EXPECT_ERR("list too small", listxattr("f", buf, 3), ERANGE);
	int fd = open("f", O_RDONLY);
	EXPECT_VAL("fgetxattr", fgetxattr(fd, "user.a", buf, sizeof buf), 2);
	EXPECT_OK("fsetxattr", fsetxattr(fd, "user.c", "c", 1, 0));
	EXPECT_OK("fremovexattr", fremovexattr(fd, "user.c"));
	EXPECT_ERR("fremovexattr again", fremovexattr(fd, "user.c"), ENODATA);
	close(fd);
	EXPECT_OK("removexattr", removexattr("f", "user.a"));
	EXPECT_ERR("get removed", getxattr("f", "user.a", buf, sizeof buf), ENODATA);
	EXPECT_OK("symlink", symlink("f", "l"));
	EXPECT_ERR("user.* on a symlink", lsetxattr("l", "user.x", "1", 1, 0), EPERM);
	EXPECT_ERR("lgetxattr user.* on a symlink", lgetxattr("l", "user.x", buf, sizeof buf), ENODATA);
	EXPECT_VAL("getxattr follows", getxattr("l", "user.b", buf, sizeof buf), 0);
	EXPECT_OK("mkdir", mkdir("d", 0755));
	EXPECT_OK("xattr on a dir", setxattr("d", "user.d", "dd", 2, 0));
	EXPECT_VAL("get on a dir", getxattr("d", "user.d", buf, sizeof buf), 2);
	EXPECT_ERR("missing file", getxattr("nope", "user.a", buf, sizeof buf), ENOENT);
	EXPECT_ERR("bad name pointer", getxattr("f", BAD_PTR, buf, sizeof buf), EFAULT);
	unlink("l"); unlink("f"); rmdir("d");
	leave_tmpdir();
	return conformance_done();
}
