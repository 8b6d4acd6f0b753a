/*
 * Restart of sleeps with a timeout (Linux's restart blocks): a sleeper
 * stopped by SIGSTOP and continued, or hit by an ignored signal, goes on
 * with the time it had left, not with its whole timeout again (nanosleep,
 * clock_nanosleep relative and absolute, poll, futex waits, select, ppoll).
 * A handler makes each of them fail with EINTR, with SA_RESTART too;
 * nanosleep writes the time left to rem, select and ppoll to their
 * timeout (also when they succeed).
 * restart_syscall(2) with nothing to restart fails with EINTR. Times are
 * checked with wide margins only.
 */
#include "conformance.h"

#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL
/* What each sleeper asks for; the stop comes STOP_AT into it, for STOPPED. */
#define REQUEST (2000 * MS)
#define STOP_AT (1000 * MS)
#define STOPPED (200 * MS)
/* Past this, the sleep started over after the stop (select and ppoll, which
 * write back the time left when the stop comes, end STOPPED after the
 * others: their stopped time does not count). */
#define TOO_LONG (3000 * MS)

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timespec ts_of(long long ns)
{
	return (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
}

static void sleep_ns(long long ns)
{
	struct timespec t = ts_of(ns);
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static int futex_word;

enum kind {
	NANOSLEEP,
	CLOCK_NANOSLEEP_REL,
	CLOCK_NANOSLEEP_ABS,
	POLL,
	FUTEX_WAIT_REL,
	FUTEX_WAIT_ABS,
	SELECT,
	PPOLL,
	NKINDS
};
static const char *kind_names[] = {
	"nanosleep", "clock_nanosleep", "clock_nanosleep abs", "poll",
	"futex wait",	"futex wait_bitset", "select",		   "ppoll",
};

/* Makes the call of `kind` for REQUEST; 0 if it returned what a timeout
 * returns. */
static int sleep_once(enum kind kind)
{
	struct timespec req = ts_of(REQUEST);
	long r;
	switch (kind) {
	case NANOSLEEP: {
		struct timespec rem;
		return syscall(SYS_nanosleep, &req, &rem) == 0 ? 0 : -1;
	}
	case CLOCK_NANOSLEEP_REL:
		return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL) == 0 ? 0 : -1;
	case CLOCK_NANOSLEEP_ABS: {
		struct timespec at = ts_of(now_ns() + REQUEST);
		return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) ==
				       0
			       ? 0
			       : -1;
	}
	case POLL:
		return syscall(SYS_poll, NULL, 0, (int)(REQUEST / MS)) == 0 ? 0 : -1;
	case FUTEX_WAIT_REL:
		r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &req, NULL, 0);
		return r == -1 && errno == ETIMEDOUT ? 0 : -1;
	case FUTEX_WAIT_ABS: {
		struct timespec at = ts_of(now_ns() + REQUEST);
		r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_BITSET_PRIVATE, 0, &at, NULL,
			    FUTEX_BITSET_MATCH_ANY);
		return r == -1 && errno == ETIMEDOUT ? 0 : -1;
	}
	case SELECT: {
		struct timeval tv = {REQUEST / 1000000000LL, (REQUEST % 1000000000LL) / 1000};
		r = syscall(SYS_select, 0, NULL, NULL, NULL, &tv);
		return r == 0 && tv.tv_sec == 0 && tv.tv_usec == 0 ? 0 : -1;
	}
	case PPOLL:
		r = syscall(SYS_ppoll, NULL, 0, &req, NULL, 8);
		return r == 0 && req.tv_sec == 0 && req.tv_nsec == 0 ? 0 : -1;
	default:
		return -1;
	}
}

/* A child that tells `ready` it is about to sleep, sleeps, and exits 0 if
 * the sleep returned as a timeout does, in about its time: 1 for a wrong
 * result, 2 for too short, 3 for too long. */
static pid_t sleeper(enum kind kind, int ready)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	signal(SIGWINCH, SIG_IGN);
	long long start = now_ns();
	if (write(ready, "x", 1) != 1)
		_exit(4);
	int r = sleep_once(kind);
	long long took = now_ns() - start;
	_exit(r != 0 ? 1 : took < REQUEST ? 2 : took > TOO_LONG ? 3 : 0);
}

/* Runs one sleeper per kind at once and does `disturb` to them in the
 * middle of their sleeps; prints each one's outcome. */
static void run_sleepers(const char *what, void (*disturb)(pid_t *pids))
{
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return;
	pid_t pids[NKINDS];
	for (int k = 0; k < NKINDS; k++)
		pids[k] = sleeper(k, pipefd[1]);
	char buf[NKINDS];
	int got = 0;
	while (got < NKINDS) {
		ssize_t n = read(pipefd[0], buf, sizeof buf - got);
		if (n <= 0)
			break;
		got += n;
	}
	sleep_ns(STOP_AT);
	disturb(pids);
	for (int k = 0; k < NKINDS; k++) {
		int status;
		waitpid(pids[k], &status, 0);
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
		static const char *outcome[] = {"ok", "wrong result", "too short", "too long"};
		char label[128];
		snprintf(label, sizeof label, "%s across %s", kind_names[k], what);
		if (code == 0) {
			printf("%s: ok\n", label);
		} else {
			printf("%s: FAIL: %s (%d)\n", label, code < 4 ? outcome[code] : "died",
			       code);
			conformance_failures++;
		}
	}
	close(pipefd[0]);
	close(pipefd[1]);
}

static void stop_and_continue(pid_t *pids)
{
	for (int k = 0; k < NKINDS; k++)
		kill(pids[k], SIGSTOP);
	for (int k = 0; k < NKINDS; k++) {
		int status;
		waitpid(pids[k], &status, WUNTRACED);
	}
	sleep_ns(STOPPED);
	for (int k = 0; k < NKINDS; k++)
		kill(pids[k], SIGCONT);
}

