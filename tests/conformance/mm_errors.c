/*
 * Hostile arguments to the memory syscalls: each gets the errno Linux
 * gives, and bad buffers passed to read(2)/write(2) give EFAULT.
 */
#include "conformance.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static long raw_mmap(uintptr_t addr, uintptr_t len, long prot, long flags, long fd, uintptr_t off)
{
	return syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int main(void)
{
	conformance_init();

	/* mmap */
	EXPECT_ERR("mmap zero length", raw_mmap(0, 0, PROT_READ, ANON, -1, 0), EINVAL);
	EXPECT_ERR("mmap huge length", raw_mmap(0, (uintptr_t)1 << 62, PROT_READ, ANON, -1, 0), ENOMEM);
	EXPECT_ERR("mmap length rounds past the top", raw_mmap(0, (uintptr_t)-1, PROT_READ, ANON, -1, 0), ENOMEM);
	EXPECT_ERR("mmap no map type", raw_mmap(0, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERR("mmap map type 0xf", raw_mmap(0, PG, PROT_READ, 0xf | MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERR("mmap anonymous MAP_SHARED_VALIDATE", raw_mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERR("mmap unaligned offset", raw_mmap(0, PG, PROT_READ, ANON, -1, 1), EINVAL);
	EXPECT_ERR("mmap MAP_FIXED unaligned", raw_mmap(0x10000001, PG, PROT_READ, ANON | MAP_FIXED, -1, 0), EINVAL);
	EXPECT_ERR("mmap MAP_FIXED past the top", raw_mmap(0x7ffffffff000, 2 * PG, PROT_READ, ANON | MAP_FIXED, -1, 0), ENOMEM);
	EXPECT_ERR("mmap MAP_FIXED wrapping", raw_mmap((uintptr_t)-PG, PG, PROT_READ, ANON | MAP_FIXED, -1, 0), ENOMEM);
	EXPECT_ERR("mmap shared MAP_GROWSDOWN", raw_mmap(0, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0), EINVAL);
	EXPECT_ERR("mmap bad fd", raw_mmap(0, PG, PROT_READ, MAP_PRIVATE, 12345, 0), EBADF);
	long ok = raw_mmap(0, PG, PROT_READ | PROT_WRITE, ANON, -1, 0);
	CHECK(ok != -1);
	long hinted = raw_mmap(0x1000001, PG, PROT_READ, ANON, -1, 0);
	CHECK(hinted != -1 && (hinted & (PG - 1)) == 0);
	munmap((void *)hinted, PG);
	unsigned char *p = (unsigned char *)ok;

	/* munmap */
	EXPECT_ERR("munmap zero length", munmap(p, 0), EINVAL);
	EXPECT_ERR("munmap unaligned", munmap(p + 1, PG), EINVAL);
	EXPECT_ERR("munmap huge length", munmap(p, (size_t)1 << 62), EINVAL);
	EXPECT_ERR("munmap wrapping", munmap(p, (size_t)-PG), EINVAL);
	EXPECT_ERR("munmap past the top", syscall(SYS_munmap, (uintptr_t)1 << 62, PG), EINVAL);

	/* mprotect */
	EXPECT_ERR("mprotect unaligned", mprotect(p + 1, PG, PROT_READ), EINVAL);
	EXPECT_ERR("mprotect unaligned zero length", mprotect(p + 1, 0, PROT_READ), EINVAL);
	EXPECT_OK("mprotect zero length", mprotect(p, 0, PROT_READ));
	EXPECT_ERR("mprotect unknown bit", mprotect(p, PG, 0x10), EINVAL);
	EXPECT_ERR("mprotect both grow bits", mprotect(p, PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), EINVAL);
	EXPECT_ERR("mprotect PROT_GROWSDOWN on a normal mapping", mprotect(p, PG, PROT_READ | PROT_GROWSDOWN), EINVAL);
	EXPECT_ERR("mprotect wrapping length", mprotect(p, (size_t)-PG, PROT_READ), ENOMEM);
	EXPECT_ERR("mprotect unmapped", syscall(SYS_mprotect, (uintptr_t)1 << 46, PG, PROT_READ), ENOMEM);

	/* msync, mincore, mlock */
	EXPECT_ERR("msync unknown flag", msync(p, PG, 8), EINVAL);
	EXPECT_ERR("msync MS_SYNC|MS_ASYNC", msync(p, PG, MS_SYNC | MS_ASYNC), EINVAL);
	EXPECT_ERR("msync unaligned", msync(p + 1, PG, MS_SYNC), EINVAL);
	EXPECT_OK("msync", msync(p, PG, MS_SYNC));
	EXPECT_ERR("msync unmapped", syscall(SYS_msync, (uintptr_t)1 << 46, PG, MS_SYNC), ENOMEM);
	unsigned char vec[2];
	EXPECT_ERR("mincore unaligned", mincore(p + 1, PG, vec), EINVAL);
	EXPECT_ERR("mincore huge", mincore(p, (size_t)1 << 62, vec), ENOMEM);
	EXPECT_ERR("mincore bad vector", mincore(p, PG, BAD_PTR), EFAULT);
	EXPECT_OK("mlock", mlock(p, PG));
	EXPECT_OK("munlock", munlock(p, PG));
	EXPECT_ERR("mlock2 unknown flag", syscall(SYS_mlock2, p, PG, 2), EINVAL);
	EXPECT_ERR("mlock unmapped", syscall(SYS_mlock, (uintptr_t)1 << 46, PG), ENOMEM);
	EXPECT_ERR("mlockall no flags", mlockall(0), EINVAL);
	EXPECT_ERR("mlockall MCL_ONFAULT alone", mlockall(MCL_ONFAULT), EINVAL);
	EXPECT_OK("munlockall", munlockall());

	/* Bad buffers for read(2) and write(2). */
	EXPECT_ERR("write from an unmapped buffer", syscall(SYS_write, 1, BAD_PTR, 10), EFAULT);
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	EXPECT_OK("mprotect read-only", mprotect(p, PG, PROT_READ));
	EXPECT_ERR("read into a PROT_READ buffer", read(fd, p, 16), EFAULT);
	EXPECT_ERR("read into an unmapped buffer", syscall(SYS_read, fd, BAD_PTR, 16), EFAULT);
	close(fd);
	munmap(p, PG);
	return conformance_done();
}
