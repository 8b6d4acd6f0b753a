/*
 * The memory devices: /dev/null, /dev/zero, /dev/full, /dev/random and
 * /dev/urandom.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

int main(void)
{
	conformance_init();
	char buf[8192];
	int null = EXPECT_OK("open /dev/null", open("/dev/null", O_RDWR));
	EXPECT_VAL("write /dev/null", write(null, "hello", 5), 5);
	EXPECT_VAL("read /dev/null", read(null, buf, sizeof buf), 0);
	EXPECT_VAL("pwrite /dev/null", pwrite(null, "x", 1, 1000), 1);
	EXPECT_VAL("offset of /dev/null", lseek(null, 0, SEEK_CUR), 0);
	EXPECT_ERR("fsync /dev/null", fsync(null), EINVAL);
	int zero = EXPECT_OK("open /dev/zero", open("/dev/zero", O_RDONLY));
	memset(buf, 1, sizeof buf);
	EXPECT_VAL("read /dev/zero", read(zero, buf, sizeof buf), (long)sizeof buf);
	int zeros = 1;
	for (size_t i = 0; i < sizeof buf; i++)
		zeros &= buf[i] == 0;
	CHECK(zeros);
	EXPECT_VAL("pread /dev/zero", pread(zero, buf, 10, 12345), 10);
	EXPECT_ERR("write O_RDONLY /dev/zero", write(zero, buf, 1), EBADF);
	int full = EXPECT_OK("open /dev/full", open("/dev/full", O_RDWR));
	EXPECT_ERR("write /dev/full", write(full, "x", 1), ENOSPC);
	EXPECT_VAL("read /dev/full", read(full, buf, 16), 16);
	int ur = EXPECT_OK("open /dev/urandom", open("/dev/urandom", O_RDONLY));
	memset(buf, 0, sizeof buf);
	EXPECT_VAL("read /dev/urandom", read(ur, buf, 64), 64);
	int nonzero = 0;
	for (int i = 0; i < 64; i++)
		nonzero |= buf[i];
	CHECK(nonzero);
	int r = EXPECT_OK("open /dev/random", open("/dev/random", O_RDONLY));
	EXPECT_VAL("read /dev/random", read(r, buf, 32), 32);
	EXPECT_ERR("/dev/nonexistent", open("/dev/nonexistent-carapace", O_RDONLY), ENOENT);
	EXPECT_ERR("/dev/null/x", open("/dev/null/x", O_RDONLY), ENOTDIR);
	EXPECT_ERR("O_DIRECTORY /dev/null", open("/dev/null", O_RDONLY | O_DIRECTORY), ENOTDIR);
	EXPECT_ERR("ioctl FIONREAD /dev/null", ioctl(null, 0x541B, buf), ENOTTY);
	struct stat st;
	EXPECT_OK("fstat /dev/full", fstat(full, &st));
	CHECK(S_ISCHR(st.st_mode) && (st.st_mode & 0777) == 0666);
	EXPECT_OK("O_TRUNC on a device is ignored", open("/dev/null", O_WRONLY | O_TRUNC));
	EXPECT_OK("O_CREAT on an existing device", open("/dev/null", O_WRONLY | O_CREAT, 0666));
	return conformance_done();
}
