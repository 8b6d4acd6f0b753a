/*
 * The calls that would change the tree, given arguments that fail the same
 * way natively and in the sandbox (whose view is read-only): the path and
 * flag errors Linux reports before it would write. Nothing here succeeds.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>

int main(void)
{
	conformance_init();
	EXPECT_ERR("mkdir existing", mkdir("/etc", 0755), EEXIST);
	EXPECT_ERR("mkdir /", mkdir("/", 0755), EEXIST);
	EXPECT_ERR("mkdir in a missing dir", mkdir("/nonexistent-carapace/x", 0755), ENOENT);
	EXPECT_ERR("mkdir under a file", mkdir("/etc/passwd/x", 0755), ENOTDIR);
	EXPECT_ERR("mkdirat bad dirfd", mkdirat(999, "x", 0755), EBADF);
	EXPECT_ERR("mkdir bad path", mkdir(BAD_PTR, 0755), EFAULT);
	EXPECT_ERR("mknod S_IFDIR", mknod("/nonexistent-carapace", S_IFDIR | 0755, 0), EPERM);
	EXPECT_ERR("mknod bad type", mknod("/nonexistent-carapace", 0170000 | 0644, 0), EINVAL);
	EXPECT_ERR("mknod existing", mknod("/etc/passwd", S_IFREG | 0644, 0), EEXIST);
	EXPECT_ERR("unlink in a missing dir", unlink("/nonexistent-carapace/x"), ENOENT);
	EXPECT_ERR("unlink /", unlink("/"), EISDIR);
	EXPECT_ERR("unlink ..", unlink("/etc/.."), EISDIR);
	EXPECT_ERR("unlinkat bad flags", unlinkat(AT_FDCWD, "/etc/passwd", 0x1), EINVAL);
	EXPECT_ERR("rmdir .", rmdir("/etc/."), EINVAL);
	EXPECT_ERR("rmdir ..", rmdir("/etc/.."), ENOTEMPTY);
	EXPECT_ERR("rmdir /", rmdir("/"), EBUSY);
	EXPECT_ERR("rmdir in a missing dir", rmdir("/nonexistent-carapace/x"), ENOENT);
	EXPECT_ERR("rename missing parent", rename("/nonexistent-carapace/a", "/tmp/b"), ENOENT);
	EXPECT_ERR("rename /", rename("/", "/tmp/x"), EBUSY);
	EXPECT_ERR("renameat2 bad flags", syscall(SYS_renameat2, AT_FDCWD, "/a", AT_FDCWD, "/b", 0x80), EINVAL);
	EXPECT_ERR("renameat2 NOREPLACE|EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "/a", AT_FDCWD, "/b", RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
	EXPECT_ERR("symlink empty target", symlink("", "/nonexistent-carapace"), ENOENT);
	EXPECT_ERR("symlink existing", symlink("x", "/etc/passwd"), EEXIST);
	EXPECT_ERR("link missing source", link("/nonexistent-carapace", "/tmp/x"), ENOENT);
	EXPECT_ERR("link onto existing", link("/etc/passwd", "/etc/group"), EEXIST);
	EXPECT_ERR("linkat bad flags", linkat(AT_FDCWD, "/etc/passwd", AT_FDCWD, "/x", 0x1), EINVAL);
	EXPECT_ERR("chmod missing", chmod("/nonexistent-carapace", 0644), ENOENT);
	EXPECT_ERR("chown missing", chown("/nonexistent-carapace", 0, 0), ENOENT);
	EXPECT_ERR("lchown missing", lchown("/nonexistent-carapace", 0, 0), ENOENT);
	EXPECT_ERR("fchownat bad flags", fchownat(AT_FDCWD, "/etc/passwd", 0, 0, 0x2), EINVAL);
	EXPECT_ERR("truncate negative", truncate("/etc/passwd", -1), EINVAL);
	EXPECT_ERR("truncate a directory", truncate("/etc", 0), EISDIR);
	EXPECT_ERR("truncate missing", truncate("/nonexistent-carapace", 0), ENOENT);
	int fd = open("/etc/passwd", O_RDONLY);
	EXPECT_ERR("ftruncate O_RDONLY", ftruncate(fd, 0), EINVAL);
	EXPECT_ERR("ftruncate negative", ftruncate(fd, -1), EINVAL);
	EXPECT_ERR("ftruncate bad fd", ftruncate(999, 0), EBADF);
	EXPECT_ERR("fchmod bad fd", fchmod(999, 0644), EBADF);
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	EXPECT_OK("utimensat both UTIME_OMIT", utimensat(AT_FDCWD, "/nonexistent-carapace", ts, 0));
	EXPECT_ERR("utimensat bad flags", utimensat(AT_FDCWD, "/etc/passwd", NULL, 0x1), EINVAL);
	EXPECT_ERR("utimensat missing", utimensat(AT_FDCWD, "/nonexistent-carapace", NULL, 0), ENOENT);
	struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
	EXPECT_ERR("utimensat bad nsec", utimensat(AT_FDCWD, "/etc/passwd", bad, 0), EINVAL);
	struct timeval tv[2] = {{0, 2000000}, {0, 0}};
	EXPECT_ERR("utimes bad usec", utimes("/etc/passwd", tv), EINVAL);
	EXPECT_ERR("open O_CREAT|O_EXCL existing", open("/etc/passwd", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	EXPECT_ERR("creat in a missing dir", creat("/nonexistent-carapace/x", 0644), ENOENT);
	EXPECT_ERR("openat2 unknown flag", syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &(struct { unsigned long long f, m, r; }){1ULL << 40, 0, 0}, 24), EINVAL);
	EXPECT_ERR("openat2 small size", syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &(struct { unsigned long long f, m, r; }){0, 0, 0}, 8), EINVAL);
	EXPECT_ERR("openat2 mode without O_CREAT", syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &(struct { unsigned long long f, m, r; }){0, 0644, 0}, 24), EINVAL);
	EXPECT_ERR("openat2 BENEATH|IN_ROOT", syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &(struct { unsigned long long f, m, r; }){0, 0, 0x18}, 24), EINVAL);
	int etc = open("/etc", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("openat2 RESOLVE_BENEATH", syscall(SYS_openat2, etc, "passwd", &(struct { unsigned long long f, m, r; }){0, 0, 0x08}, 24));
	EXPECT_ERR("openat2 BENEATH escaping", syscall(SYS_openat2, etc, "../etc/passwd", &(struct { unsigned long long f, m, r; }){0, 0, 0x08}, 24), EXDEV);
	EXPECT_ERR("openat2 NO_SYMLINKS", syscall(SYS_openat2, AT_FDCWD, "/bin/sh", &(struct { unsigned long long f, m, r; }){0, 0, 0x04}, 24), ELOOP);
	EXPECT_OK("openat2 IN_ROOT absolute", syscall(SYS_openat2, etc, "/passwd", &(struct { unsigned long long f, m, r; }){0, 0, 0x10}, 24));
	return conformance_done();
}
