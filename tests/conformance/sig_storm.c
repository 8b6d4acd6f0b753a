/* A signal storm during blocking syscalls: children spray SIGUSR1,
 * SIGUSR2 and queued real-time signals at a process, and one of its own
 * threads queues real-time signals at its main thread, while that thread
 * is blocked in read() on a pipe, nanosleep, futex wait and wait4, with
 * SA_RESTART and without.
 * Every blocked call completes or fails with EINTR exactly where Linux
 * allows (with SA_RESTART only nanosleep may), and every real-time signal
 * a child queued is handled once. Only invariants are printed. */
#define _GNU_SOURCE
#include "conformance.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define SPRAYERS 3
#define ROUNDS 80

static _Atomic int rt_handled, rt_bad, std_handled, thread_rt_handled;
static pid_t main_tid;
static _Atomic int futex_word;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_QUEUE || si->si_value.sival_int != 7)
		rt_bad++;
	rt_handled++;
}

static void on_thread_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_QUEUE || si->si_value.sival_int != 8)
		rt_bad++;
	thread_rt_handled++;
}

static void on_std(int sig)
{
	(void)sig;
	std_handled++;
}

static void install(int restart)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_flags = SA_SIGINFO | (restart ? SA_RESTART : 0);
	sa.sa_sigaction = on_rt;
	sigaction(SIGRTMIN, &sa, NULL);
	sa.sa_sigaction = on_thread_rt;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sa.sa_handler = on_std;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
}

/* A sprayer exits with the number of real-time signals it queued. */
static pid_t sprayer(pid_t target)
{
	pid_t pid = fork();
	if (pid == 0) {
		int queued = 0;
		union sigval v = {.sival_int = 7};
		for (int i = 0; i < ROUNDS; i++) {
			kill(target, SIGUSR1);
			kill(target, SIGUSR2);
			if (sigqueue(target, SIGRTMIN, v) == 0)
				queued++;
			usleep(1000);
		}
		_exit(queued);
	}
	return pid;
}

/* A thread of the process: queues real-time signals at the main thread
 * (and standard ones with tgkill); returns how many were queued. */
static void *thread_sprayer(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGRTMIN + 1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 8;
	long queued = 0;
	for (int i = 0; i < ROUNDS; i++) {
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(), main_tid, SIGRTMIN + 1, &si) == 0)
			queued++;
		syscall(SYS_tgkill, getpid(), main_tid, SIGUSR2);
		usleep(1000);
	}
	return (void *)queued;
}

static void *futex_waker(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	usleep(30000);
	futex_word = 1;
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

static void phase(int restart)
{
	printf("-- %s\n", restart ? "SA_RESTART" : "no SA_RESTART");
	install(restart);
	rt_handled = rt_bad = thread_rt_handled = 0;
	futex_word = 0;
	pid_t me = getpid();
	int fds[2];
	pipe(fds);
	pid_t kids[SPRAYERS];
	for (int i = 0; i < SPRAYERS; i++)
		kids[i] = sprayer(me);
	pthread_t spray_thread;
	pthread_create(&spray_thread, NULL, thread_sprayer, NULL);
	pid_t writer = fork();
	if (writer == 0) {
		usleep(30000);
		write(fds[1], "x", 1);
		_exit(0);
	}

	/* read() on a pipe. */
	char c = 0;
	int eintr = 0, other = 0;
	ssize_t n;
	while ((n = read(fds[0], &c, 1)) == -1) {
		if (errno == EINTR)
			eintr++;
		else
			other++;
	}
	CHECK(n == 1 && c == 'x');
	CHECK(other == 0);
	if (restart)
		CHECK(eintr == 0);

	/* nanosleep: EINTR with the time left, even with SA_RESTART. */
	struct timespec req = {.tv_nsec = 30000000}, rem;
	int bad_rem = 0;
	other = 0;
	while (nanosleep(&req, &rem) == -1) {
		if (errno != EINTR) {
			other++;
			break;
		}
		/* Linux's rem may include the timer slack (50 us). */
		bad_rem |= rem.tv_sec != 0 || rem.tv_nsec > 31000000;
		req = rem;
	}
	CHECK(other == 0);
	CHECK(!bad_rem);

	/* futex wait. */
	pthread_t t;
	pthread_create(&t, NULL, futex_waker, NULL);
	eintr = other = 0;
	while (futex_word == 0) {
		if (syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) == -1) {
			if (errno == EINTR)
				eintr++;
			else if (errno != EAGAIN)
				other++;
		}
	}
	pthread_join(t, NULL);
	CHECK(other == 0);
	if (restart)
		CHECK(eintr == 0);

	/* wait4 for the sprayers and the writer. */
	int queued = 0, reaped = 0;
	eintr = other = 0;
	while (reaped < SPRAYERS + 1) {
		int st;
		pid_t r = wait4(-1, &st, 0, NULL);
		if (r == -1) {
			if (errno == EINTR)
				eintr++;
			else {
				other++;
				break;
			}
			continue;
		}
		reaped++;
		if (r != writer && WIFEXITED(st))
			queued += WEXITSTATUS(st);
	}
	CHECK(other == 0);
	if (restart)
		CHECK(eintr == 0);
	CHECK(queued == SPRAYERS * ROUNDS);
	for (int i = 0; i < 500 && rt_handled < queued; i++)
		usleep(2000);
	CHECK(rt_handled == queued);
	void *thread_queued;
	pthread_join(spray_thread, &thread_queued);
	CHECK((long)thread_queued == ROUNDS);
	for (int i = 0; i < 500 && thread_rt_handled < ROUNDS; i++)
		usleep(2000);
	CHECK(thread_rt_handled == ROUNDS);
	CHECK(rt_bad == 0);
	CHECK(std_handled > 0);
	close(fds[0]);
	close(fds[1]);
	(void)kids;
}

int main(void)
{
	conformance_init();
	main_tid = gettid();
	phase(1);
	phase(0);
	return conformance_done();
}
