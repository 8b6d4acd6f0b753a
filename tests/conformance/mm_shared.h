/*
 * Helpers of the mm_shared_* programs: a scratch file, and touching memory
 * that may raise SIGBUS or SIGSEGV, catching the signal.
 */
#ifndef CARAPACE_MM_SHARED_H
#define CARAPACE_MM_SHARED_H

#include "conformance.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#define PG 4096L

/* A new empty file in /tmp, already unlinked; with `second`, a second
 * descriptor of it opened with `flags` first. */
static inline int temp_file(int *second, int flags)
{
	char path[] = "/tmp/mm_shared_XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0) {
		if (second)
			*second = open(path, flags);
		unlink(path);
	}
	return fd;
}

/* What the last touch() raised: signal (0 for none), si_code, si_addr. */
static sigjmp_buf touch_env;
static volatile int got_signo __attribute__((unused));
static volatile int got_code __attribute__((unused));
static void *volatile got_addr __attribute__((unused));

static inline void touch_handler(int signo, siginfo_t *info, void *ctx)
{
	(void)ctx;
	got_signo = signo;
	got_code = info->si_code;
	got_addr = info->si_addr;
	siglongjmp(touch_env, 1);
}

/* Makes SIGBUS and SIGSEGV end a touch() instead of the program. */
static inline void catch_faults(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = touch_handler;
	sa.sa_flags = SA_SIGINFO;
	EXPECT_OK("sigaction SIGBUS", sigaction(SIGBUS, &sa, NULL));
	EXPECT_OK("sigaction SIGSEGV", sigaction(SIGSEGV, &sa, NULL));
}

/* Reads *p, or writes `value` there if it is not 0; returns the signal
 * that raised, or 0. */
static inline int touch(volatile char *p, char value)
{
	got_signo = 0;
	got_code = 0;
	got_addr = NULL;
	if (sigsetjmp(touch_env, 1) == 0) {
		if (value)
			*p = value;
		else
			(void)*p;
	}
	return got_signo;
}

#endif /* CARAPACE_MM_SHARED_H */
