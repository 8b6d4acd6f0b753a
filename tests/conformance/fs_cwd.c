/*
 * getcwd, chdir and fchdir.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>

static void show(const char *label)
{
	char buf[4096];
	if (getcwd(buf, sizeof buf))
		printf("%s: %s\n", label, buf);
	else
		printf("%s: FAIL %s\n", label, errno_name(errno));
}

int main(void)
{
	conformance_init();
	EXPECT_OK("chdir /usr/share", chdir("/usr/share"));
	show("cwd");
	char buf[64];
	EXPECT_VAL("getcwd returns the length with NUL", syscall(SYS_getcwd, buf, sizeof buf), 11);
	EXPECT_ERR("getcwd too small", syscall(SYS_getcwd, buf, 11 - 1), ERANGE);
	EXPECT_ERR("getcwd size 0", syscall(SYS_getcwd, buf, 0), ERANGE);
	EXPECT_ERR("getcwd bad buffer", syscall(SYS_getcwd, BAD_PTR, 64), EFAULT);
	EXPECT_OK("chdir ..", chdir(".."));
	show("after ..");
	EXPECT_OK("chdir relative", chdir("share/doc"));
	show("after relative");
	EXPECT_OK("chdir /../../..", chdir("/../../.."));
	show("after /../../..");
	EXPECT_OK("chdir through a symlink", chdir("/bin"));
	show("after /bin");
	EXPECT_ERR("chdir to a file", chdir("/etc/passwd"), ENOTDIR);
	EXPECT_ERR("chdir missing", chdir("/nonexistent-carapace"), ENOENT);
	EXPECT_ERR("chdir empty", chdir(""), ENOENT);
	EXPECT_ERR("chdir bad pointer", chdir(BAD_PTR), EFAULT);
	show("unchanged");
	int etc = open("/etc", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("fchdir /etc", fchdir(etc));
	show("after fchdir");
	EXPECT_OK("open relative to the new cwd", open("passwd", O_RDONLY));
	int path = open("/usr/lib", O_PATH);
	EXPECT_OK("fchdir O_PATH", fchdir(path));
	show("after fchdir O_PATH");
	int file = open("/etc/passwd", O_RDONLY);
	EXPECT_ERR("fchdir a file", fchdir(file), ENOTDIR);
	EXPECT_ERR("fchdir bad fd", fchdir(999), EBADF);
	EXPECT_OK("chdir /dev", chdir("/dev"));
	show("in /dev");
	struct stat st;
	EXPECT_OK("stat null relative to /dev", stat("null", &st));
	EXPECT_OK("chdir .. out of /dev", chdir(".."));
	show("out of /dev");
	EXPECT_VAL("umask", (umask(077), umask(022)), 077);
	return conformance_done();
}
