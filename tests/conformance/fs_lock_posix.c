/* POSIX record locks: ranges (to EOF, negative lengths, SEEK_CUR/SEEK_END),
 * merging and splitting, F_GETLK from a child that sees the parent's locks
 * with its pid, upgrades and downgrades, and the argument checks. */
#include "locks.h"

static void whole_file_merged(int fd)
{
	getlk("child: write lock over all", fd, F_GETLK, F_WRLCK, 0, 0, getppid());
	getlk("child: read lock past 20", fd, F_GETLK, F_RDLCK, 20, 0, getppid());
}

static void after_split(int fd)
{
	getlk("child: read over 0..100", fd, F_GETLK, F_RDLCK, 0, 100, getppid());
	getlk("child: read over 5..7", fd, F_GETLK, F_RDLCK, 5, 2, getppid());
	getlk("child: write over 5..7", fd, F_GETLK, F_WRLCK, 5, 2, getppid());
	getlk("child: read from 7", fd, F_GETLK, F_RDLCK, 7, 0, getppid());
}

static void after_unlock(int fd)
{
	getlk("child: write over 3..9", fd, F_GETLK, F_WRLCK, 3, 6, getppid());
	getlk("child: write from 3", fd, F_GETLK, F_WRLCK, 3, 0, getppid());
	getlk("child: write from 0", fd, F_GETLK, F_WRLCK, 0, 0, getppid());
}

static void odd_ranges(int fd)
{
	getlk("child: write over 30..40", fd, F_GETLK, F_WRLCK, 30, 10, getppid());
	getlk("child: write over 50..55", fd, F_GETLK, F_WRLCK, 50, 5, getppid());
	getlk("child: write over 60..63", fd, F_GETLK, F_WRLCK, 60, 3, getppid());
	getlk("child: write from 90", fd, F_GETLK, F_WRLCK, 90, 0, getppid());
	getlk("child: write over 1000..1001", fd, F_GETLK, F_WRLCK, 1000, 1, getppid());
}

static void child_locks(int fd)
{
	EXPECT_ERR("child: F_SETLK write on parent's read", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1),
		   EAGAIN);
	EXPECT_OK("child: F_SETLK read on parent's read", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
	EXPECT_OK("child: F_SETLK write past parent's", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 1));
	getlk("child: own locks do not conflict", fd, F_GETLK, F_WRLCK, 10, 1, getpid());
}

static char renamed[80];

static void through_new_name(int fd)
{
	(void)fd;
	int mine = open(renamed, O_RDWR);
	EXPECT_ERR("child: F_SETLK through the new name", lk(mine, F_SETLK, F_RDLCK, SEEK_SET, 0, 1),
		   EAGAIN);
	close(mine);
}

static void parent_upgraded(int fd)
{
	EXPECT_ERR("child: read on parent's write", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EAGAIN);
	getlk("child: sees the upgrade", fd, F_GETLK, F_RDLCK, 0, 0, getppid());
}

