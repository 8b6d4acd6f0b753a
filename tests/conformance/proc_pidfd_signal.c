/* pidfd_send_signal(2): flag and argument checks, the siginfo a receiver
 * sees (kill's, a queued one, a thread-directed one), the rules on forged
 * siginfo, scopes (thread, process, process group), PIDFD_SELF_*, zombies,
 * reaped processes and permissions. */
#include "conformance.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define SIGNAL_THREAD 1
#define SIGNAL_THREAD_GROUP 2
#define SIGNAL_PROCESS_GROUP 4
#define SELF_THREAD (-10000)
#define SELF_THREAD_GROUP (-10001)

static int pidfd_open(pid_t pid, unsigned flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static long send_signal(int fd, int sig, siginfo_t *info, unsigned flags)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

/* What a receiver reports of a signal it took, through a pipe. */
struct report {
	int signo, code, from_parent, uid, value;
};

static siginfo_t queued(int sig, int code, int value)
{
	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_signo = sig;
	info.si_code = code;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = value;
	return info;
}

/* A child that takes SIGUSR1 and SIGUSR2 with sigwaitinfo, reporting each,
 * until SIGTERM (not blocked) kills it. */
static pid_t receiver(int out[2], int own_group)
{
	if (pipe(out) != 0)
		return -1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(out[0]);
		if (own_group)
			setpgid(0, 0);
		struct report r = {0};
		write(out[1], &r, sizeof r); /* ready */
		for (;;) {
			siginfo_t si;
			int sig = sigwaitinfo(&set, &si);
			if (sig < 0)
				continue;
			r.signo = sig;
			r.code = si.si_code;
			r.from_parent = si.si_pid == getppid();
			r.uid = si.si_uid;
			r.value = si.si_code == SI_QUEUE ? si.si_value.sival_int : 0;
			write(out[1], &r, sizeof r);
		}
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	close(out[1]);
	struct report ready;
	read(out[0], &ready, sizeof ready);
	return pid;
}

static void expect_report(int in, int signo, int code, int value)
{
	struct report r;
	if (read(in, &r, sizeof r) != sizeof r) {
		CHECK(!"report read");
		return;
	}
	printf("got %s code %d from_parent %d uid %d value %d\n", sigabbrev_np(r.signo), r.code,
	       r.from_parent, r.uid, r.value);
	CHECK(r.signo == signo && r.code == code && r.value == value);
}

static void test_arguments(void)
{
	printf("-- arguments\n");
	int self = pidfd_open(getpid(), 0);
	EXPECT_ERR("flags 3", send_signal(self, 0, NULL, 3), EINVAL);
	EXPECT_ERR("flags 8", send_signal(self, 0, NULL, 8), EINVAL);
	EXPECT_ERR("flags high bit", send_signal(self, 0, NULL, 1u << 31), EINVAL);
	EXPECT_ERR("bad flags before bad fd", send_signal(999, 0, NULL, 8), EINVAL);
	EXPECT_ERR("closed fd", send_signal(999, 0, NULL, 0), EBADF);
	EXPECT_ERR("not a pidfd", send_signal(0, 0, NULL, 0), EBADF);
	EXPECT_ERR("bad fd before bad signal", send_signal(0, 65, NULL, 0), EBADF);
	EXPECT_VAL("signal 0", send_signal(self, 0, NULL, 0), 0);
	EXPECT_VAL("signal 0, thread scope", send_signal(self, 0, NULL, SIGNAL_THREAD), 0);
	EXPECT_VAL("signal 0, process scope", send_signal(self, 0, NULL, SIGNAL_THREAD_GROUP), 0);
	EXPECT_VAL("PIDFD_SELF_THREAD", send_signal(SELF_THREAD, 0, NULL, 0), 0);
	EXPECT_VAL("PIDFD_SELF_THREAD_GROUP", send_signal(SELF_THREAD_GROUP, 0, NULL, 0), 0);
	EXPECT_ERR("signal 65", send_signal(self, 65, NULL, 0), EINVAL);
	EXPECT_ERR("signal -1", send_signal(self, -1, NULL, 0), EINVAL);
	EXPECT_ERR("bad siginfo", send_signal(self, SIGUSR1, BAD_PTR, 0), EFAULT);
	siginfo_t info = queued(SIGUSR2, SI_QUEUE, 1);
	EXPECT_ERR("siginfo of another signal", send_signal(self, SIGUSR1, &info, 0), EINVAL);

	/* The caller may forge any siginfo for itself. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	info = queued(SIGUSR1, SI_USER, 0);
	EXPECT_VAL("own forged SI_USER", send_signal(self, SIGUSR1, &info, 0), 0);
	siginfo_t got;
	CHECK(sigwaitinfo(&set, &got) == SIGUSR1 && got.si_code == SI_USER);
	/* Thread-directed, and still SI_USER. */
	EXPECT_VAL("PIDFD_SELF_THREAD", send_signal(SELF_THREAD, SIGUSR1, NULL, 0), 0);
	CHECK(sigwaitinfo(&set, &got) == SIGUSR1 && got.si_code == SI_USER);
	EXPECT_VAL("own process, SI_USER", send_signal(SELF_THREAD_GROUP, SIGUSR1, NULL, 0), 0);
	CHECK(sigwaitinfo(&set, &got) == SIGUSR1 && got.si_code == SI_USER);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	close(self);
}

static int self_fd;
static long thread_forge_result, thread_forge_errno;

static void *forge_from_thread(void *arg)
{
	(void)arg;
	siginfo_t info = queued(SIGUSR1, SI_USER, 0);
	errno = 0;
	thread_forge_result = send_signal(self_fd, SIGUSR1, &info, 0);
	thread_forge_errno = errno;
	return NULL;
}

static void test_receiver(void)
{
	printf("-- a receiver\n");
	int in[2];
	pid_t pid = receiver(in, 0);
	int fd = pidfd_open(pid, 0);

	EXPECT_VAL("kill's siginfo", send_signal(fd, SIGUSR1, NULL, 0), 0);
	expect_report(in[0], SIGUSR1, SI_USER, 0);
	EXPECT_VAL("thread scope", send_signal(fd, SIGUSR2, NULL, SIGNAL_THREAD), 0);
	expect_report(in[0], SIGUSR2, SI_USER, 0);
	siginfo_t info = queued(SIGUSR1, SI_QUEUE, 42);
	EXPECT_VAL("SI_QUEUE", send_signal(fd, SIGUSR1, &info, 0), 0);
	expect_report(in[0], SIGUSR1, SI_QUEUE, 42);
	info = queued(SIGUSR1, SI_USER, 0);
	EXPECT_ERR("forged SI_USER", send_signal(fd, SIGUSR1, &info, 0), EPERM);
	info = queued(SIGUSR1, SI_TKILL, 0);
	EXPECT_ERR("forged SI_TKILL", send_signal(fd, SIGUSR1, &info, 0), EPERM);
	info = queued(SIGUSR1, SI_KERNEL, 0);
	EXPECT_ERR("forged SI_KERNEL", send_signal(fd, SIGUSR1, &info, 0), EPERM);
	EXPECT_ERR("not a process group", send_signal(fd, 0, NULL, SIGNAL_PROCESS_GROUP), ESRCH);

	/* Forging for its own process is the leader's privilege only. */
	self_fd = pidfd_open(getpid(), 0);
	pthread_t t;
	pthread_create(&t, NULL, forge_from_thread, NULL);
	pthread_join(t, NULL);
	CHECK(thread_forge_result == -1 && thread_forge_errno == EPERM);
	close(self_fd);

	EXPECT_VAL("SIGTERM", send_signal(fd, SIGTERM, NULL, 0), 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK(poll(&p, 1, -1) == 1);
	/* A zombie still takes signals, to no effect. */
	EXPECT_VAL("zombie, signal 0", send_signal(fd, 0, NULL, 0), 0);
	EXPECT_VAL("zombie, SIGKILL", send_signal(fd, SIGKILL, NULL, 0), 0);
	siginfo_t si = {0};
	EXPECT_VAL("waitid", syscall(SYS_waitid, P_PIDFD, fd, &si, WEXITED, NULL), 0);
	CHECK(si.si_pid == pid && si.si_code == CLD_KILLED && si.si_status == SIGTERM);
	EXPECT_ERR("reaped", send_signal(fd, 0, NULL, 0), ESRCH);
	EXPECT_ERR("reaped, bad signal", send_signal(fd, 65, NULL, 0), ESRCH);
	close(fd);
	close(in[0]);
}

static void test_process_group(void)
{
	printf("-- process group scope\n");
	int in[2];
	pid_t pid = receiver(in, 1);
	int fd = pidfd_open(pid, 0);
	EXPECT_VAL("group, signal 0", send_signal(fd, 0, NULL, SIGNAL_PROCESS_GROUP), 0);
	siginfo_t info = queued(SIGUSR2, SI_USER, 0);
	EXPECT_ERR("group, forged SI_USER", send_signal(fd, SIGUSR2, &info, SIGNAL_PROCESS_GROUP),
		   EPERM);
	info = queued(SIGUSR2, SI_QUEUE, 9);
	EXPECT_VAL("group, SI_QUEUE", send_signal(fd, SIGUSR2, &info, SIGNAL_PROCESS_GROUP), 0);
	expect_report(in[0], SIGUSR2, SI_QUEUE, 9);
	EXPECT_VAL("group, SIGUSR1", send_signal(fd, SIGUSR1, NULL, SIGNAL_PROCESS_GROUP), 0);
	expect_report(in[0], SIGUSR1, SI_USER, 0);
	EXPECT_VAL("group, SIGKILL", send_signal(fd, SIGKILL, NULL, SIGNAL_PROCESS_GROUP), 0);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(fd);
	close(in[0]);
}

static volatile pid_t waiter_tid;
static volatile int waiter_code = -100;

static void *sigwait_thread(void *arg)
{
	(void)arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	waiter_tid = gettid();
	siginfo_t si;
	if (sigwaitinfo(&set, &si) == SIGUSR2)
		waiter_code = si.si_code;
	return NULL;
}

static void test_thread_pidfd(void)
{
	printf("-- thread pidfd\n");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pthread_t t;
	pthread_create(&t, NULL, sigwait_thread, NULL);
	while (!waiter_tid)
		usleep(1000);
	int fd = pidfd_open(waiter_tid, PIDFD_THREAD);
	EXPECT_VAL("thread, signal 0", send_signal(fd, 0, NULL, 0), 0);
	EXPECT_VAL("thread, SIGUSR2", send_signal(fd, SIGUSR2, NULL, 0), 0);
	pthread_join(t, NULL);
	CHECK(waiter_code == SI_USER);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK(poll(&p, 1, -1) == 1);
	for (int i = 0; i < 2000 && send_signal(fd, 0, NULL, 0) == 0; i++)
		usleep(1000);
	EXPECT_ERR("thread ended", send_signal(fd, 0, NULL, 0), ESRCH);
	close(fd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void test_permission(void)
{
	printf("-- permission\n");
	int parent = pidfd_open(getpid(), 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
			_exit(2);
		errno = 0;
		long r = send_signal(parent, 0, NULL, 0);
		_exit(r == -1 && errno == EPERM ? 0 : 1);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(parent);
}

int main(void)
{
	conformance_init();
	test_arguments();
	test_receiver();
	test_process_group();
	test_thread_pidfd();
	test_permission();
	return conformance_done();
}
