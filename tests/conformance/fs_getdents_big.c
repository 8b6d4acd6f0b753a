/*
 * fs_getdents_big: see the checks below; runs in a fresh directory under /tmp
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

#include <dirent.h>
struct linux_dirent64 { unsigned long long d_ino; long long d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };
static unsigned char seen[2000];
int main(void)
{
	conformance_init();
	enter_tmpdir();
	char name[32];
	int made = 0;
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "entry-with-a-longish-name-%d", i);
		int fd = open(name, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0) { made++; close(fd); }
	}
	CHECK(made == 2000);
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	char buf[1024];
	int total = 0, dots = 0, bad = 0, dupes = 0, regs = 0, calls = 0;
	long n;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		calls++;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			total++;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) dots++;
			else if (!strncmp(d->d_name, "entry-with-a-longish-name-", 26)) {
				int i = atoi(d->d_name + 26);
				if (seen[i]++) dupes++;
				if (d->d_type == DT_REG) regs++;
			} else bad++;
			if (d->d_reclen % 8 || d->d_ino == 0) bad++;
			off += d->d_reclen;
		}
	}
	CHECK(n == 0);
	CHECK(total == 2002 && dots == 2 && bad == 0 && dupes == 0 && regs == 2000);
	CHECK(calls > 50);
	EXPECT_VAL("rewind", lseek(fd, 0, SEEK_SET), 0);
	EXPECT_ERR("buffer too small for one entry", syscall(SYS_getdents64, fd, buf, 8), EINVAL);
	EXPECT_ERR("bad buffer", syscall(SYS_getdents64, fd, BAD_PTR, 1024), EFAULT);
	close(fd);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "entry-with-a-longish-name-%d", i);
		unlink(name);
	}
	leave_tmpdir();
	return conformance_done();
}
