/*
 * open/read/close of a host file, compared with pread; open's errors for
 * bad paths, bad access modes and bad flags.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	conformance_init();
	char a[8192], b[8192];
	int fd = EXPECT_OK("open /etc/passwd", open("/etc/passwd", O_RDONLY | O_CLOEXEC));
	long n = read(fd, a, sizeof a);
	CHECK(n > 0);
	CHECK(pread(fd, b, sizeof b, 0) == n);
	CHECK(memcmp(a, b, n) == 0);
	CHECK(strncmp(a, "root:", 5) == 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	if (st.st_size <= (long)sizeof a)
		EXPECT_VAL("read at end of file", read(fd, a, sizeof a), 0);
	EXPECT_ERR("write to O_RDONLY", write(fd, "x", 1), EBADF);
	EXPECT_VAL("read 0 bytes", read(fd, a, 0), 0);
	EXPECT_OK("close", close(fd));
	EXPECT_ERR("close again", close(fd), EBADF);
	EXPECT_ERR("read closed fd", read(fd, a, 1), EBADF);
	EXPECT_ERR("read fd -1", read(-1, a, 1), EBADF);

	EXPECT_ERR("open missing", open("/nonexistent-carapace", O_RDONLY), ENOENT);
	EXPECT_ERR("open empty path", open("", O_RDONLY), ENOENT);
	EXPECT_ERR("O_DIRECTORY on a file", open("/etc/passwd", O_RDONLY | O_DIRECTORY), ENOTDIR);
	EXPECT_ERR("file with trailing slash", open("/etc/passwd/", O_RDONLY), ENOTDIR);
	EXPECT_ERR("directory for writing", open("/etc", O_WRONLY), EISDIR);
	EXPECT_ERR("directory O_RDWR", open("/etc", O_RDWR), EISDIR);
	EXPECT_ERR("O_CREAT on a directory", open("/etc", O_RDONLY | O_CREAT, 0644), EISDIR);
	EXPECT_ERR("O_CREAT|O_EXCL existing", open("/etc/passwd", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	EXPECT_ERR("O_CREAT in a missing dir", open("/nonexistent-carapace/x", O_WRONLY | O_CREAT, 0644), ENOENT);
	EXPECT_ERR("O_CREAT with trailing slash", open("/etc/nonexistent-carapace/", O_WRONLY | O_CREAT, 0644), EISDIR);
	EXPECT_ERR("O_TMPFILE read-only", open("/tmp", O_TMPFILE | O_RDONLY, 0600), EINVAL);
	EXPECT_ERR("openat bad dirfd", openat(9999, "passwd", O_RDONLY), EBADF);
	int etc = EXPECT_OK("open /etc O_DIRECTORY", open("/etc", O_RDONLY | O_DIRECTORY));
	EXPECT_ERR("read a directory", read(etc, a, sizeof a), EISDIR);
	EXPECT_ERR("read 0 from a directory", read(etc, a, 0), EISDIR);
	fd = EXPECT_OK("openat relative", openat(etc, "passwd", O_RDONLY));
	CHECK(read(fd, b, 5) == 5 && memcmp(b, "root:", 5) == 0);
	close(fd);
	EXPECT_OK("openat absolute ignores dirfd", openat(12345, "/etc/passwd", O_RDONLY));
	int file = open("/etc/passwd", O_RDONLY);
	EXPECT_ERR("openat relative to a file", openat(file, "x", O_RDONLY), ENOTDIR);
	EXPECT_OK("open access mode 3", open("/etc/passwd", 3 | O_NOCTTY));
	EXPECT_OK("unknown open flags ignored", syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | 0x40000000));
	return conformance_done();
}
