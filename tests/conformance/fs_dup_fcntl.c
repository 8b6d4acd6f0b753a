/*
 * dup, dup2, dup3, fcntl (F_DUPFD*, F_GETFD/SETFD, F_GETFL/SETFL, locks),
 * close_range and the FIOCLEX ioctls.
 */
#include "conformance.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>

/* The kernel reports O_LARGEFILE on x86-64; glibc defines it as 0 there. */
#define KO_LARGEFILE 0100000

int main(void)
{
	conformance_init();
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 3);
	int d = EXPECT_OK("dup", dup(fd));
	CHECK(d == fd + 1);
	EXPECT_ERR("dup bad fd", dup(999), EBADF);
	EXPECT_VAL("dup2 onto itself", dup2(fd, fd), fd);
	EXPECT_ERR("dup2 bad old onto itself", dup2(999, 999), EBADF);
	EXPECT_VAL("dup2 to 50", dup2(fd, 50), 50);
	EXPECT_VAL("dup2 over an open fd", dup2(d, 50), 50);
	EXPECT_ERR("dup2 bad old", dup2(999, 51), EBADF);
	EXPECT_ERR("dup2 new too big", dup2(fd, 1 << 30), EBADF);
	EXPECT_ERR("dup2 new negative", syscall(SYS_dup2, fd, -1), EBADF);
	EXPECT_ERR("dup3 same fd", dup3(fd, fd, 0), EINVAL);
	EXPECT_ERR("dup3 bad flags", dup3(fd, 52, O_NONBLOCK), EINVAL);
	EXPECT_VAL("dup3 O_CLOEXEC", dup3(fd, 52, O_CLOEXEC), 52);
	EXPECT_VAL("F_GETFD after dup3 O_CLOEXEC", fcntl(52, F_GETFD), FD_CLOEXEC);
	EXPECT_VAL("F_GETFD after dup2", fcntl(50, F_GETFD), 0);
	EXPECT_OK("F_SETFD", fcntl(50, F_SETFD, FD_CLOEXEC));
	EXPECT_VAL("F_GETFD", fcntl(50, F_GETFD), FD_CLOEXEC);
	EXPECT_OK("FIONCLEX", ioctl(50, FIONCLEX));
	EXPECT_VAL("F_GETFD after FIONCLEX", fcntl(50, F_GETFD), 0);
	EXPECT_OK("FIOCLEX", ioctl(50, FIOCLEX));
	EXPECT_VAL("F_GETFD after FIOCLEX", fcntl(50, F_GETFD), FD_CLOEXEC);

	EXPECT_VAL("F_DUPFD 100", fcntl(fd, F_DUPFD, 100), 100);
	EXPECT_VAL("F_DUPFD 100 again", fcntl(fd, F_DUPFD, 100), 101);
	EXPECT_VAL("F_DUPFD_CLOEXEC", fcntl(fd, F_DUPFD_CLOEXEC, 100), 102);
	EXPECT_VAL("F_GETFD of it", fcntl(102, F_GETFD), FD_CLOEXEC);
	EXPECT_ERR("F_DUPFD past the limit", fcntl(fd, F_DUPFD, 1 << 30), EINVAL);
	EXPECT_ERR("F_DUPFD negative", fcntl(fd, F_DUPFD, -1), EINVAL);
	EXPECT_ERR("fcntl bad fd", fcntl(999, F_GETFD), EBADF);
	EXPECT_ERR("fcntl bad cmd", fcntl(fd, 12345), EINVAL);

	EXPECT_VAL("F_GETFL O_RDONLY", fcntl(fd, F_GETFL), O_RDONLY | KO_LARGEFILE);
	int o = open("/dev/null", O_WRONLY | O_APPEND | O_CLOEXEC);
	EXPECT_VAL("F_GETFL O_WRONLY|O_APPEND", fcntl(o, F_GETFL), O_WRONLY | O_APPEND | KO_LARGEFILE);
	EXPECT_OK("F_SETFL O_NONBLOCK", fcntl(fd, F_SETFL, O_NONBLOCK | O_RDWR | O_TRUNC));
	EXPECT_VAL("F_GETFL after F_SETFL", fcntl(fd, F_GETFL), O_RDONLY | O_NONBLOCK | KO_LARGEFILE);
	EXPECT_VAL("status flags are shared by dup", fcntl(d, F_GETFL), O_RDONLY | O_NONBLOCK | KO_LARGEFILE);
	EXPECT_OK("F_SETFL 0", fcntl(fd, F_SETFL, 0));
	EXPECT_VAL("F_GETFL cleared", fcntl(fd, F_GETFL), O_RDONLY | KO_LARGEFILE);
	int p = open("/etc", O_PATH);
	EXPECT_VAL("F_GETFL O_PATH", fcntl(p, F_GETFL), O_PATH);
	EXPECT_ERR("F_SETFL O_PATH", fcntl(p, F_SETFL, 0), EBADF);
	EXPECT_OK("F_DUPFD O_PATH", fcntl(p, F_DUPFD, 0));
	EXPECT_ERR("ioctl O_PATH", ioctl(p, FIOCLEX), EBADF);

	struct flock lk = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	EXPECT_OK("F_SETLK read lock", fcntl(fd, F_SETLK, &lk));
	lk.l_type = F_WRLCK;
	EXPECT_ERR("F_SETLK write lock on O_RDONLY", fcntl(fd, F_SETLK, &lk), EBADF);
	EXPECT_OK("F_GETLK", fcntl(fd, F_GETLK, &lk));
	EXPECT_VAL("F_GETLK says unlocked", lk.l_type, F_UNLCK);
	lk.l_type = 77;
	EXPECT_ERR("F_SETLK bad type", fcntl(fd, F_SETLK, &lk), EINVAL);
	EXPECT_ERR("F_SETLK bad pointer", fcntl(fd, F_SETLK, BAD_PTR), EFAULT);

	EXPECT_OK("close_range 100..102", syscall(SYS_close_range, 100, 102, 0));
	EXPECT_ERR("closed by close_range", fcntl(101, F_GETFD), EBADF);
	EXPECT_OK("close_range CLOEXEC", syscall(SYS_close_range, 50, 50, CLOSE_RANGE_CLOEXEC));
	EXPECT_VAL("F_GETFD after close_range CLOEXEC", fcntl(50, F_GETFD), FD_CLOEXEC);
	EXPECT_ERR("close_range first > last", syscall(SYS_close_range, 10, 5, 0), EINVAL);
	EXPECT_ERR("close_range bad flags", syscall(SYS_close_range, 10, 20, 0x80), EINVAL);
	EXPECT_OK("close_range beyond every fd", syscall(SYS_close_range, 5000, ~0u, 0));
	EXPECT_VAL("lowest free fd after closes", (close(d), dup(fd)), d);
	return conformance_done();
}
