/*
 * Helpers shared by the programs that work in a scratch directory and
 * print paths (fs_cwd_*.c, fs_deleted_links.c, fs_resolve_rename_race.c):
 * the directory, paths in it, and transcripts that show it as "B", so
 * they read the same natively and in the sandbox.
 */
#ifndef CARAPACE_SCRATCH_H
#define CARAPACE_SCRATCH_H

#include "conformance.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

/* The scratch directory. */
static char base[64];

/* Makes a fresh scratch directory under `where`; 0 if it could not. */
static inline int scratch_make(const char *where)
{
	snprintf(base, sizeof base, "%s/dentry-XXXXXX", where);
	if (mkdtemp(base))
		return 1;
	printf("%s: no scratch directory: %s\n", where, errno_name(errno));
	conformance_failures++;
	return 0;
}

/* `rel` in the scratch directory (four results live at a time). */
static inline char *at(const char *rel)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];
	snprintf(p, 256, "%s/%s", base, rel);
	return p;
}

/* Prints `text` with the scratch directory in it shown as "B" (and what
 * comes before it left out). */
static inline void show(const char *label, const char *text)
{
	const char *hit = strstr(text, base);
	if (hit)
		printf("%s: B%s\n", label, hit + strlen(base));
	else
		printf("%s: %s\n", label, text);
}

static inline void show_link(const char *label, const char *link)
{
	char buf[4096];
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	if (n < 0) {
		printf("%s: readlink %s\n", label, errno_name(errno));
		return;
	}
	buf[n] = 0;
	show(label, buf);
}

/* Shows what /proc/self/fd/`fd` links to. */
static inline void show_fd(const char *label, int fd)
{
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	show_link(label, link);
}

/* Shows getcwd's answer, or its errno (the raw call: glibc's may differ). */
static inline void show_cwd(const char *label)
{
	char buf[4096];
	if (syscall(SYS_getcwd, buf, sizeof buf) < 0)
		printf("%s: getcwd %s\n", label, errno_name(errno));
	else
		show(label, buf);
}

/* Whether the open `fd` is the file at `path`. */
static inline int fd_is(int fd, const char *path)
{
	struct stat x, y;
	if (fstat(fd, &x) || stat(path, &y))
		return 0;
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static inline int scratch_rm_one(const char *path, const struct stat *st, int type,
				 struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes the scratch directory and everything in it. */
static inline int scratch_remove(void)
{
	return nftw(base, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs `run` in a fresh scratch directory under /tmp (a real file system
 * natively, the overlay in the sandbox), /var/tmp (the same) and /dev/shm
 * (tmpfs in both); `run` ends in "/" with the directory removed. */
static inline int scratch_everywhere(void (*run)(void))
{
	static const char *const places[] = {"/tmp", "/var/tmp", "/dev/shm"};
	for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
		if (!scratch_make(places[i]))
			continue;
		printf("--- in %s\n", places[i]);
		run();
		EXPECT_OK("back in /", chdir("/"));
		EXPECT_OK("scratch directory removed", scratch_remove());
	}
	return conformance_done();
}

#endif
