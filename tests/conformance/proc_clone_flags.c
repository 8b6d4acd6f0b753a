/* clone and clone3 argument checks: the EINVAL/E2BIG/EFAULT matrix of
 * Linux's copy_process and clone3_args_valid. */
#include "conformance.h"
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

static long raw_clone(unsigned long flags)
{
	return syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
}

static long clone3_with(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

/* Forks through `call`; the child exits 0 at once. Returns whether a child
 * was made and reaped with status 0. */
static int reaped(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return 0;
	int status;
	return waitpid(pid, &status, __WALL) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
	conformance_init();

	EXPECT_ERR("THREAD without SIGHAND", raw_clone(CLONE_THREAD | CLONE_VM), EINVAL);
	EXPECT_ERR("SIGHAND without VM", raw_clone(CLONE_SIGHAND), EINVAL);
	EXPECT_ERR("THREAD|SIGHAND without VM", raw_clone(CLONE_THREAD | CLONE_SIGHAND), EINVAL);
	EXPECT_ERR("NEWNS|FS", raw_clone(CLONE_NEWNS | CLONE_FS | SIGCHLD), EINVAL);
	EXPECT_ERR("NEWUSER|FS", raw_clone(CLONE_NEWUSER | CLONE_FS | SIGCHLD), EINVAL);
	EXPECT_ERR("NEWPID|THREAD", raw_clone(CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM),
		   EINVAL);
	EXPECT_ERR("NEWUSER|THREAD",
		   raw_clone(CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM), EINVAL);
	EXPECT_ERR("PIDFD|DETACHED", raw_clone(CLONE_PIDFD | CLONE_DETACHED | SIGCHLD), EINVAL);
	/* The legacy call ignores bits above 32 and CLONE_DETACHED. */
	CHECK(reaped(raw_clone((1UL << 40) | SIGCHLD)));
	CHECK(reaped(raw_clone(CLONE_DETACHED | SIGCHLD)));
	/* A clone child with no exit signal is reaped with __WALL; one with
	 * an exit signal that is no signal too (it is never sent). */
	CHECK(reaped(raw_clone(0)));
	CHECK(reaped(raw_clone(65)));
	CHECK(reaped(raw_clone(255)));

	struct clone_args args;
	memset(&args, 0, sizeof args);
	args.exit_signal = SIGCHLD;
	EXPECT_ERR("clone3 size 0", clone3_with(&args, 0), EINVAL);
	EXPECT_ERR("clone3 size 63", clone3_with(&args, 63), EINVAL);
	EXPECT_ERR("clone3 bad pointer", clone3_with(BAD_PTR, sizeof args), EFAULT);
	static char big[8192];
	memcpy(big, &args, sizeof args);
	EXPECT_ERR("clone3 size > page", clone3_with((struct clone_args *)big, 4097), E2BIG);
	big[sizeof args + 8] = 1;
	EXPECT_ERR("clone3 nonzero tail", clone3_with((struct clone_args *)big, sizeof args + 16),
		   E2BIG);
	big[sizeof args + 8] = 0;
	CHECK(reaped(clone3_with((struct clone_args *)big, sizeof args + 16)));
	CHECK(reaped(clone3_with(&args, 64)));
	CHECK(reaped(clone3_with(&args, sizeof args)));

	struct clone_args bad = args;
	bad.exit_signal = 65;
	EXPECT_ERR("clone3 exit_signal 65", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.exit_signal = 1UL << 32 | SIGCHLD;
	EXPECT_ERR("clone3 exit_signal high bits", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.flags = SIGCHLD;
	EXPECT_ERR("clone3 CSIGNAL in flags", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.flags = CLONE_DETACHED;
	EXPECT_ERR("clone3 DETACHED", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.flags = 1ULL << 40;
	EXPECT_ERR("clone3 unknown flag", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	EXPECT_ERR("clone3 THREAD with exit_signal", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.flags = CLONE_PARENT;
	EXPECT_ERR("clone3 PARENT with exit_signal", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.flags = CLONE_SIGHAND | CLONE_VM | CLONE_CLEAR_SIGHAND;
	EXPECT_ERR("clone3 SIGHAND|CLEAR_SIGHAND", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.stack = 0;
	bad.stack_size = 4096;
	EXPECT_ERR("clone3 stack_size without stack", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.stack = (uint64_t)(uintptr_t)big;
	bad.stack_size = 0;
	EXPECT_ERR("clone3 stack without stack_size", clone3_with(&bad, sizeof bad), EINVAL);
	bad = args;
	bad.set_tid_size = 1;
	EXPECT_ERR("clone3 set_tid_size without set_tid", clone3_with(&bad, sizeof bad), EINVAL);

	/* CLONE_CLEAR_SIGHAND: caught signals go back to SIG_DFL in the child,
	 * ignored ones stay ignored. */
	signal(SIGUSR1, (void (*)(int))reaped);
	signal(SIGUSR2, SIG_IGN);
	struct clone_args clear = args;
	clear.flags = CLONE_CLEAR_SIGHAND;
	long pid = clone3_with(&clear, sizeof clear);
	if (pid == 0) {
		struct sigaction a1, a2;
		sigaction(SIGUSR1, NULL, &a1);
		sigaction(SIGUSR2, NULL, &a2);
		_exit((a1.sa_handler == SIG_DFL ? 0 : 1) | (a2.sa_handler == SIG_IGN ? 0 : 2));
	}
	int status;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	EXPECT_VAL("clear_sighand child", WEXITSTATUS(status), 0);

	/* exit_signal: the parent gets the named signal. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGUSR2, SIG_DFL);
	struct clone_args sig = args;
	sig.exit_signal = SIGUSR2;
	pid = clone3_with(&sig, sizeof sig);
	if (pid == 0)
		_exit(0);
	int got = 0;
	CHECK(sigwait(&set, &got) == 0);
	EXPECT_VAL("exit signal", got, SIGUSR2);
	EXPECT_ERR("not a SIGCHLD child without __WALL", waitpid(pid, &status, 0), ECHILD);
	CHECK(waitpid(pid, &status, __WCLONE) == pid);
	return conformance_done();
}
