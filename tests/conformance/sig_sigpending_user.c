/*
 * RLIMIT_SIGPENDING counts the signals queued for one real user, across
 * all its processes (Linux's per-user sigpending count): once a process
 * has filled it, a forked child of the same user cannot sigqueue either
 * (EAGAIN), kill still succeeds without the siginfo (si_pid 0), standard
 * signals still queue, and taking a signal frees a slot for everyone, as
 * do the end of a thread with signals pending and the reaping (not the
 * exit) of a process with some. A POSIX timer holds a place for its
 * signal while it lives.
 * Runs as a user of its own when it can (as root), so that no other
 * process's signals count.
 */
#include "conformance.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define LIMIT 16

static int queue_to(pid_t pid, int sig)
{
	union sigval v = {.sival_int = 1};
	return sigqueue(pid, sig, v);
}

/* Queues SIGRTMIN to `pid` until refused; the number accepted (-1 for an
 * error other than EAGAIN). */
static int fill(pid_t pid)
{
	for (int i = 0; i < 4 * LIMIT; i++) {
		if (queue_to(pid, SIGRTMIN) != 0)
			return errno == EAGAIN ? i : -1;
	}
	return 4 * LIMIT;
}

/* Runs `body` in a child of the same user; its exit status. */
static int in_child(int (*body)(pid_t parent))
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		_exit(body(parent));
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* 0 if the child's own sigqueue is refused with EAGAIN. */
static int child_refused(pid_t parent)
{
	(void)parent;
	return queue_to(getpid(), SIGRTMIN) == -1 && errno == EAGAIN ? 0 : 1;
}

/* 0 if the child's sigqueue to its parent is refused with EAGAIN. */
static int child_refused_to_parent(pid_t parent)
{
	return queue_to(parent, SIGRTMIN + 2) == -1 && errno == EAGAIN ? 0 : 1;
}

/* 0 if the child can queue one signal (and take it back). */
static int child_queues(pid_t parent)
{
	(void)parent;
	if (queue_to(getpid(), SIGRTMIN) != 0)
		return 1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	siginfo_t si;
	return sigwaitinfo(&set, &si) == SIGRTMIN ? 0 : 2;
}

static int thread_filled;

/* Fills the queue of the calling thread (rt_tgsigqueueinfo). */
static void *thread_fills(void *arg)
{
	(void)arg;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGRTMIN;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	while (thread_filled < 4 * LIMIT &&
	       syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGRTMIN, &si) == 0)
		thread_filled++;
	return NULL;
}

static int take_all(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	struct timespec zero = {0, 0};
	siginfo_t si;
	int n = 0;
	while (sigtimedwait(&set, &si, &zero) == sig)
		n++;
	return n;
}

