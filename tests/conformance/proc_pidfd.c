/* pidfds: pidfd_open(2) flags and errors, the file (its /proc/self/fd link,
 * fdinfo, fstat, close-on-exec), poll readiness through a child's life
 * (running, zombie, reaped), thread pidfds (PIDFD_THREAD), CLONE_PIDFD
 * through clone and clone3, waitid(P_PIDFD), and PIDFD_GET_INFO. */
#include "conformance.h"
#include "clone3_thread.h"
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open(pid_t pid, unsigned flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

/* struct pidfd_info (Linux 6.16) and PIDFD_GET_INFO. */
struct pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
	uint64_t supported_mask;
};
#define GET_INFO_OF_SIZE(n) _IOWR(0xff, 11, char[n])
#define PIDFD_GET_INFO GET_INFO_OF_SIZE(sizeof(struct pidfd_info))
#define INFO_PID 1
#define INFO_CREDS 2
#define INFO_EXIT 8

/* The revents of a poll for POLLIN on fd, waiting up to timeout ms. */
static int revents(int fd, int timeout)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDNORM};
	if (poll(&p, 1, timeout) < 0)
		return -1;
	return p.revents;
}

/* The revents of a pidfd of a thread that ended: readable at once, and hung
 * up a moment later, once the thread is released. */
static int released(int fd)
{
	int r = revents(fd, -1);
	for (int i = 0; i < 2000 && r == (POLLIN | POLLRDNORM); i++) {
		usleep(1000);
		r = revents(fd, 0);
	}
	return r;
}

/* The value of the `key` line of fd's fdinfo, or -2 if there is none. */
static long fdinfo_pid(int fd, const char *key)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	int f = open(path, O_RDONLY);
	if (f < 0)
		return -2;
	ssize_t n = read(f, buf, sizeof buf - 1);
	close(f);
	if (n <= 0)
		return -2;
	buf[n] = 0;
	char *line = strstr(buf, key);
	return line ? strtol(line + strlen(key), NULL, 10) : -2;
}

static int fd_link_is(int fd, const char *want)
{
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n < 0)
		return 0;
	buf[n] = 0;
	return strcmp(buf, want) == 0;
}

static volatile pid_t thread_tid;
static int thread_go[2];

