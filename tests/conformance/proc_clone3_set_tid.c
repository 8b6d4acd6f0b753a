/* clone3's set_tid: a child (or thread) with the pid asked for (and a
 * pidfd of an earlier process with that pid does not name it), EEXIST for
 * a pid in use, EINVAL for bad sizes and out-of-range pids, EFAULT, and
 * EPERM without CAP_SYS_ADMIN; namespace clone flags are EPERM without
 * CAP_SYS_ADMIN. */
#include "conformance.h"
#include "clone3_thread.h"
#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

static long clone3_set_tid(pid_t *set_tid, size_t size, unsigned long flags)
{
	struct clone_args args = {0};
	args.flags = flags;
	args.exit_signal = SIGCHLD;
	args.set_tid = (uintptr_t)set_tid;
	args.set_tid_size = size;
	return syscall(SYS_clone3, &args, sizeof args);
}

/* A pid that was free a moment ago: a child's, reaped. */
static pid_t free_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* Reaps a clone3 child that exits 0 when it got the pid it asked for. */
static int child_got(long pid, pid_t want)
{
	if (pid == 0)
		_exit(getpid() == want ? 0 : 1);
	if (pid != want)
		return 0;
	int status;
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static char thread_stack[65536] __attribute__((aligned(16)));
static volatile int thread_tid_word;

int main(void)
{
	conformance_init();

	pid_t want = free_pid();
	CHECK(child_got(clone3_set_tid(&want, 1, 0), want));
	/* Again, now that it is free once more. */
	CHECK(child_got(clone3_set_tid(&want, 1, 0), want));

	pid_t self = getpid();
	EXPECT_ERR("own pid", clone3_set_tid(&self, 1, 0), EEXIST);
	pid_t init = 1;
	EXPECT_ERR("pid 1", clone3_set_tid(&init, 1, 0), EEXIST);
	pid_t bad = 0;
	EXPECT_ERR("pid 0", clone3_set_tid(&bad, 1, 0), EINVAL);
	bad = -5;
	EXPECT_ERR("pid -5", clone3_set_tid(&bad, 1, 0), EINVAL);
	bad = 4194304;
	EXPECT_ERR("pid 4194304", clone3_set_tid(&bad, 1, 0), EINVAL);
	pid_t two[2] = {want, want};
	EXPECT_ERR("two levels", clone3_set_tid(two, 2, 0), EINVAL);
	EXPECT_ERR("33 levels", clone3_set_tid(two, 33, 0), EINVAL);
	EXPECT_ERR("bad pointer", clone3_set_tid(BAD_PTR, 1, 0), EFAULT);
	EXPECT_ERR("size without pointer", clone3_set_tid(NULL, 1, 0), EINVAL);

	/* A pidfd names its process, not its pid: a newer child given the
	 * same pid is not what it names. */
	int gate[2];
	CHECK(pipe(gate) == 0);
	pid_t first = fork();
	if (first == 0)
		_exit(0);
	int pidfd = syscall(SYS_pidfd_open, first, 0);
	CHECK(pidfd >= 0 && waitpid(first, NULL, 0) == first);
	pid_t again = first;
	long second = clone3_set_tid(&again, 1, 0);
	if (second == 0) {
		char c;
		close(gate[1]);
		read(gate[0], &c, 1);
		_exit(0);
	}
	CHECK(second == first);
	EXPECT_ERR("old pidfd, signal", syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0), ESRCH);
	siginfo_t si;
	EXPECT_ERR("old pidfd, waitid",
		   syscall(SYS_waitid, 3 /* P_PIDFD */, pidfd, &si, WEXITED | WNOHANG, NULL),
		   ECHILD);
	EXPECT_ERR("old pidfd, getfd", syscall(SYS_pidfd_getfd, pidfd, 0, 0), ESRCH);
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	CHECK(poll(&p, 1, 0) == 1 && p.revents == (POLLIN | POLLHUP));
	close(gate[1]);
	CHECK(waitpid(second, NULL, 0) == second);
	close(gate[0]);
	close(pidfd);

	/* A thread gets the tid asked for too. */
	want = free_pid();
	struct clone_args targs = {0};
	targs.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_CHILD_CLEARTID;
	targs.child_tid = (uintptr_t)&thread_tid_word;
	targs.stack = (uintptr_t)thread_stack;
	targs.stack_size = sizeof thread_stack;
	targs.set_tid = (uintptr_t)&want;
	targs.set_tid_size = 1;
	thread_tid_word = 1;
	long tid = clone3_exit_child(&targs);
	CHECK(tid == want);
	while (tid > 0 && thread_tid_word != 0)
		syscall(SYS_futex, &thread_tid_word, FUTEX_WAIT, 1, NULL, NULL, 0);

	/* Without CAP_SYS_ADMIN. */
	want = free_pid();
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
			_exit(99);
		EXPECT_ERR("nobody, set_tid", clone3_set_tid(&want, 1, 0), EPERM);
		bad = 0;
		EXPECT_ERR("nobody, pid 0", clone3_set_tid(&bad, 1, 0), EINVAL);
		static const struct {
			const char *name;
			unsigned long flag;
		} ns[] = {
			{"CLONE_NEWNS", CLONE_NEWNS},	    {"CLONE_NEWUTS", CLONE_NEWUTS},
			{"CLONE_NEWIPC", CLONE_NEWIPC},	    {"CLONE_NEWNET", CLONE_NEWNET},
			{"CLONE_NEWPID", CLONE_NEWPID},	    {"CLONE_NEWCGROUP", CLONE_NEWCGROUP},
		};
		for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
			long r = syscall(SYS_clone, ns[i].flag | SIGCHLD, NULL, NULL, NULL, 0);
			if (r == 0)
				_exit(0);
			printf("nobody, clone %s: %s\n", ns[i].name, r < 0 ? errno_name(errno) : "made");
			if (r > 0)
				waitpid(r, NULL, 0);
		}
		struct clone_args args = {0};
		args.flags = CLONE_NEWUTS;
		args.exit_signal = SIGCHLD;
		EXPECT_ERR("nobody, clone3 CLONE_NEWUTS", syscall(SYS_clone3, &args, sizeof args), EPERM);
		exit(conformance_done());
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return conformance_done();
}