static void ignored_signal(pid_t *pids)
{
	for (int k = 0; k < NKINDS; k++)
		kill(pids[k], SIGWINCH);
}

static volatile int alarms;
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Arms ITIMER_REAL to fire once after `ms`. */
static void alarm_in(int ms)
{
	struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* With a handler (installed with `flags`), every timed sleep fails with EINTR. */
static void interrupted_by_handler(int flags, const char *what)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	sigaction(SIGALRM, &sa, NULL);
	char label[128];
	for (int k = 0; k < NKINDS; k++) {
		alarms = 0;
		alarm_in(100);
		long long start = now_ns();
		int r = sleep_once(k);
		int e = errno;
		long long took = now_ns() - start;
		snprintf(label, sizeof label, "%s, handler %s: EINTR", kind_names[k], what);
		check_(r != 0 && e == EINTR && alarms == 1, label, __FILE__, __LINE__);
		snprintf(label, sizeof label, "%s, handler %s: cut short", kind_names[k], what);
		check_(took < REQUEST, label, __FILE__, __LINE__);
	}
}

int main(void)
{
	conformance_init();

	run_sleepers("SIGSTOP/SIGCONT", stop_and_continue);
	run_sleepers("an ignored signal", ignored_signal);

	interrupted_by_handler(0, "without SA_RESTART");
	interrupted_by_handler(SA_RESTART, "with SA_RESTART");

	/* nanosleep and a relative clock_nanosleep write the time left. */
	struct timespec req = ts_of(REQUEST), rem = {-1, -1};
	alarm_in(100);
	EXPECT_ERR("nanosleep interrupted", syscall(SYS_nanosleep, &req, &rem), EINTR);
	CHECK(rem.tv_sec >= 0 && rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000);
	long long left = rem.tv_sec * 1000000000LL + rem.tv_nsec;
	CHECK(left > 0 && left < REQUEST - 50 * MS);
	rem = (struct timespec){-1, -1};
	alarm_in(100);
	EXPECT_ERR("clock_nanosleep interrupted",
		   syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &req, &rem), EINTR);
	left = rem.tv_sec * 1000000000LL + rem.tv_nsec;
	CHECK(left > 0 && left < REQUEST - 50 * MS);
	/* An absolute sleep leaves rem alone. */
	struct timespec at = ts_of(now_ns() + REQUEST);
	rem = (struct timespec){-1, -1};
	alarm_in(100);
	EXPECT_ERR("clock_nanosleep abs interrupted",
		   syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &at, &rem), EINTR);
	CHECK(rem.tv_sec == -1 && rem.tv_nsec == -1);

	/* select and ppoll write back the time left, on EINTR and on success. */
	struct timeval tv = {1, 900000};
	alarm_in(100);
	EXPECT_ERR("select interrupted", syscall(SYS_select, 0, NULL, NULL, NULL, &tv), EINTR);
	long long left_us = tv.tv_sec * 1000000LL + tv.tv_usec;
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000 && left_us > 0 && left_us < 1850000);
	struct timespec pts = ts_of(REQUEST);
	alarm_in(100);
	EXPECT_ERR("ppoll interrupted", syscall(SYS_ppoll, NULL, 0, &pts, NULL, 8), EINTR);
	left = pts.tv_sec * 1000000000LL + pts.tv_nsec;
	CHECK(left > 0 && left < REQUEST - 50 * MS);
	int pipefd[2];
	if (pipe(pipefd) == 0) {
		if (write(pipefd[1], "x", 1) != 1)
			printf("write failed\n");
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(pipefd[0], &rd);
		tv = (struct timeval){5, 0};
		EXPECT_VAL("select on a ready pipe", syscall(SYS_select, pipefd[0] + 1, &rd, NULL,
							    NULL, &tv),
			   1);
		CHECK(tv.tv_sec >= 3 && tv.tv_sec <= 5);
		/* select carries microseconds past a second into the seconds. */
		tv = (struct timeval){0, 2500000};
		EXPECT_VAL("select, 2500000 us", syscall(SYS_select, pipefd[0] + 1, &rd, NULL,
							 NULL, &tv),
			   1);
		CHECK(tv.tv_sec >= 1 && tv.tv_sec <= 2 && tv.tv_usec < 1000000);
		tv = (struct timeval){1, -1};
		EXPECT_ERR("select, -1 us", syscall(SYS_select, pipefd[0] + 1, &rd, NULL, NULL, &tv),
			   EINVAL);
		struct pollfd pfd = {pipefd[0], POLLIN, 0};
		pts = ts_of(5000 * MS);
		EXPECT_VAL("ppoll on a ready pipe", syscall(SYS_ppoll, &pfd, 1, &pts, NULL, 8), 1);
		CHECK(pts.tv_sec >= 3 && pts.tv_sec <= 5);
		/* A zero timeout is not written back. */
		pts = (struct timespec){0, 0};
		EXPECT_VAL("ppoll zero timeout", syscall(SYS_ppoll, &pfd, 1, &pts, NULL, 8), 1);
		CHECK(pts.tv_sec == 0 && pts.tv_nsec == 0);
		close(pipefd[0]);
		close(pipefd[1]);
	}

	/* After a handler returned there is nothing to restart. */
	EXPECT_ERR("restart_syscall after a handler", syscall(SYS_restart_syscall), EINTR);
	raise(SIGALRM);
	EXPECT_ERR("restart_syscall after raise", syscall(SYS_restart_syscall), EINTR);

	return conformance_done();
}