static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = gettid();
	char c;
	while (read(thread_go[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* A child that waits for its end of `gate` to close, then exits 7. */
static pid_t gated_child(int gate[2])
{
	if (pipe(gate) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(gate[1]);
		char c;
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(7);
	}
	close(gate[0]);
	return pid;
}

static void test_open(void)
{
	printf("-- pidfd_open\n");
	EXPECT_ERR("pid 0", pidfd_open(0, 0), EINVAL);
	EXPECT_ERR("pid -1", pidfd_open(-1, 0), EINVAL);
	EXPECT_ERR("unknown flag", pidfd_open(getpid(), 1), EINVAL);
	EXPECT_ERR("O_CLOEXEC is no flag", pidfd_open(getpid(), O_CLOEXEC), EINVAL);
	EXPECT_ERR("no such pid", pidfd_open(4194303, 0), ESRCH);

	int fd = EXPECT_OK("open self", pidfd_open(getpid(), 0));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(fd, F_GETFL) == O_RDWR);
	CHECK(fd_link_is(fd, "anon_inode:[pidfd]"));
	CHECK(fdinfo_pid(fd, "Pid:") == getpid());
	CHECK(fdinfo_pid(fd, "NSpid:") == getpid());
	struct stat st, st2;
	CHECK(fstat(fd, &st) == 0 && st.st_mode == 0700 && st.st_nlink == 1);
	CHECK(revents(fd, 0) == 0);
	char buf[8];
	EXPECT_ERR("read", read(fd, buf, sizeof buf), EINVAL);
	EXPECT_ERR("write", write(fd, "x", 1), EINVAL);

	int nb = EXPECT_OK("open nonblock", pidfd_open(getpid(), PIDFD_NONBLOCK));
	CHECK(fcntl(nb, F_GETFL) == (O_RDWR | O_NONBLOCK));
	/* Two pidfds of one process are one inode. */
	CHECK(fstat(nb, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev);
	close(nb);

	/* A thread that leads no process needs PIDFD_THREAD. */
	CHECK(pipe(thread_go) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
	while (!thread_tid)
		usleep(1000);
	EXPECT_ERR("thread without PIDFD_THREAD", pidfd_open(thread_tid, 0), ENOENT);
	int tfd = EXPECT_OK("thread pidfd", pidfd_open(thread_tid, PIDFD_THREAD));
	CHECK(fcntl(tfd, F_GETFL) == (O_RDWR | O_EXCL));
	CHECK(fdinfo_pid(tfd, "Pid:") == thread_tid);
	CHECK(fstat(tfd, &st2) == 0 && st2.st_ino != st.st_ino);
	CHECK(revents(tfd, 0) == 0);
	int lfd = EXPECT_OK("leader's thread pidfd", pidfd_open(getpid(), PIDFD_THREAD));
	CHECK(fstat(lfd, &st2) == 0 && st2.st_ino == st.st_ino);
	close(lfd);
	close(thread_go[1]);
	CHECK(pthread_join(t, NULL) == 0);
	/* A thread is released as it ends: readable and hung up. */
	CHECK(released(tfd) == (POLLIN | POLLRDNORM | POLLHUP));
	CHECK(fdinfo_pid(tfd, "Pid:") == -1);
	EXPECT_ERR("ended thread", pidfd_open(thread_tid, PIDFD_THREAD), ESRCH);
	close(tfd);
	close(thread_go[0]);
	close(fd);
}

static void test_child_life(void)
{
	printf("-- a child's life\n");
	int gate[2];
	pid_t pid = gated_child(gate);
	int fd = EXPECT_OK("open child", pidfd_open(pid, 0));
	int nb = EXPECT_OK("open child nonblock", pidfd_open(pid, PIDFD_NONBLOCK));
	CHECK(revents(fd, 0) == 0);
	CHECK(revents(fd, 30) == 0);

	siginfo_t si;
	/* waitid writes its siginfo, zeros, even when it fails. */
	memset(&si, 0xff, sizeof si);
	EXPECT_ERR("waitid nonblocking pidfd", syscall(SYS_waitid, P_PIDFD, nb, &si, WEXITED, NULL),
		   EAGAIN);
	CHECK(si.si_pid == 0 && si.si_signo == 0);
	EXPECT_ERR("waitid nonblocking pidfd, bad siginfo",
		   syscall(SYS_waitid, P_PIDFD, nb, BAD_PTR, WEXITED, NULL), EFAULT);
	memset(&si, 0xff, sizeof si);
	EXPECT_VAL("waitid nonblocking WNOHANG",
		   syscall(SYS_waitid, P_PIDFD, nb, &si, WEXITED | WNOHANG, NULL), 0);
	CHECK(si.si_pid == 0 && si.si_signo == 0);
	EXPECT_VAL("waitid WNOHANG", syscall(SYS_waitid, P_PIDFD, fd, &si, WEXITED | WNOHANG, NULL),
		   0);
	CHECK(si.si_pid == 0);

	close(gate[1]);
	/* Readable once a zombie, not hung up. */
	CHECK(revents(fd, -1) == (POLLIN | POLLRDNORM));
	CHECK(fdinfo_pid(fd, "Pid:") == pid);
	EXPECT_OK("open zombie", close(pidfd_open(pid, 0)));
	EXPECT_VAL("waitid WNOWAIT", syscall(SYS_waitid, P_PIDFD, fd, &si, WEXITED | WNOWAIT, NULL),
		   0);
	CHECK(si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 7);
	memset(&si, 0, sizeof si);
	EXPECT_VAL("waitid nonblocking, exited",
		   syscall(SYS_waitid, P_PIDFD, nb, &si, WEXITED, NULL), 0);
	CHECK(si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 7);

	/* Reaped: hung up too, and the pid is gone. */
	CHECK(revents(fd, 0) == (POLLIN | POLLRDNORM | POLLHUP));
	CHECK(fdinfo_pid(fd, "Pid:") == -1);
	CHECK(fdinfo_pid(fd, "NSpid:") == -1);
	EXPECT_ERR("open reaped", pidfd_open(pid, 0), ESRCH);
	EXPECT_ERR("waitid reaped", syscall(SYS_waitid, P_PIDFD, fd, &si, WEXITED, NULL), ECHILD);
	close(nb);
	close(fd);

	printf("-- waitid errors\n");
	int self = pidfd_open(getpid(), 0);
	EXPECT_ERR("waitid self", syscall(SYS_waitid, P_PIDFD, self, &si, WEXITED, NULL), ECHILD);
	EXPECT_ERR("waitid not a pidfd", syscall(SYS_waitid, P_PIDFD, 0, &si, WEXITED, NULL), EBADF);
	EXPECT_ERR("waitid closed fd", syscall(SYS_waitid, P_PIDFD, 999, &si, WEXITED, NULL), EBADF);
	EXPECT_ERR("waitid -1", syscall(SYS_waitid, P_PIDFD, -1, &si, WEXITED, NULL), EINVAL);
	EXPECT_ERR("waitid self, bad siginfo",
		   syscall(SYS_waitid, P_PIDFD, self, BAD_PTR, WEXITED, NULL), EFAULT);
	EXPECT_ERR("waitid not a pidfd, bad siginfo",
		   syscall(SYS_waitid, P_PIDFD, 0, BAD_PTR, WEXITED, NULL), EFAULT);
	EXPECT_ERR("waitid -1, bad siginfo", syscall(SYS_waitid, P_PIDFD, -1, BAD_PTR, WEXITED, NULL),
		   EFAULT);
	memset(&si, 0xff, sizeof si);
	EXPECT_ERR("waitid self, siginfo", syscall(SYS_waitid, P_PIDFD, self, &si, WEXITED, NULL),
		   ECHILD);
	CHECK(si.si_signo == 0 && si.si_pid == 0);
	EXPECT_ERR("waitid no options", syscall(SYS_waitid, P_PIDFD, self, &si, 0, NULL), EINVAL);
	close(self);
}

static char thread_stack[65536] __attribute__((aligned(16)));

static void test_clone_pidfd(void)
{
	printf("-- CLONE_PIDFD\n");
	int pidfd = -1;
	EXPECT_ERR("clone PIDFD|PARENT_SETTID",
		   syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, NULL, &pidfd, NULL,
			   0),
		   EINVAL);
	EXPECT_ERR("clone PIDFD bad pointer",
		   syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, BAD_PTR, NULL, 0), EFAULT);
	/* The fault came before any child existed. */
	EXPECT_ERR("no child made", waitpid(-1, NULL, WNOHANG), ECHILD);

	long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
	if (pid == 0)
		_exit(pidfd == -1 ? 3 : 4); /* the child's copy was taken first */
	CHECK(pid > 0 && pidfd >= 0);
	CHECK(fcntl(pidfd, F_GETFD) == FD_CLOEXEC);
	CHECK(fd_link_is(pidfd, "anon_inode:[pidfd]"));
	CHECK(fdinfo_pid(pidfd, "Pid:") == pid);
	CHECK(revents(pidfd, -1) == (POLLIN | POLLRDNORM));
	siginfo_t si = {0};
	EXPECT_VAL("waitid clone's pidfd", syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL),
		   0);
	CHECK(si.si_pid == pid && si.si_status == 3);
	close(pidfd);

	struct clone_args args = {0};
	int ptid = 0;
	pidfd = -1;
	args.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
	args.exit_signal = SIGCHLD;
	args.pidfd = (uintptr_t)&pidfd;
	args.parent_tid = (uintptr_t)&pidfd;
	EXPECT_ERR("clone3 pidfd and parent_tid at one place", syscall(SYS_clone3, &args, sizeof args),
		   EINVAL);
	args.parent_tid = (uintptr_t)&ptid;
	pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0)
		_exit(5);
	CHECK(pid > 0 && ptid == pid && pidfd >= 0);
	CHECK(fcntl(pidfd, F_GETFL) == O_RDWR);
	EXPECT_VAL("waitid clone3's pidfd", syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL),
		   0);
	CHECK(si.si_pid == pid && si.si_status == 5);
	close(pidfd);

	args.flags = CLONE_PIDFD;
	args.pidfd = (uintptr_t)BAD_PTR;
	EXPECT_ERR("clone3 bad pidfd pointer", syscall(SYS_clone3, &args, sizeof args), EFAULT);

	/* A thread's CLONE_PIDFD is a thread pidfd. */
	struct clone_args targs = {0};
	pidfd = -1;
	targs.flags = CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	targs.pidfd = (uintptr_t)&pidfd;
	targs.stack = (uintptr_t)thread_stack;
	targs.stack_size = sizeof thread_stack;
	long tid = clone3_exit_child(&targs);
	CHECK(tid > 0 && pidfd >= 0);
	CHECK(fcntl(pidfd, F_GETFL) == (O_RDWR | O_EXCL));
	CHECK(released(pidfd) == (POLLIN | POLLRDNORM | POLLHUP));
	close(pidfd);
}

