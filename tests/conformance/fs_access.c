/*
 * access(2), faccessat(2), faccessat2(2): modes, flags and errors.
 * Write checks are only made on devices: the sandbox's rootfs is read-only.
 */
#include "conformance.h"

#include <fcntl.h>

int main(void)
{
	conformance_init();
	EXPECT_OK("F_OK /etc/passwd", access("/etc/passwd", F_OK));
	EXPECT_OK("R_OK /etc/passwd", access("/etc/passwd", R_OK));
	EXPECT_ERR("X_OK /etc/passwd", access("/etc/passwd", X_OK), EACCES);
	EXPECT_OK("X_OK /bin/sh", access("/bin/sh", X_OK));
	EXPECT_OK("R_OK|X_OK /usr/bin", access("/usr/bin", R_OK | X_OK));
	EXPECT_OK("W_OK /dev/null", access("/dev/null", W_OK));
	EXPECT_OK("R_OK|W_OK /dev/zero", access("/dev/zero", R_OK | W_OK));
	EXPECT_ERR("X_OK /dev/null", access("/dev/null", X_OK), EACCES);
	EXPECT_ERR("missing", access("/nonexistent-carapace", F_OK), ENOENT);
	EXPECT_ERR("through a file", access("/etc/passwd/x", F_OK), ENOTDIR);
	EXPECT_ERR("bad mode", access("/etc/passwd", 8), EINVAL);
	EXPECT_ERR("bad path", access(BAD_PTR, F_OK), EFAULT);
	EXPECT_ERR("empty path", access("", F_OK), ENOENT);
	int etc = open("/etc", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("faccessat relative", syscall(SYS_faccessat, etc, "passwd", R_OK));
	EXPECT_ERR("faccessat bad dirfd", syscall(SYS_faccessat, 999, "passwd", R_OK), EBADF);
	EXPECT_OK("faccessat2 AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "/etc/passwd", R_OK, AT_EACCESS));
	EXPECT_OK("faccessat2 NOFOLLOW on a link", syscall(SYS_faccessat2, AT_FDCWD, "/bin/sh", F_OK, AT_SYMLINK_NOFOLLOW));
	EXPECT_OK("faccessat2 AT_EMPTY_PATH", syscall(SYS_faccessat2, etc, "", R_OK, AT_EMPTY_PATH));
	EXPECT_ERR("faccessat2 empty without flag", syscall(SYS_faccessat2, etc, "", R_OK, 0), ENOENT);
	EXPECT_ERR("faccessat2 bad flags", syscall(SYS_faccessat2, AT_FDCWD, "/etc/passwd", R_OK, 0x1), EINVAL);
	EXPECT_ERR("faccessat2 bad mode", syscall(SYS_faccessat2, AT_FDCWD, "/etc/passwd", 0x10, 0), EINVAL);
	EXPECT_ERR("faccessat2 dangling-free missing", syscall(SYS_faccessat2, AT_FDCWD, "/etc/nonexistent-carapace", F_OK, AT_SYMLINK_NOFOLLOW), ENOENT);
	return conformance_done();
}
