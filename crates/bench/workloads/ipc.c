/* Pipes between two processes: 1-byte ping-pong latency (per round trip)
 * and throughput in 64 KiB writes (ITERATIONS is MiB, the result is per MiB). */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static void reap(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("child failed");
}

static long long pingpong(long n, const char *path, long *ops)
{
	(void)path;
	int there[2], back[2];
	if (pipe(there) != 0 || pipe(back) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		close(there[1]);
		close(back[0]);
		while (read(there[0], &c, 1) == 1)
			if (write(back[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	char c = 'x';
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (write(there[1], &c, 1) != 1)
			die("write");
		if (read(back[0], &c, 1) != 1)
			die("read");
	}
	long long ns = now_ns() - t0;
	close(there[1]);
	close(back[0]);
	reap(pid);
	*ops = n;
	return ns;
}

static long long throughput(long mib, const char *path, long *ops)
{
	(void)path;
	static char buf[CHUNK];
	int p[2];
	if (pipe(p) != 0)
		die("pipe");
	long long total = (long long)mib << 20;
	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		memset(buf, 0x5a, sizeof buf);
		for (long long sent = 0; sent < total;) {
			ssize_t w = write(p[1], buf, CHUNK);
			if (w <= 0)
				_exit(1);
			sent += w;
		}
		_exit(0);
	}
	close(p[1]);
	long long got = 0;
	for (;;) {
		ssize_t r = read(p[0], buf, sizeof buf);
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		got += r;
	}
	close(p[0]);
	reap(pid);
	long long ns = now_ns() - t0;
	if (got != total)
		fail("short transfer");
	*ops = mib;
	return ns;
}

int main(int argc, char **argv)
{
	static const struct mode modes[] = {
		{ "pingpong", pingpong, 0 },
		{ "throughput", throughput, 0 },
		{ 0 },
	};
	return bench_main(argc, argv, modes);
}
