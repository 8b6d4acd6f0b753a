/*
 * fs_renameat2: see the checks below; runs in a fresh directory under /tmp
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

static long r2(const char *a, const char *b, unsigned flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}
static char first(const char *p)
{
	char c = 0;
	int fd = open(p, O_RDONLY);
	if (fd >= 0) { if (read(fd, &c, 1) != 1) c = '?'; close(fd); }
	return c;
}
int main(void)
{
	conformance_init();
	enter_tmpdir();
	int fd = open("a", O_CREAT | O_WRONLY, 0644); CHECK(write(fd, "A", 1) == 1); close(fd);
	fd = open("b", O_CREAT | O_WRONLY, 0644); CHECK(write(fd, "B", 1) == 1); close(fd);
	EXPECT_ERR("NOREPLACE onto existing", r2("a", "b", RENAME_NOREPLACE), EEXIST);
	EXPECT_OK("NOREPLACE to a new name", r2("a", "c", RENAME_NOREPLACE));
	EXPECT_OK("EXCHANGE two files", r2("b", "c", RENAME_EXCHANGE));
	CHECK(first("b") == 'A' && first("c") == 'B');
	EXPECT_ERR("EXCHANGE with a missing name", r2("b", "missing", RENAME_EXCHANGE), ENOENT);
	EXPECT_OK("mkdir d", mkdir("d", 0755));
	EXPECT_OK("mkdir d/x", mkdir("d/x", 0755));
	EXPECT_OK("EXCHANGE file and non-empty dir", r2("b", "d", RENAME_EXCHANGE));
	struct stat st;
	EXPECT_OK("stat b", stat("b", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK(first("d") == 'A');
	EXPECT_ERR("bad flag", r2("c", "e", 0x8), EINVAL);
	EXPECT_ERR("NOREPLACE|EXCHANGE", r2("c", "d", RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
	EXPECT_ERR("WHITEOUT|EXCHANGE", r2("c", "d", RENAME_WHITEOUT | RENAME_EXCHANGE), EINVAL);
	EXPECT_ERR("EXCHANGE dir into itself", r2("b", "b/x", RENAME_EXCHANGE), EINVAL);
	EXPECT_ERR("NOREPLACE onto .", syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, ".", RENAME_NOREPLACE), EEXIST);
	EXPECT_OK("cleanup", unlink("c"));
	EXPECT_OK("cleanup d", unlink("d"));
	EXPECT_OK("cleanup b/x", rmdir("b/x"));
	EXPECT_OK("cleanup b", rmdir("b"));
	leave_tmpdir();
	return conformance_done();
}
