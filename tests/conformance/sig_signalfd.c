/* signalfd: reads give signalfd_siginfo records (sender, si_value, SIGCHLD
 * status), several per read, only the mask's signals; poll readiness;
 * SFD_NONBLOCK (EAGAIN) and SFD_CLOEXEC; changing the mask through the
 * fd; its /proc/self/fd link and lseek; a blocked read woken by a child's signal; and the error paths. */
#define _GNU_SOURCE
#include "conformance.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

int main(void)
{
	conformance_init();
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	char link[64], target[64] = "";
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	CHECK(readlink(link, target, sizeof target - 1) > 0);
	printf("fd link: %s\n", target);
	EXPECT_VAL("lseek does nothing", lseek(fd, 10, SEEK_SET), 0);
	struct signalfd_siginfo si[4];
	EXPECT_ERR("empty, non-blocking", read(fd, si, sizeof si), EAGAIN);
	EXPECT_ERR("buffer too small", read(fd, si, sizeof si[0] - 1), EINVAL);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	EXPECT_VAL("poll: not ready", poll(&p, 1, 0), 0);

	kill(getpid(), SIGUSR1);
	union sigval v = {.sival_int = 4321};
	sigqueue(getpid(), SIGRTMIN, v);
	v.sival_int = 8765;
	sigqueue(getpid(), SIGRTMIN, v);
	EXPECT_VAL("poll: ready", poll(&p, 1, 0), 1);
	CHECK(p.revents == POLLIN);
	EXPECT_VAL("read three records", read(fd, si, sizeof si), 3 * (long)sizeof si[0]);
	CHECK(si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_USER);
	CHECK(si[0].ssi_pid == (uint32_t)getpid() && si[0].ssi_uid == getuid());
	CHECK(si[1].ssi_signo == (uint32_t)SIGRTMIN && si[1].ssi_code == SI_QUEUE);
	CHECK(si[1].ssi_int == 4321 && si[1].ssi_pid == (uint32_t)getpid());
	CHECK(si[2].ssi_int == 8765);
	EXPECT_VAL("poll: drained", poll(&p, 1, 0), 0);

	/* A record at a time when the buffer holds one. */
	kill(getpid(), SIGUSR1);
	sigqueue(getpid(), SIGRTMIN, v);
	EXPECT_VAL("read one record", read(fd, si, sizeof si[0] + 10), (long)sizeof si[0]);
	EXPECT_VAL("and the next", read(fd, si, sizeof si[0]), (long)sizeof si[0]);
	CHECK(si[0].ssi_signo == (uint32_t)SIGRTMIN);

	/* Signals outside the mask are not read. */
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	kill(getpid(), SIGUSR2);
	EXPECT_ERR("SIGUSR2 not in the mask", read(fd, si, sizeof si), EAGAIN);
	/* Change the mask through the fd. */
	EXPECT_VAL("signalfd on the fd", signalfd(fd, &usr2, 0), fd);
	EXPECT_VAL("now SIGUSR2 reads", read(fd, si, sizeof si), (long)sizeof si[0]);
	CHECK(si[0].ssi_signo == SIGUSR2);
	signalfd(fd, &mask, 0);

	/* SIGCHLD records describe the child. */
	pid_t child = fork();
	if (child == 0)
		_exit(42);
	struct pollfd pw = {.fd = fd, .events = POLLIN};
	EXPECT_VAL("poll waits for SIGCHLD", poll(&pw, 1, 5000), 1);
	EXPECT_VAL("read SIGCHLD", read(fd, si, sizeof si), (long)sizeof si[0]);
	CHECK(si[0].ssi_signo == SIGCHLD && si[0].ssi_code == CLD_EXITED);
	CHECK(si[0].ssi_pid == (uint32_t)child && si[0].ssi_status == 42);
	waitpid(child, NULL, 0);

	/* A blocking read, woken by a child's signal. */
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	int bfd = signalfd(-1, &rt, 0);
	pid_t parent = getpid();
	child = fork();
	if (child == 0) {
		usleep(30000);
		union sigval cv = {.sival_int = 99};
		sigqueue(parent, SIGRTMIN, cv);
		_exit(0);
	}
	EXPECT_VAL("blocking read", read(bfd, si, sizeof si[0]), (long)sizeof si[0]);
	CHECK(si[0].ssi_signo == (uint32_t)SIGRTMIN && si[0].ssi_pid == (uint32_t)child);
	CHECK(si[0].ssi_int == 99);
	waitpid(child, NULL, 0);
	read(fd, si, sizeof si); /* the SIGCHLD */
	close(bfd);

	struct stat st;
	EXPECT_VAL("fstat", fstat(fd, &st), 0);
	CHECK((st.st_mode & 0777) == 0600);

	EXPECT_ERR("bad flags", syscall(SYS_signalfd4, -1, &mask, 8, 0x1), EINVAL);
	EXPECT_ERR("bad size", syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL);
	EXPECT_ERR("bad mask pointer", syscall(SYS_signalfd4, -1, BAD_PTR, 8, 0), EFAULT);
	EXPECT_ERR("not a signalfd", syscall(SYS_signalfd4, 1, &mask, 8, 0), EINVAL);
	EXPECT_ERR("closed fd", syscall(SYS_signalfd4, 999, &mask, 8, 0), EBADF);
	EXPECT_ERR("bad read buffer", syscall(SYS_read, fd, BAD_PTR, 128), EAGAIN);
	kill(getpid(), SIGUSR1);
	EXPECT_ERR("bad read buffer with a signal", syscall(SYS_read, fd, BAD_PTR, 128), EFAULT);
	int old = syscall(SYS_signalfd, -1, &mask, 8);
	CHECK(old >= 0);
	CHECK(fcntl(old, F_GETFD) == 0);
	/* The failed read took its signal (Linux's too). */
	sigset_t pending;
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGUSR1));
	kill(getpid(), SIGUSR1);
	EXPECT_VAL("signalfd reads the pending one", read(old, si, sizeof si), (long)sizeof si[0]);
	return conformance_done();
}
