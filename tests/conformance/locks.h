/*
 * Helpers shared by the file-lock programs (fs_lock_*.c, fs_flock.c):
 * a scratch file, lock calls, F_GETLK transcripts, children and pipes
 * that sequence them.
 */
#ifndef CARAPACE_LOCKS_H
#define CARAPACE_LOCKS_H

#include "conformance.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

/* Creates /tmp/carapace-<tag>-<pid> with `size` bytes, open read-write;
 * its name goes to path (64 bytes). */
static inline int lock_tmpfile(char *path, const char *tag, int size)
{
	snprintf(path, 64, "/tmp/carapace-%s-%d", tag, (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, size) != 0) {
		printf("FAIL: cannot make %s\n", tag);
		exit(1);
	}
	return fd;
}

/* fcntl(fd, cmd) with a struct flock of these fields. */
static inline int lk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock l = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &l);
}

static inline const char *lock_type_name(short type)
{
	return type == F_RDLCK ? "F_RDLCK" : type == F_WRLCK ? "F_WRLCK" : type == F_UNLCK ? "F_UNLCK" : "?";
}

/* Prints what `cmd` (F_GETLK or F_OFD_GETLK) finds for a `type` lock on
 * start..start+len: the lock's type, range, and whether its l_pid is
 * `owner`, -1 or something else. */
static inline void getlk(const char *label, int fd, int cmd, short type, off_t start, off_t len,
			 pid_t owner)
{
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &l) != 0) {
		printf("%s: FAIL: %s\n", label, errno_name(errno));
		conformance_failures++;
		return;
	}
	if (l.l_type == F_UNLCK) {
		printf("%s: F_UNLCK\n", label);
		return;
	}
	printf("%s: %s start=%lld len=%lld whence=%d pid=%s\n", label, lock_type_name(l.l_type),
	       (long long)l.l_start, (long long)l.l_len, l.l_whence,
	       l.l_pid == owner ? "owner" : l.l_pid == -1 ? "-1" : "other");
}

/* Waits for child `pid` and checks it exited with status 0. */
static inline void reap(pid_t pid)
{
	int status = 0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("FAIL: child ended badly (status %#x)\n", status);
		conformance_failures++;
	}
}

/* Runs fn(fd) in a forked child, which exits with its failure count, and
 * waits for it. */
static inline void in_child(void (*fn)(int), int fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		conformance_failures = 0;
		fn(fd);
		_exit(conformance_failures ? 1 : 0);
	}
	reap(pid);
}

/* One byte through a pipe: the sequencing of parent and child. */
static inline void send_byte(int fd)
{
	if (write(fd, "x", 1) != 1)
		printf("FAIL: pipe write\n");
}

static inline void wait_byte(int fd)
{
	char c;
	if (read(fd, &c, 1) != 1)
		printf("FAIL: pipe read\n");
}

/* Waits until the other side says it is about to block, then gives it
 * time to: what follows happens while it waits. */
static inline void after_it_blocks(int up)
{
	wait_byte(up);
	usleep(100000);
}

/* The holder's side of a wait: once the waiter (child `waiter`) is
 * blocked, marks event `event`, lets go with `unlock_call`, reaps it. */
#define LET_GO(up, event, waiter, unlock_call)     \
	do {                                       \
		after_it_blocks(up);               \
		mark(event);                       \
		int unlocked = (unlock_call);      \
		reap(waiter);                      \
		CHECK(unlocked == 0);              \
	} while (0)

/* A second scratch file through which processes record events (a
 * MAP_SHARED page would do, but file I/O keeps this to the lock area). */
static int lock_marks = -1;

/* Records event i, for another process to see. */
static inline void mark(int i)
{
	if (pwrite(lock_marks, "1", 1, i) != 1)
		printf("FAIL: mark\n");
}

/* Whether event i happened. */
static inline int marked(int i)
{
	char c = 0;
	return pread(lock_marks, &c, 1, i) == 1 && c == '1';
}

/* Installs `fn` for `sig` without SA_RESTART, so blocked calls get EINTR. */
static inline void handle_no_restart(int sig, void (*fn)(int))
{
	struct sigaction sa = {.sa_handler = fn};
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

#endif /* CARAPACE_LOCKS_H */
