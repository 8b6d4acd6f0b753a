/* When POSIX record locks go: a close of any fd of the process on the
 * file (another open, a dup, an O_PATH fd) drops them all, a close of an
 * unrelated file does not; exit drops them; execve keeps them, except
 * where it closes a close-on-exec fd of the file. */
#include "locks.h"

static pid_t expect_owner;

static void sees_lock(int fd)
{
	getlk("child: F_GETLK", fd, F_GETLK, F_WRLCK, 0, 0, expect_owner);
}

/* Locks held: what a fresh child sees. */
static void check(const char *label, int fd)
{
	printf("%s\n", label);
	expect_owner = getpid();
	in_child(sees_lock, fd);
}

int main(int argc, char **argv)
{
	conformance_init();
	if (argc == 3) {
		/* The execed child: tell the parent, wait until it has looked. */
		send_byte(atoi(argv[1]));
		wait_byte(atoi(argv[2]));
		return 0;
	}
	char path[64], other_path[64];
	int fd = lock_tmpfile(path, "lock-release", 100);
	int other = lock_tmpfile(other_path, "lock-release-other", 100);

	int fd2 = open(path, O_RDWR);
	EXPECT_OK("lock 0..10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	EXPECT_OK("lock 20..30", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 20, 10));
	EXPECT_OK("lock the other file", lk(other, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	check("held:", fd);
	EXPECT_OK("close a second open of the file", close(fd2));
	check("after closing the second open:", fd);
	check("the other file's lock stays:", other);

	EXPECT_OK("lock again", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	int dup_fd = dup(fd);
	EXPECT_OK("close a dup", close(dup_fd));
	check("after closing a dup:", fd);

	EXPECT_OK("lock again", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	int path_fd = open(path, O_PATH);
	EXPECT_OK("close an O_PATH fd", close(path_fd));
	check("after closing an O_PATH fd:", fd);

	EXPECT_OK("lock again", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	int dup_fd2 = dup(fd);
	EXPECT_OK("dup2 over a dup", dup2(other, dup_fd2));
	check("after dup2 replaced a dup:", fd);
	close(dup_fd2);

	/* Exit drops a child's locks. */
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		EXPECT_OK("child: lock", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
		send_byte(up[1]);
		wait_byte(down[0]);
		_exit(conformance_failures ? 1 : 0);
	}
	wait_byte(up[0]);
	getlk("child's lock", fd, F_GETLK, F_WRLCK, 0, 0, pid);
	send_byte(down[1]);
	reap(pid);
	getlk("after the child's exit", fd, F_GETLK, F_WRLCK, 0, 0, pid);

	/* execve keeps them, unless it closes an fd of the file. */
	pid = fork();
	if (pid == 0) {
		int cloexec = open(other_path, O_RDWR | O_CLOEXEC);
		lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
		lk(cloexec, F_SETLK, F_WRLCK, SEEK_SET, 5, 1);
		char a1[16], a2[16];
		snprintf(a1, sizeof(a1), "%d", up[1]);
		snprintf(a2, sizeof(a2), "%d", down[0]);
		execl("/proc/self/exe", argv[0], a1, a2, (char *)NULL);
		_exit(2);
	}
	wait_byte(up[0]);
	getlk("lock kept across execve", fd, F_GETLK, F_WRLCK, 0, 0, pid);
	getlk("lock through the close-on-exec fd gone", other, F_GETLK, F_WRLCK, 0, 0, pid);
	send_byte(down[1]);
	reap(pid);
	getlk("gone with the execed child", fd, F_GETLK, F_WRLCK, 0, 0, pid);

	close(fd);
	close(other);
	EXPECT_OK("unlink", unlink(path));
	EXPECT_OK("unlink other", unlink(other_path));
	return conformance_done();
}
