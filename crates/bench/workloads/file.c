/* File operations on host files the harness prepared: open+close, stat,
 * 4 KiB pread, listing a 1000-entry directory, and writing 1 MiB to a fresh
 * file (then unlinked) in a directory given on the command line. */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define MIB (1024 * 1024)

static long long open_close(long n, const char *path, long *ops)
{
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open");
		if (close(fd) != 0)
			die("close");
	}
	*ops = n;
	return now_ns() - t0;
}

static long long do_stat(long n, const char *path, long *ops)
{
	struct stat st;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (stat(path, &st) != 0)
			die("stat");
	*ops = n;
	return now_ns() - t0;
}

static long long do_pread(long n, const char *path, long *ops)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open");
	struct stat st;
	if (fstat(fd, &st) != 0)
		die("fstat");
	long blocks = st.st_size / 4096;
	if (blocks < 1)
		fail("file smaller than 4 KiB");
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (pread(fd, buf, sizeof buf, (off_t)(i % blocks) * 4096) != (ssize_t)sizeof buf)
			die("pread");
	long long ns = now_ns() - t0;
	close(fd);
	*ops = n;
	return ns;
}

static long long write_file(long n, const char *dir, long *ops)
{
	static char buf[CHUNK];
	char path[4096];
	snprintf(path, sizeof path, "%s/carapace-bench-write.%d", dir, (int)getpid());
	memset(buf, 0x5a, sizeof buf);
	/* A run killed by the harness's timeout may have left it behind. */
	unlink(path);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die("open for writing");
		for (long done = 0; done < MIB; done += CHUNK)
			if (write(fd, buf, CHUNK) != CHUNK)
				die("write");
		if (close(fd) != 0)
			die("close");
		if (unlink(path) != 0)
			die("unlink");
	}
	*ops = n;
	return now_ns() - t0;
}

static long long list_dir(long n, const char *dir, long *ops)
{
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		DIR *d = opendir(dir);
		if (!d)
			die("opendir");
		long entries = 0;
		errno = 0;
		while (readdir(d))
			entries++;
		if (errno != 0)
			die("readdir");
		closedir(d);
		if (entries < 1000)
			fail("readdir: fewer than 1000 entries");
	}
	*ops = n;
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	static const struct mode modes[] = {
		{ "open-close", open_close, 1 },
		{ "stat", do_stat, 1 },
		{ "pread", do_pread, 1 },
		{ "write", write_file, 1 },
		{ "readdir", list_dir, 1 },
		{ 0 },
	};
	return bench_main(argc, argv, modes);
}
