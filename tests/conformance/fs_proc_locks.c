/* /proc/locks lists every lock: its class (POSIX, OFDLCK, FLOCK), type,
 * owner pid (-1 for OFD locks), device:inode and range. Other programs'
 * locks may be listed too, so only the lines of this file's inode are
 * looked at, and the pid is compared, not printed. */
#include "locks.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

static int by_text(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Prints the /proc/locks lines about `st`'s inode, sorted (the kernel
 * lists them in an order of its own). */
static void show(const char *label, const struct stat *st)
{
	char want[64], line[256], found[16][128];
	int n = 0;
	snprintf(want, sizeof(want), " %02x:%02x:%lu ", major(st->st_dev), minor(st->st_dev),
		 (unsigned long)st->st_ino);
	FILE *f = fopen("/proc/locks", "r");
	if (!f) {
		printf("%s: FAIL: %s\n", label, errno_name(errno));
		conformance_failures++;
		return;
	}
	while (n < 16 && fgets(line, sizeof(line), f)) {
		char *at = strstr(line, want);
		char *colon = strchr(line, ':');
		if (!at || !colon)
			continue;
		char kind[16], type[16];
		int pid;
		if (sscanf(colon + 2, "%15s %*s %15s %d", kind, type, &pid) != 3) {
			printf("FAIL: cannot parse %s", line);
			conformance_failures++;
			continue;
		}
		snprintf(found[n++], sizeof(found[0]), "%s %s pid=%s range=%s", kind, type,
			 pid == getpid() ? "self" : pid == -1 ? "-1" : "other", at + strlen(want));
	}
	fclose(f);
	qsort(found, n, sizeof(found[0]), by_text);
	printf("%s:\n", label);
	for (int i = 0; i < n; i++)
		printf("  %s", found[i]);
}

int main(void)
{
	conformance_init();
	char path[64];
	int fd = lock_tmpfile(path, "proc-locks", 100);
	struct stat st;
	if (fstat(fd, &st))
		return 1;
	show("nothing locked", &st);

	EXPECT_OK("POSIX write 0..10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	EXPECT_OK("POSIX read from 50", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 50, 0));
	int fd2 = open(path, O_RDWR);
	EXPECT_OK("OFD read 20..30", lk(fd2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 20, 10));
	EXPECT_OK("flock LOCK_EX", flock(fd, LOCK_EX));
	show("locked", &st);

	EXPECT_OK("unlock POSIX", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	EXPECT_OK("close the OFD lock's description", close(fd2));
	show("only the flock lock", &st);
	close(fd);
	show("all closed", &st);
	EXPECT_OK("unlink", unlink(path));
	return conformance_done();
}
