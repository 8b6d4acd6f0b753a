/* Open file description locks: owned by the description (dups and forked
 * children share them, a second open in the same process conflicts),
 * conflicting with POSIX locks both ways, l_pid -1 in F_GETLK, gone with
 * the description's last reference, F_OFD_SETLKW waits, and the checks. */
#include "locks.h"

static void shares_description(int fd)
{
	EXPECT_OK("child: F_OFD_SETLK through the shared description",
		  lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 20));
	getlk("child: F_OFD_GETLK, own description", fd, F_OFD_GETLK, F_WRLCK, 0, 0, -2);
	getlk("child: F_GETLK sees the OFD lock", fd, F_GETLK, F_WRLCK, 0, 0, -2);
}

int main(void)
{
	conformance_init();
	char path[64], marks_path[64];
	int fd = lock_tmpfile(path, "lock-ofd", 100);
	lock_marks = lock_tmpfile(marks_path, "lock-ofd-marks", 0);
	int fd2 = open(path, O_RDWR);

	EXPECT_OK("F_OFD_SETLK 0..10", lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	EXPECT_ERR("second open: F_OFD_SETLK", lk(fd2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 5, 1), EAGAIN);
	EXPECT_ERR("second open: F_SETLK", lk(fd2, F_SETLK, F_RDLCK, SEEK_SET, 5, 1), EAGAIN);
	EXPECT_ERR("same fd: F_SETLK", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 5, 1), EAGAIN);
	getlk("second open: F_OFD_GETLK", fd2, F_OFD_GETLK, F_RDLCK, 0, 0, -2);
	getlk("second open: F_GETLK", fd2, F_GETLK, F_RDLCK, 0, 0, -2);
	getlk("same description: F_OFD_GETLK", fd, F_OFD_GETLK, F_WRLCK, 0, 0, -2);
	getlk("F_OFD_GETLK of F_UNLCK: own locks", fd, F_OFD_GETLK, F_UNLCK, 0, 0, -2);
	getlk("F_OFD_GETLK of F_UNLCK, other open", fd2, F_OFD_GETLK, F_UNLCK, 0, 0, -2);
	EXPECT_OK("second open: F_OFD_SETLK 10..20", lk(fd2, F_OFD_SETLK, F_WRLCK, SEEK_SET, 10, 10));

	int dup_fd = dup(fd);
	EXPECT_OK("a dup extends it: 0..5 read",
		  lk(dup_fd, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 5));
	EXPECT_OK("close the dup", close(dup_fd));
	getlk("still held after the dup's close", fd2, F_OFD_GETLK, F_WRLCK, 0, 10, -2);
	EXPECT_OK("unlock the second open's", lk(fd2, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	in_child(shares_description, fd);
	getlk("child's change stays with the description", fd2, F_OFD_GETLK, F_RDLCK, 0, 0, -2);

	/* POSIX locks block OFD ones, with their pid. */
	int fd3 = open(path, O_RDWR);
	EXPECT_OK("unlock OFD", lk(fd, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	EXPECT_OK("POSIX lock 50..60", lk(fd3, F_SETLK, F_WRLCK, SEEK_SET, 50, 10));
	EXPECT_ERR("F_OFD_SETLK on it", lk(fd, F_OFD_SETLK, F_RDLCK, SEEK_SET, 55, 1), EAGAIN);
	getlk("F_OFD_GETLK sees it", fd, F_OFD_GETLK, F_RDLCK, 0, 0, getpid());
	EXPECT_OK("closing a POSIX fd", close(fd3));
	EXPECT_OK("then F_OFD_SETLK", lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 55, 1));

	/* Closing other fds of the file leaves OFD locks alone; the last
	 * reference takes them. */
	EXPECT_OK("close the second open", close(fd2));
	fd2 = open(path, O_RDWR);
	getlk("OFD lock survives other closes", fd2, F_OFD_GETLK, F_WRLCK, 0, 0, -2);
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		wait_byte(down[0]);
		_exit(0);
	}
	EXPECT_OK("close the description in the parent", close(fd));
	getlk("the child's reference keeps it", fd2, F_OFD_GETLK, F_WRLCK, 0, 0, -2);
	send_byte(down[1]);
	reap(pid);
	getlk("gone with the last reference", fd2, F_OFD_GETLK, F_WRLCK, 0, 0, -2);

	/* F_OFD_SETLKW waits for another description's unlock. */
	EXPECT_OK("F_OFD_SETLK whole file", lk(fd2, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	pid = fork();
	if (pid == 0) {
		int mine = open(path, O_RDWR);
		send_byte(up[1]);
		EXPECT_OK("child: F_OFD_SETLKW", lk(mine, F_OFD_SETLKW, F_RDLCK, SEEK_SET, 0, 1));
		CHECK(marked(0));
		_exit(conformance_failures ? 1 : 0);
	}
	LET_GO(up[0], 0, pid, lk(fd2, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	/* The checks. */
	struct flock l = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1};
	EXPECT_ERR("F_OFD_SETLK with l_pid", fcntl(fd2, F_OFD_SETLK, &l), EINVAL);
	EXPECT_ERR("F_OFD_SETLKW with l_pid", fcntl(fd2, F_OFD_SETLKW, &l), EINVAL);
	EXPECT_ERR("F_OFD_GETLK with l_pid", fcntl(fd2, F_OFD_GETLK, &l), EINVAL);
	l.l_whence = 7;
	EXPECT_ERR("l_pid and bad whence", fcntl(fd2, F_OFD_SETLK, &l), EINVAL);
	EXPECT_ERR("F_OFD_SETLK bad type", lk(fd2, F_OFD_SETLK, 3, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERR("F_OFD_GETLK bad type", lk(fd2, F_OFD_GETLK, 3, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERR("F_OFD_SETLK bad pointer", fcntl(fd2, F_OFD_SETLK, BAD_PTR), EFAULT);
	int ro = open(path, O_RDONLY);
	EXPECT_ERR("F_OFD_SETLK write on O_RDONLY", lk(ro, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1),
		   EBADF);
	int op = open(path, O_PATH);
	EXPECT_ERR("F_OFD_SETLK on O_PATH", lk(op, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);
	close(op);
	close(ro);

	close(fd2);
	close(lock_marks);
	EXPECT_OK("unlink", unlink(path));
	EXPECT_OK("unlink marks", unlink(marks_path));
	return conformance_done();
}
