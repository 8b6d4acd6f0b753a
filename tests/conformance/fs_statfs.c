/*
 * fs_statfs: see the checks below; runs in a fresh directory under /tmp
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

#include <sys/statfs.h>
#include <sys/statvfs.h>
int main(void)
{
	conformance_init();
	enter_tmpdir();
	struct statfs a, b;
	EXPECT_OK("statfs .", statfs(".", &a));
	CHECK(a.f_bsize > 0 && a.f_namelen == 255);
	CHECK(a.f_bfree <= a.f_blocks && a.f_bavail <= a.f_bfree);
	CHECK(a.f_frsize > 0);
	CHECK(!(a.f_flags & ST_RDONLY));
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("fstatfs", fstatfs(fd, &b));
	CHECK(a.f_type == b.f_type && a.f_bsize == b.f_bsize);
	close(fd);
	struct statvfs v;
	EXPECT_OK("statvfs", statvfs(".", &v));
	CHECK(v.f_namemax == 255 && !(v.f_flag & ST_RDONLY));
	EXPECT_OK("statfs /dev/shm", statfs("/dev/shm", &a));
	CHECK(a.f_type == 0x01021994);
	EXPECT_OK("statfs /proc", statfs("/proc", &a));
	CHECK(a.f_type == 0x9fa0);
	EXPECT_OK("statfs /sys", statfs("/sys", &a));
	CHECK(a.f_type == 0x62656572);
	EXPECT_ERR("statfs missing", statfs("nope", &a), ENOENT);
	EXPECT_ERR("statfs bad buffer", statfs(".", BAD_PTR), EFAULT);
	leave_tmpdir();
	return conformance_done();
}