int main(void)
{
	conformance_init();
	char path[64];
	int fd = lock_tmpfile(path, "lock-posix", 100);

	EXPECT_OK("lock 0..10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	EXPECT_OK("lock 10..20", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10));
	getlk("own locks never conflict", fd, F_GETLK, F_WRLCK, 0, 0, getpid());
	in_child(whole_file_merged, fd);

	EXPECT_OK("read lock 5..7 splits", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 5, 2));
	in_child(after_split, fd);

	EXPECT_OK("unlock 3..9", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 3, 6));
	in_child(after_unlock, fd);
	EXPECT_OK("unlock all", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	EXPECT_OK("unlock nothing", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	EXPECT_OK("negative length: 35..40", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 40, -5));
	EXPECT_OK("lseek 50", lseek(fd, 50, SEEK_SET));
	EXPECT_OK("SEEK_CUR +2, len 1", lk(fd, F_SETLK, F_WRLCK, SEEK_CUR, 2, 1));
	EXPECT_OK("SEEK_CUR -1, len -2", lk(fd, F_SETLK, F_RDLCK, SEEK_CUR, -1, -2));
	EXPECT_OK("SEEK_END -10 to EOF", lk(fd, F_SETLK, F_WRLCK, SEEK_END, -10, 0));
	in_child(odd_ranges, fd);
	EXPECT_OK("unlock all", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	EXPECT_OK("read lock 0..10", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
	in_child(child_locks, fd);
	getlk("child's locks went with it", fd, F_GETLK, F_WRLCK, 0, 0, getpid());
	EXPECT_OK("upgrade to write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	in_child(parent_upgraded, fd);
	EXPECT_OK("downgrade to read", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
	in_child(child_locks, fd);

	/* The checks. */
	EXPECT_ERR("bad type", lk(fd, F_SETLK, 7, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERR("bad whence", lk(fd, F_SETLK, F_RDLCK, 3, 0, 1), EINVAL);
	EXPECT_ERR("negative whence", lk(fd, F_SETLK, F_RDLCK, -1, 0, 1), EINVAL);
	EXPECT_ERR("negative start", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, -1, 1), EINVAL);
	EXPECT_ERR("length before 0", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 3, -4), EINVAL);
	EXPECT_ERR("start overflows", lk(fd, F_SETLK, F_RDLCK, SEEK_END, 0x7fffffffffffffffLL, 1),
		   EOVERFLOW);
	EXPECT_ERR("end overflows", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 2, 0x7fffffffffffffffLL),
		   EOVERFLOW);
	EXPECT_OK("end at OFFSET_MAX", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 1, 0x7fffffffffffffffLL));
	EXPECT_ERR("bad type and bad whence", lk(fd, F_SETLK, 9, 5, 0, 1), EINVAL);
	EXPECT_ERR("bad type, overflow", lk(fd, F_SETLK, 9, SEEK_SET, 2, 0x7fffffffffffffffLL),
		   EOVERFLOW);
	EXPECT_ERR("F_GETLK of F_UNLCK", lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERR("F_GETLK bad type", lk(fd, F_GETLK, 5, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERR("F_GETLK bad whence", lk(fd, F_GETLK, F_RDLCK, 4, 0, 1), EINVAL);
	EXPECT_ERR("F_GETLK bad type, overflow", lk(fd, F_GETLK, 9, SEEK_SET, 2, 0x7fffffffffffffffLL),
		   EINVAL);
	EXPECT_ERR("F_OFD_GETLK bad type, overflow",
		   lk(fd, F_OFD_GETLK, 9, SEEK_SET, 2, 0x7fffffffffffffffLL), EOVERFLOW);
	EXPECT_ERR("F_GETLK overflow", lk(fd, F_GETLK, F_RDLCK, SEEK_SET, 2, 0x7fffffffffffffffLL),
		   EOVERFLOW);
	EXPECT_ERR("F_SETLK bad pointer", fcntl(fd, F_SETLK, BAD_PTR), EFAULT);
	EXPECT_ERR("F_SETLKW bad pointer", fcntl(fd, F_SETLKW, BAD_PTR), EFAULT);
	EXPECT_ERR("F_GETLK bad pointer", fcntl(fd, F_GETLK, BAD_PTR), EFAULT);
	EXPECT_ERR("F_SETLK bad fd", lk(999, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);

	int ro = open(path, O_RDONLY);
	int wo = open(path, O_WRONLY);
	int op = open(path, O_PATH);
	EXPECT_ERR("write lock, O_RDONLY", lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	EXPECT_ERR("read lock, O_WRONLY", lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);
	EXPECT_OK("unlock, O_RDONLY", lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 1));
	EXPECT_OK("F_GETLK write, O_RDONLY", lk(ro, F_GETLK, F_WRLCK, SEEK_SET, 0, 1));
	EXPECT_ERR("bad whence before mode", lk(ro, F_SETLK, F_WRLCK, 9, 0, 1), EINVAL);
	EXPECT_ERR("O_PATH F_SETLK", lk(op, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);
	EXPECT_ERR("O_PATH F_GETLK", lk(op, F_GETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);

	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 3, .l_len = 4,
			  .l_pid = 12345};
	EXPECT_OK("F_GETLK with no conflict", fcntl(fd, F_GETLK, &l));
	EXPECT_VAL("  l_type", l.l_type, F_UNLCK);
	EXPECT_VAL("  l_start untouched", l.l_start, 3);
	EXPECT_VAL("  l_len untouched", l.l_len, 4);
	EXPECT_VAL("  l_pid untouched", l.l_pid, 12345);

	/* Locks belong to the inode, whatever its name. */
	EXPECT_OK("write lock", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	snprintf(renamed, sizeof(renamed), "%s-renamed", path);
	EXPECT_OK("rename", rename(path, renamed));
	in_child(through_new_name, fd);

	close(op);
	close(wo);
	close(ro);
	close(fd);
	EXPECT_OK("unlink", unlink(renamed));
	return conformance_done();
}
