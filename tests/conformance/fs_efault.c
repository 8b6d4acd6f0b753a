/*
 * NULL and wild pointers and huge lengths given to the file syscalls: EFAULT
 * (or the partial count where Linux returns one), never a crash.
 */
#include "conformance.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

int main(void)
{
	conformance_init();
	EXPECT_ERR("open(NULL)", syscall(SYS_open, NULL, O_RDONLY), EFAULT);
	EXPECT_ERR("open(BAD_PTR)", syscall(SYS_open, BAD_PTR, O_RDONLY), EFAULT);
	EXPECT_ERR("openat(NULL)", syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY), EFAULT);
	int fd = open("/etc/passwd", O_RDONLY);
	EXPECT_ERR("read into BAD_PTR", syscall(SYS_read, fd, BAD_PTR, 10), EFAULT);
	EXPECT_VAL("offset unchanged by EFAULT", lseek(fd, 0, SEEK_CUR), 0);
	EXPECT_ERR("read into NULL", syscall(SYS_read, fd, NULL, 10), EFAULT);
	EXPECT_ERR("read huge length", syscall(SYS_read, fd, (void *)0x1000, SIZE_MAX), EFAULT);
	EXPECT_ERR("read to a kernel address", syscall(SYS_read, fd, (void *)0xffff800000000000, 10), EFAULT);
	int null = open("/dev/null", O_WRONLY);
	EXPECT_ERR("write to stdout from BAD_PTR", syscall(SYS_write, 1, BAD_PTR, 10), EFAULT);
	/* /dev/null never reads the buffer. */
	EXPECT_VAL("write to /dev/null from BAD_PTR", syscall(SYS_write, null, BAD_PTR, 10), 10);
	EXPECT_VAL("write 0 bytes from BAD_PTR", syscall(SYS_write, null, BAD_PTR, 0), 0);
	EXPECT_ERR("fstat to BAD_PTR", syscall(SYS_fstat, fd, BAD_PTR), EFAULT);
	EXPECT_ERR("stat to NULL", syscall(SYS_stat, "/etc/passwd", NULL), EFAULT);
	EXPECT_ERR("stat of NULL", syscall(SYS_stat, NULL, BAD_PTR), EFAULT);
	EXPECT_ERR("getcwd(NULL)", syscall(SYS_getcwd, NULL, 100), EFAULT);

	/* A read that runs off the end of the mapping returns what fit. */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(two != MAP_FAILED);
	CHECK(munmap(two + 4096, 4096) == 0);
	int zero = open("/dev/zero", O_RDONLY);
	EXPECT_VAL("read /dev/zero across the end", syscall(SYS_read, zero, two + 4000, 200), 96);
	EXPECT_VAL("pread file across the end", syscall(SYS_pread64, fd, two + 4095, 100, 0), 1);
	CHECK(two[4095] == 'r');

	struct iovec iov[2] = {{two, 10}, {BAD_PTR, 10}};
	EXPECT_VAL("writev to /dev/null, bad second iovec", syscall(SYS_writev, null, iov, 2), 20);
	EXPECT_ERR("readv iovec array NULL", syscall(SYS_readv, fd, NULL, 1), EFAULT);
	EXPECT_ERR("readv iovcnt 1025", syscall(SYS_readv, fd, iov, 1025), EINVAL);
	EXPECT_ERR("readv iovcnt -1", syscall(SYS_readv, fd, iov, -1), EINVAL);
	struct iovec neg[1] = {{two, (size_t)-1}};
	EXPECT_ERR("readv negative length", syscall(SYS_readv, fd, neg, 1), EINVAL);
	EXPECT_ERR("pread negative offset", syscall(SYS_pread64, fd, two, 1L, -1L), EINVAL);
	CHECK(mprotect(two, 4096, PROT_READ) == 0);
	EXPECT_ERR("read into read-only memory", syscall(SYS_read, zero, two, 10), EFAULT);
	return conformance_done();
}
