/* sigtimedwait/sigwaitinfo on blocked signals, its timeout (EAGAIN) and
 * errors, sigqueue to self, and rt_sigqueueinfo's permission check. */
#define _GNU_SOURCE
#include "conformance.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

int main(void)
{
	conformance_init();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);

	raise(SIGUSR2);
	siginfo_t info;
	memset(&info, 0, sizeof info);
	EXPECT_VAL("sigwaitinfo takes the pending one", sigwaitinfo(&set, &info), SIGUSR2);
	CHECK(info.si_signo == SIGUSR2);

	struct timespec tmo = {.tv_nsec = 20000000};
	EXPECT_ERR("sigtimedwait times out", sigtimedwait(&set, &info, &tmo), EAGAIN);
	struct timespec bad = {.tv_nsec = 2000000000};
	EXPECT_ERR("sigtimedwait bad timeout", sigtimedwait(&set, &info, &bad), EINVAL);
	EXPECT_ERR("rt_sigtimedwait bad size", syscall(SYS_rt_sigtimedwait, &set, NULL, NULL, 4), EINVAL);

	/* A signal sent by a child while we wait. */
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0) {
		usleep(20000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	struct timespec long_tmo = {.tv_sec = 5};
	EXPECT_VAL("sigtimedwait gets the child's signal", sigtimedwait(&set, &info, &long_tmo), SIGUSR1);
	waitpid(child, NULL, 0);

	union sigval value = {.sival_int = 42};
	EXPECT_VAL("sigqueue to self", sigqueue(getpid(), SIGUSR1, value), 0);
	EXPECT_VAL("and it is pending", sigwaitinfo(&set, &info), SIGUSR1);

	siginfo_t forged;
	memset(&forged, 0, sizeof forged);
	forged.si_signo = SIGUSR1;
	forged.si_code = SI_KERNEL;
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	EXPECT_ERR("forged kernel siginfo to another process",
		   syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &forged), EPERM);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	EXPECT_ERR("rt_sigqueueinfo bad pointer", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, BAD_PTR), EFAULT);
	return conformance_done();
}
