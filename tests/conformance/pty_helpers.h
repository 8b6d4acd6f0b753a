/* Helpers shared by the fs_pty_* conformance programs. */
#ifndef CARAPACE_PTY_HELPERS_H
#define CARAPACE_PTY_HELPERS_H

#include "conformance.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

/* A new unlocked pair, neither end the controlling terminal. */
static inline void open_pair(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	if (*master < 0 || grantpt(*master) || unlockpt(*master)) {
		printf("FAIL: posix_openpt\n");
		exit(1);
	}
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
	if (*slave < 0) {
		printf("FAIL: open slave\n");
		exit(1);
	}
}

/* Prints bytes with control characters escaped. */
static inline void print_escaped(const char *label, const char *buf, int len)
{
	printf("%s: \"", label);
	for (int i = 0; i < len; i++) {
		unsigned char c = buf[i];
		if (c == '\n')
			printf("\\n");
		else if (c == '\r')
			printf("\\r");
		else if (c == '\\')
			printf("\\\\");
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

/* Reads from fd until `want` bytes came, nothing arrives within a second,
 * or nothing more within a tenth after the first bytes (Linux hands
 * terminal input over asynchronously); prints them. */
static inline int read_some(const char *label, int fd, int want)
{
	char buf[8192];
	int got = 0;
	while (got < want && got < (int)sizeof buf) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, got ? 100 : 1000) <= 0 || !(p.revents & POLLIN))
			break;
		ssize_t n = read(fd, buf + got, sizeof buf - got);
		if (n <= 0)
			break;
		got += n;
	}
	print_escaped(label, buf, got);
	return got;
}

/* What poll reports for fd now (of POLLIN, POLLOUT, POLLERR, POLLHUP). */
static inline short revents(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	poll(&p, 1, 0);
	return p.revents & (POLLIN | POLLOUT | POLLERR | POLLHUP);
}

/* Waits (up to ms milliseconds) until fd polls with `events`. */
static inline int wait_for(int fd, short events, int ms)
{
	struct pollfd p = { fd, events, 0 };
	return poll(&p, 1, ms) == 1 && (p.revents & events);
}

/* Waits (up to a second) until fd has at least n bytes to read (FIONREAD);
 * returns the count, or -1 if they never came. */
static inline int wait_queued(int fd, int n)
{
	for (int i = 0; i < 200; i++) {
		int avail = 0;
		ioctl(fd, FIONREAD, &avail);
		if (avail >= n)
			return avail;
		usleep(5000);
	}
	return -1;
}

#endif