static void test(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_SIGPENDING, &rl);
	rl.rlim_cur = LIMIT;
	EXPECT_OK("setrlimit(RLIMIT_SIGPENDING)", setrlimit(RLIMIT_SIGPENDING, &rl));
	sigset_t rt;
	sigemptyset(&rt);
	for (int s = SIGRTMIN; s <= SIGRTMIN + 2; s++)
		sigaddset(&rt, s);
	sigaddset(&rt, SIGUSR1);
	sigprocmask(SIG_BLOCK, &rt, NULL);

	EXPECT_VAL("sigqueue accepted up to the limit", fill(getpid()), LIMIT);
	EXPECT_VAL("a child of the same user is refused", in_child(child_refused), 0);
	EXPECT_VAL("so is its sigqueue to the parent", in_child(child_refused_to_parent), 0);

	/* kill is not refused; past the limit its siginfo is lost. */
	EXPECT_VAL("kill past the limit", kill(getpid(), SIGRTMIN + 1), 0);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN + 1);
	siginfo_t si;
	memset(&si, 0xff, sizeof si);
	EXPECT_VAL("its signal is pending", sigwaitinfo(&one, &si), SIGRTMIN + 1);
	CHECK(si.si_code == SI_USER && si.si_pid == 0);
	/* A standard signal still queues, with its siginfo. */
	EXPECT_VAL("kill SIGUSR1 past the limit", kill(getpid(), SIGUSR1), 0);
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	EXPECT_VAL("SIGUSR1 pending", sigwaitinfo(&one, &si), SIGUSR1);
	CHECK(si.si_code == SI_USER && si.si_pid == getpid());

	/* Taking one signal frees a slot for the child. */
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN);
	EXPECT_VAL("take one", sigwaitinfo(&one, &si), SIGRTMIN);
	CHECK(si.si_code == SI_QUEUE && si.si_value.sival_int == 1);
	EXPECT_VAL("now a child can queue", in_child(child_queues), 0);
	EXPECT_VAL("the rest were all queued", take_all(SIGRTMIN), LIMIT - 1);
	EXPECT_VAL("a full queue again", fill(getpid()), LIMIT);
	EXPECT_VAL("taken", take_all(SIGRTMIN), LIMIT);

	/* A process that exits with signals pending gives their slots back,
	 * zombie as it is. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(fill(getpid()) == LIMIT ? 0 : 1);
	siginfo_t info;
	EXPECT_VAL("waitid WNOWAIT", waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
	CHECK(info.si_code == CLD_EXITED && info.si_status == 0);
	EXPECT_VAL("a zombie's signals still count", fill(getpid()), 0);
	waitpid(pid, NULL, 0);
	EXPECT_VAL("a reaped one's do not", fill(getpid()), LIMIT);
	EXPECT_VAL("taken again", take_all(SIGRTMIN), LIMIT);

	/* Nor do a thread's that ended. */
	pthread_t thread;
	pthread_create(&thread, NULL, thread_fills, NULL);
	pthread_join(thread, NULL);
	EXPECT_VAL("the thread queued", thread_filled, LIMIT);
	EXPECT_VAL("an ended thread's signals count no more", fill(getpid()), LIMIT);
	EXPECT_VAL("taken at last", take_all(SIGRTMIN), LIMIT);

	/* Each POSIX timer holds a place for its signal while it lives. */
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 2;
	timer_t timers[LIMIT];
	int made = 0;
	for (int i = 0; i < LIMIT; i++)
		made += timer_create(CLOCK_MONOTONIC, &ev, &timers[i]) == 0;
	EXPECT_VAL("timers made up to the limit", made, LIMIT);
	timer_t extra;
	EXPECT_ERR("one timer more", timer_create(CLOCK_MONOTONIC, &ev, &extra), EAGAIN);
	EXPECT_ERR("no room for sigqueue", queue_to(getpid(), SIGRTMIN), EAGAIN);
	/* The timer's signal still comes, in the place its timer holds. */
	struct itimerspec its = {{0, 0}, {0, 10000000}};
	EXPECT_VAL("timer_settime", timer_settime(timers[0], 0, &its, NULL), 0);
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN + 2);
	EXPECT_VAL("the timer's signal", sigwaitinfo(&one, &si), SIGRTMIN + 2);
	CHECK(si.si_code == SI_TIMER);
	EXPECT_VAL("timer_delete", timer_delete(timers[0]), 0);
	EXPECT_VAL("a deleted timer's place is free", fill(getpid()), 1);
	EXPECT_VAL("taken", take_all(SIGRTMIN), 1);
	for (int i = 1; i < LIMIT; i++)
		timer_delete(timers[i]);
	EXPECT_VAL("all free again", fill(getpid()), LIMIT);
	EXPECT_VAL("taken", take_all(SIGRTMIN), LIMIT);
}

int main(void)
{
	conformance_init();
	pid_t pid = fork();
	if (pid == 0) {
		/* A uid no other process has, not even another run of this
		 * program (the runs of the suite overlap). */
		uid_t own = 100000 + getpid();
		if (getuid() == 0 && setresgid(own, own, own) == 0)
			if (setresuid(own, own, own) != 0)
				printf("setresuid failed\n");
		test();
		_exit(conformance_failures ? 1 : 0);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return conformance_done();
}