/* PIDFD_GET_INFO on fd asking for `mask`: the ioctl's result, with the
 * answer in *info. */
static int get_info(int fd, uint64_t mask, struct pidfd_info *info)
{
	memset(info, 0xee, sizeof *info);
	info->mask = mask;
	return ioctl(fd, PIDFD_GET_INFO, info);
}

static void test_get_info(void)
{
	printf("-- PIDFD_GET_INFO\n");
	int fd = pidfd_open(getpid(), 0);
	struct pidfd_info info;
	EXPECT_VAL("self", get_info(fd, 0, &info), 0);
	CHECK((info.mask & (INFO_PID | INFO_CREDS)) == (INFO_PID | INFO_CREDS));
	CHECK(!(info.mask & INFO_EXIT));
	CHECK(info.pid == (uint32_t)getpid() && info.tgid == (uint32_t)getpid());
	CHECK(info.ppid == (uint32_t)getppid());
	CHECK(info.ruid == getuid() && info.euid == geteuid() && info.rgid == getgid() &&
	      info.egid == getegid());
	EXPECT_VAL("exit asked, running", get_info(fd, INFO_EXIT, &info), 0);
	CHECK(!(info.mask & INFO_EXIT));

	unsigned char big[200];
	memset(big, 0xee, sizeof big);
	memset(big, 0, 8);
	EXPECT_VAL("a longer struct", ioctl(fd, GET_INFO_OF_SIZE(200), big), 0);
	int zeros = 1;
	for (size_t i = 72; i < sizeof big; i++)
		zeros &= big[i] == 0;
	CHECK(zeros);
	memset(big, 0xee, sizeof big);
	memset(big, 0, 8);
	EXPECT_VAL("version 0", ioctl(fd, GET_INFO_OF_SIZE(64), big), 0);
	CHECK(big[64] == 0xee);
	EXPECT_ERR("shorter than version 0", ioctl(fd, GET_INFO_OF_SIZE(63), big), ENOTTY);
	EXPECT_ERR("another number", ioctl(fd, _IOWR(0xff, 12, struct pidfd_info), big), ENOTTY);
	EXPECT_ERR("another type", ioctl(fd, _IOWR(0xfe, 11, struct pidfd_info), big), ENOTTY);
	EXPECT_ERR("TCGETS", ioctl(fd, TCGETS, big), ENOTTY);
	EXPECT_ERR("NULL", ioctl(fd, PIDFD_GET_INFO, NULL), EINVAL);
	EXPECT_ERR("bad pointer", ioctl(fd, PIDFD_GET_INFO, BAD_PTR), EFAULT);
	close(fd);

	CHECK(pipe(thread_go) == 0);
	thread_tid = 0;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
	while (!thread_tid)
		usleep(1000);
	fd = pidfd_open(thread_tid, PIDFD_THREAD);
	EXPECT_VAL("thread", get_info(fd, 0, &info), 0);
	CHECK(info.pid == (uint32_t)thread_tid && info.tgid == (uint32_t)getpid());
	close(thread_go[1]);
	pthread_join(t, NULL);
	close(thread_go[0]);
	close(fd);

	pid_t pid = fork();
	if (pid == 0)
		_exit(5);
	fd = pidfd_open(pid, 0);
	CHECK(revents(fd, -1) == (POLLIN | POLLRDNORM));
	/* A zombie's status comes with its reaping. */
	EXPECT_VAL("zombie", get_info(fd, INFO_EXIT, &info), 0);
	CHECK(!(info.mask & INFO_EXIT) && info.pid == (uint32_t)pid && info.ppid == (uint32_t)getpid());
	CHECK(waitpid(pid, NULL, 0) == pid);
	EXPECT_ERR("reaped", get_info(fd, 0, &info), ESRCH);
	EXPECT_VAL("reaped, exit asked", get_info(fd, INFO_EXIT, &info), 0);
	CHECK((info.mask & (INFO_PID | INFO_CREDS | INFO_EXIT)) == INFO_EXIT);
	CHECK(info.exit_code == 5 << 8 && info.pid == 0 && info.tgid == 0);
	close(fd);

	pid = fork();
	if (pid == 0)
		pause();
	fd = pidfd_open(pid, 0);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, NULL, 0) == pid);
	EXPECT_VAL("killed, exit asked", get_info(fd, INFO_EXIT, &info), 0);
	CHECK(info.exit_code == SIGKILL);
	close(fd);
}

int main(void)
{
	conformance_init();
	test_open();
	test_child_life();
	test_clone_pidfd();
	test_get_info();
	return conformance_done();
}
