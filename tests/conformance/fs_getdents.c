/*
 * getdents64(2) and getdents(2): listings, offsets, and errors.
 */
#include "conformance.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>

struct d64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int names(int fd, char out[][256], int max, unsigned char *types)
{
	char buf[65536];
	int n = 0;
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (got <= 0)
			return got < 0 ? -1 : n;
		for (long o = 0; o < got;) {
			struct d64 *d = (struct d64 *)(buf + o);
			if (n < max) {
				snprintf(out[n], 256, "%s", d->name);
				types[n] = d->type;
			}
			n++;
			o += d->reclen;
		}
	}
}

static int has(char list[][256], int n, const char *name, unsigned char *types, unsigned char type)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return types[i] == type || type == 255;
	return 0;
}

static char list[4096][256];
static unsigned char types[4096];

int main(void)
{
	conformance_init();
	int fd = EXPECT_OK("open /usr/share/doc", open("/usr/share/doc", O_RDONLY | O_DIRECTORY));
	int n = names(fd, list, 4096, types);
	CHECK(n > 10);
	CHECK(has(list, n, ".", types, DT_DIR));
	CHECK(has(list, n, "..", types, DT_DIR));
	CHECK(has(list, n, "apt", types, DT_DIR));
	CHECK(has(list, n, "base-files", types, DT_DIR));
	EXPECT_VAL("listing at the end", syscall(SYS_getdents64, fd, list[0], 4096), 0);
	EXPECT_VAL("rewind", lseek(fd, 0, SEEK_SET), 0);
	CHECK(names(fd, list, 4096, types) == n);

	DIR *d = opendir("/usr/share/doc");
	int count = 0;
	while (readdir(d))
		count++;
	closedir(d);
	CHECK(count == n);

	int root = open("/", O_RDONLY | O_DIRECTORY);
	int rn = names(root, list, 4096, types);
	CHECK(has(list, rn, "etc", types, DT_DIR));
	CHECK(has(list, rn, "dev", types, DT_DIR));
	CHECK(has(list, rn, "proc", types, DT_DIR));
	CHECK(has(list, rn, "usr", types, DT_DIR));
	CHECK(has(list, rn, "bin", types, 255));

	/* Resume from an entry's d_off. */
	char buf[65536];
	lseek(fd, 0, SEEK_SET);
	long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
	struct d64 *first = (struct d64 *)buf;
	struct d64 *second = (struct d64 *)(buf + first->reclen);
	CHECK(got > 0);
	char want[256];
	snprintf(want, sizeof want, "%s", second->name);
	lseek(fd, first->off, SEEK_SET);
	got = syscall(SYS_getdents64, fd, buf, sizeof buf);
	CHECK(got > 0 && strcmp(((struct d64 *)buf)->name, want) == 0);

	lseek(fd, 0, SEEK_SET);
	EXPECT_ERR("buffer too small", syscall(SYS_getdents64, fd, buf, 8), EINVAL);
	int file = open("/etc/passwd", O_RDONLY);
	EXPECT_ERR("getdents64 on a file", syscall(SYS_getdents64, file, buf, sizeof buf), ENOTDIR);
	EXPECT_ERR("getdents64 bad fd", syscall(SYS_getdents64, 999, buf, sizeof buf), EBADF);
	EXPECT_ERR("getdents64 bad buffer", syscall(SYS_getdents64, fd, BAD_PTR, sizeof buf), EFAULT);
	int path = open("/etc", O_PATH);
	EXPECT_ERR("getdents64 O_PATH", syscall(SYS_getdents64, path, buf, sizeof buf), EBADF);

	/* The old getdents lists the same entries. */
	lseek(fd, 0, SEEK_SET);
	int old = 0;
	for (;;) {
		long r = syscall(SYS_getdents, fd, buf, sizeof buf);
		if (r <= 0)
			break;
		for (long o = 0; o < r;) {
			unsigned short reclen = *(unsigned short *)(buf + o + 16);
			old++;
			o += reclen;
		}
	}
	CHECK(old == n);
	int dev = open("/dev", O_RDONLY | O_DIRECTORY);
	int dn = names(dev, list, 4096, types);
	CHECK(has(list, dn, "null", types, DT_CHR));
	CHECK(has(list, dn, "zero", types, DT_CHR));
	CHECK(has(list, dn, "urandom", types, DT_CHR));
	return conformance_done();
}
