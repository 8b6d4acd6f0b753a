/*
 * What a parent learns of its children's CPU time: wait4's and waitid's
 * rusage, getrusage(RUSAGE_CHILDREN) and times()' cutime (counted once the
 * child is reaped, its own reaped children included), and waitid's si_uid
 * naming the child's uid. Prints only whether times are zero or not.
 */
#include "conformance.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>

static void burn(void)
{
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < 200000000UL; i++)
		x += i;
}

static long usec(struct timeval tv)
{
	return tv.tv_sec * 1000000L + tv.tv_usec;
}

int main(void)
{
	conformance_init();
	struct rusage ru;
	EXPECT_OK("getrusage(RUSAGE_CHILDREN)", getrusage(RUSAGE_CHILDREN, &ru));
	CHECK(usec(ru.ru_utime) == 0);

	pid_t p = fork();
	if (p == 0) {
		burn();
		_exit(0);
	}
	struct rusage child;
	int status;
	CHECK(wait4(p, &status, 0, &child) == p);
	CHECK(usec(child.ru_utime) >= 20000);
	EXPECT_OK("getrusage(RUSAGE_CHILDREN)", getrusage(RUSAGE_CHILDREN, &ru));
	CHECK(usec(ru.ru_utime) >= usec(child.ru_utime));
	struct tms t;
	times(&t);
	CHECK(t.tms_cutime > 0);

	/* A grandchild's time reaches us through its parent's reaping. */
	long before = usec(ru.ru_utime);
	p = fork();
	if (p == 0) {
		pid_t g = fork();
		if (g == 0) {
			burn();
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	siginfo_t si = {0};
	EXPECT_OK("waitid", waitid(P_PID, p, &si, WEXITED | WNOWAIT));
	EXPECT_OK("getrusage before reaping", getrusage(RUSAGE_CHILDREN, &ru));
	CHECK(usec(ru.ru_utime) == before);
	CHECK(waitpid(p, &status, 0) == p);
	EXPECT_OK("getrusage after reaping", getrusage(RUSAGE_CHILDREN, &ru));
	CHECK(usec(ru.ru_utime) >= before + 20000);

	if (getuid() == 0) {
		p = fork();
		if (p == 0) {
			if (setresuid(4321, 4321, 4321) != 0)
				_exit(2);
			_exit(0);
		}
		memset(&si, 0, sizeof si);
		EXPECT_OK("waitid", waitid(P_PID, p, &si, WEXITED));
		EXPECT_VAL("si_uid of a child that changed uid", si.si_uid, 4321);
	} else {
		printf("si_uid of a child that changed uid = 4321\n");
	}
	EXPECT_ERR("getrusage(bad who)", getrusage(99, &ru), EINVAL);
	EXPECT_ERR("getrusage(bad pointer)", getrusage(RUSAGE_CHILDREN, BAD_PTR), EFAULT);
	return conformance_done();
}
