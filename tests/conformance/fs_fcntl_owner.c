/* F_SETOWN/F_GETOWN, F_SETOWN_EX/F_GETOWN_EX and F_SETSIG/F_GETSIG: the
 * owner and signal live on the open file description (dups and forked
 * children see them), an owner that is gone reads back as 0, and the
 * checks. No SIGIO is asked for. */
#include "locks.h"

/* F_GETOWN without glibc (which asks F_GETOWN_EX instead). */
static long getown(int fd)
{
	return syscall(SYS_fcntl, fd, F_GETOWN);
}

static void getown_ex(const char *label, int fd, pid_t want)
{
	struct f_owner_ex ex = {.type = -1, .pid = -1};
	if (fcntl(fd, F_GETOWN_EX, &ex) != 0) {
		printf("%s: FAIL: %s\n", label, errno_name(errno));
		conformance_failures++;
		return;
	}
	const char *type = ex.type == F_OWNER_TID	 ? "F_OWNER_TID"
			   : ex.type == F_OWNER_PID	 ? "F_OWNER_PID"
			   : ex.type == F_OWNER_PGRP ? "F_OWNER_PGRP"
						 : "?";
	printf("%s: %s pid=%s\n", label, type,
	       ex.pid == 0 ? "0" : ex.pid == want ? "expected" : "other");
}

static void child_sees(int fd)
{
	CHECK(getown(fd) == getppid());
	EXPECT_VAL("child: F_GETSIG", fcntl(fd, F_GETSIG), SIGUSR1);
}

