/*
 * Helpers shared by the conformance programs (see tests/README.md).
 *
 * A program prints a transcript that is identical natively and under every
 * platform, and exits 0 when every expectation held natively. Print
 * properties ("pid > 0"), never host-specific values (pids, addresses,
 * times). Use raw syscall(2) where glibc would hide or change the errno.
 */
#ifndef CARAPACE_CONFORMANCE_H
#define CARAPACE_CONFORMANCE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* An address that is never mapped in a user address space. */
#define BAD_PTR ((void *)1)

static int conformance_failures;

/* Unbuffered stdout: a crash or a raw exit never loses printed lines, and the
 * transcript is one write(2) per printf. Call first thing in main. */
static inline void conformance_init(void) { setvbuf(stdout, NULL, _IONBF, 0); }

/* Exit status for main: 0 when every expectation held. */
static inline int conformance_done(void)
{
	printf("done: %d failure(s)\n", conformance_failures);
	return conformance_failures ? 1 : 0;
}

static inline const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);
	return name ? name : "E?";
}

/* CHECK(cond): prints "ok: cond" or "FAIL: cond". */
#define CHECK(cond) check_((cond) != 0, #cond, __FILE__, __LINE__)
static inline void check_(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		printf("ok: %s\n", what);
	} else {
		printf("FAIL: %s (%s:%d)\n", what, file, line);
		conformance_failures++;
	}
}

/*
 * EXPECT_OK(label, expr): expr is a libc/syscall(2) style call (-1 and errno
 * on failure). Prints "label: ok" (the value is not printed: it may be
 * host-specific) and returns the value.
 */
#define EXPECT_OK(label, expr)                         \
	({                                             \
		errno = 0;                             \
		long r_ = (long)(expr);                \
		expect_ok_(r_, errno, label, __LINE__); \
	})
static inline long expect_ok_(long r, int e, const char *label, int line)
{
	if (r == -1) {
		printf("%s: FAIL: %s (line %d)\n", label, errno_name(e), line);
		conformance_failures++;
	} else {
		printf("%s: ok\n", label);
	}
	return r;
}

/* EXPECT_VAL(label, expr, want): like EXPECT_OK, and the value must be want
 * (printed, so only use it for deterministic values). */
#define EXPECT_VAL(label, expr, want)                                  \
	({                                                             \
		errno = 0;                                             \
		long r_ = (long)(expr);                                \
		expect_val_(r_, errno, label, (long)(want), __LINE__); \
	})
static inline long expect_val_(long r, int e, const char *label, long want, int line)
{
	if (r == -1 && want != -1) {
		printf("%s: FAIL: %s, want %ld (line %d)\n", label, errno_name(e), want, line);
		conformance_failures++;
	} else if (r != want) {
		printf("%s = %ld: FAIL: want %ld (line %d)\n", label, r, want, line);
		conformance_failures++;
	} else {
		printf("%s = %ld\n", label, r);
	}
	return r;
}

/* EXPECT_ERR(label, expr, ERRNO): the call must fail with ERRNO. */
#define EXPECT_ERR(label, expr, err)                              \
	({                                                        \
		errno = 0;                                        \
		long r_ = (long)(expr);                           \
		expect_err_(r_, errno, label, err, #err, __LINE__); \
	})
static inline void expect_err_(long r, int e, const char *label, int want, const char *want_name,
			       int line)
{
	if (r != -1) {
		printf("%s: FAIL: succeeded, want %s (line %d)\n", label, want_name, line);
		conformance_failures++;
	} else if (e != want) {
		printf("%s: FAIL: %s, want %s (line %d)\n", label, errno_name(e), want_name, line);
		conformance_failures++;
	} else {
		printf("%s: %s\n", label, want_name);
	}
}

#endif /* CARAPACE_CONFORMANCE_H */
