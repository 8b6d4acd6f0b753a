/*
 * fs_dev_proc: see the checks below; runs in a fresh directory under /tmp
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

static int slurp(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) return -1;
	int n = 0, r;
	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0) n += r;
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	return n;
}
int main(void)
{
	conformance_init();
	char buf[65536], link[64];
	struct stat st;
	EXPECT_ERR("/dev/tty without a terminal", open("/dev/tty", O_RDWR), ENXIO);
	EXPECT_OK("lstat /dev/stdin", lstat("/dev/stdin", &st));
	CHECK(S_ISLNK(st.st_mode));
	EXPECT_VAL("readlink /dev/stdin", readlink("/dev/stdin", link, sizeof link), 15);
	CHECK(memcmp(link, "/proc/self/fd/0", 15) == 0);
	EXPECT_VAL("readlink /dev/fd", readlink("/dev/fd", link, sizeof link), 13);
	EXPECT_OK("stat /dev/shm", stat("/dev/shm", &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 01777) == 01777);
	int fd = EXPECT_OK("create in /dev/shm", open("/dev/shm/carapace-test", O_CREAT | O_RDWR, 0600));
	EXPECT_VAL("write", write(fd, "shm", 3), 3);
	close(fd);
	EXPECT_OK("unlink in /dev/shm", unlink("/dev/shm/carapace-test"));
	CHECK(slurp("/proc/meminfo", buf, sizeof buf) > 0 && !strncmp(buf, "MemTotal:", 9));
	CHECK(slurp("/proc/cpuinfo", buf, sizeof buf) > 0 && strstr(buf, "processor\t: 0") && strstr(buf, "flags"));
	CHECK(slurp("/proc/sys/kernel/ostype", buf, sizeof buf) == 6 && !strcmp(buf, "Linux\n"));
	CHECK(slurp("/proc/sys/kernel/osrelease", buf, sizeof buf) > 2);
	char host[256] = {0};
	gethostname(host, sizeof host);
	CHECK(slurp("/proc/sys/kernel/hostname", buf, sizeof buf) > 0 && !strncmp(buf, host, strlen(host)));
	CHECK(slurp("/proc/sys/kernel/pid_max", buf, sizeof buf) > 0 && atol(buf) >= 32768);
	char u1[64], u2[64];
	CHECK(slurp("/proc/sys/kernel/random/uuid", u1, sizeof u1) == 37);
	CHECK(slurp("/proc/sys/kernel/random/uuid", u2, sizeof u2) == 37 && strcmp(u1, u2) != 0);
	CHECK(u1[8] == '-' && u1[14] == '4');
	double up = 0, idle = 0;
	CHECK(slurp("/proc/uptime", buf, sizeof buf) > 0 && sscanf(buf, "%lf %lf", &up, &idle) == 2 && up > 0);
	double l1 = -1;
	CHECK(slurp("/proc/loadavg", buf, sizeof buf) > 0 && sscanf(buf, "%lf", &l1) == 1 && l1 >= 0);
	CHECK(slurp("/proc/version", buf, sizeof buf) > 0 && !strncmp(buf, "Linux version ", 14));
	CHECK(slurp("/proc/filesystems", buf, sizeof buf) > 0 && strstr(buf, "\ttmpfs\n") && strstr(buf, "\tproc\n"));
	CHECK(slurp("/proc/mounts", buf, sizeof buf) > 0 && strstr(buf, " /proc proc ") && strstr(buf, " / "));
	CHECK(slurp("/proc/self/mounts", buf, sizeof buf) > 0 && strstr(buf, " /sys sysfs "));
	CHECK(slurp("/sys/devices/system/cpu/online", buf, sizeof buf) > 0 && buf[0] >= '0' && buf[0] <= '9');
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(n >= 1);
	EXPECT_ERR("missing /proc file", open("/proc/carapace-nope", O_RDONLY), ENOENT);
	EXPECT_OK("stat /proc/cpuinfo", stat("/proc/cpuinfo", &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 0 && (st.st_mode & 0777) == 0444);
	return conformance_done();
}