int main(void)
{
	conformance_init();
	char path[64];
	int fd = lock_tmpfile(path, "fcntl-owner", 0);

	EXPECT_VAL("F_GETOWN, new", getown(fd), 0);
	EXPECT_VAL("glibc F_GETOWN, new", fcntl(fd, F_GETOWN), 0);
	getown_ex("F_GETOWN_EX, new", fd, 0);
	EXPECT_VAL("F_GETSIG, new", fcntl(fd, F_GETSIG), 0);

	EXPECT_OK("F_SETOWN self", fcntl(fd, F_SETOWN, getpid()));
	CHECK(getown(fd) == getpid());
	CHECK(fcntl(fd, F_GETOWN) == getpid());
	getown_ex("F_GETOWN_EX after F_SETOWN", fd, getpid());
	int dup_fd = dup(fd);
	CHECK(getown(dup_fd) == getpid());
	int fd2 = open(path, O_RDONLY);
	EXPECT_VAL("another open's F_GETOWN", getown(fd2), 0);

	EXPECT_OK("F_SETOWN -pgrp", fcntl(fd, F_SETOWN, -getpgrp()));
	/* The raw call returns -pgrp, which syscall(2) takes for an error. */
	CHECK(fcntl(fd, F_GETOWN) == -getpgrp());
	getown_ex("F_GETOWN_EX after F_SETOWN -pgrp", fd, getpgrp());
	EXPECT_OK("F_SETOWN 0", fcntl(fd, F_SETOWN, 0));
	EXPECT_VAL("F_GETOWN after F_SETOWN 0", getown(fd), 0);
	getown_ex("F_GETOWN_EX after F_SETOWN 0", fd, 0);

	struct f_owner_ex ex = {.type = F_OWNER_TID, .pid = gettid()};
	EXPECT_OK("F_SETOWN_EX tid", fcntl(fd, F_SETOWN_EX, &ex));
	getown_ex("F_GETOWN_EX after F_SETOWN_EX tid", fd, gettid());
	CHECK(getown(fd) == gettid());
	ex = (struct f_owner_ex){.type = F_OWNER_PGRP, .pid = getpgrp()};
	EXPECT_OK("F_SETOWN_EX pgrp", fcntl(fd, F_SETOWN_EX, &ex));
	CHECK(fcntl(fd, F_GETOWN) == -getpgrp());
	ex = (struct f_owner_ex){.type = F_OWNER_PID, .pid = 0};
	EXPECT_OK("F_SETOWN_EX pid 0", fcntl(fd, F_SETOWN_EX, &ex));
	getown_ex("F_GETOWN_EX after F_SETOWN_EX pid 0", fd, 0);

	/* An owner that is gone reads back as 0. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	EXPECT_OK("F_SETOWN a child", fcntl(fd, F_SETOWN, pid));
	CHECK(getown(fd) == pid);
	reap(pid);
	EXPECT_VAL("F_GETOWN once it is reaped", getown(fd), 0);
	getown_ex("F_GETOWN_EX once it is reaped", fd, pid);

	EXPECT_OK("F_SETSIG SIGUSR1", fcntl(fd, F_SETSIG, SIGUSR1));
	EXPECT_VAL("F_GETSIG", fcntl(fd, F_GETSIG), SIGUSR1);
	EXPECT_VAL("F_GETSIG on the dup", fcntl(dup_fd, F_GETSIG), SIGUSR1);
	EXPECT_VAL("F_GETSIG on another open", fcntl(fd2, F_GETSIG), 0);
	EXPECT_OK("F_SETOWN self", fcntl(fd, F_SETOWN, getpid()));
	in_child(child_sees, fd);
	EXPECT_OK("F_SETSIG 64", fcntl(fd, F_SETSIG, 64));
	EXPECT_VAL("F_GETSIG", fcntl(fd, F_GETSIG), 64);
	EXPECT_OK("F_SETSIG 0", fcntl(fd, F_SETSIG, 0));
	EXPECT_VAL("F_GETSIG", fcntl(fd, F_GETSIG), 0);

	/* The checks. */
	EXPECT_ERR("F_SETSIG 65", fcntl(fd, F_SETSIG, 65), EINVAL);
	EXPECT_ERR("F_SETSIG -1", fcntl(fd, F_SETSIG, -1), EINVAL);
	EXPECT_OK("F_SETSIG takes an int", syscall(SYS_fcntl, fd, F_SETSIG, 0x100000005L));
	EXPECT_VAL("F_GETSIG", fcntl(fd, F_GETSIG), 5);
	EXPECT_ERR("F_SETOWN no such pid", fcntl(fd, F_SETOWN, 0x3ffffff0), ESRCH);
	EXPECT_ERR("F_SETOWN no such group", fcntl(fd, F_SETOWN, -0x3ffffff0), ESRCH);
	EXPECT_ERR("F_SETOWN INT_MIN", fcntl(fd, F_SETOWN, -0x7fffffff - 1), EINVAL);
	ex = (struct f_owner_ex){.type = 3, .pid = getpid()};
	EXPECT_ERR("F_SETOWN_EX bad type", fcntl(fd, F_SETOWN_EX, &ex), EINVAL);
	ex = (struct f_owner_ex){.type = F_OWNER_PID, .pid = 0x3ffffff0};
	EXPECT_ERR("F_SETOWN_EX no such pid", fcntl(fd, F_SETOWN_EX, &ex), ESRCH);
	ex = (struct f_owner_ex){.type = F_OWNER_PID, .pid = -getpid()};
	EXPECT_ERR("F_SETOWN_EX negative pid", fcntl(fd, F_SETOWN_EX, &ex), ESRCH);
	EXPECT_ERR("F_SETOWN_EX bad pointer", fcntl(fd, F_SETOWN_EX, BAD_PTR), EFAULT);
	EXPECT_ERR("F_GETOWN_EX bad pointer", fcntl(fd, F_GETOWN_EX, BAD_PTR), EFAULT);
	int op = open(path, O_PATH);
	EXPECT_ERR("O_PATH F_SETOWN", fcntl(op, F_SETOWN, getpid()), EBADF);
	EXPECT_ERR("O_PATH F_GETOWN", getown(op), EBADF);
	EXPECT_ERR("O_PATH F_GETSIG", fcntl(op, F_GETSIG), EBADF);
	EXPECT_ERR("O_PATH F_GETOWN_EX", fcntl(op, F_GETOWN_EX, &ex), EBADF);

	close(op);
	close(fd2);
	close(dup_fd);
	close(fd);
	EXPECT_OK("unlink", unlink(path));
	return conformance_done();
}
