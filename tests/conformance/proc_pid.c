/*
 * proc_pid: /proc/self, /proc/thread-self and /proc/[pid]: exe, cwd, root,
 * fd/, fdinfo/, maps, stat, statm, status, cmdline, environ, task/, and
 * another process's files seen from its parent.
 */
#include "conformance.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>

static char buf[1 << 16];

static ssize_t slurp(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, out + len, size - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	out[len] = 0;
	close(fd);
	return len;
}

static int link_is(const char *path, const char *want)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof t - 1);
	if (n < 0)
		return 0;
	t[n] = 0;
	return strcmp(t, want) == 0;
}

static int link_starts(const char *path, const char *want)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof t - 1);
	if (n < 0)
		return 0;
	t[n] = 0;
	return strncmp(t, want, strlen(want)) == 0;
}

/* The value after "key:\t" in a status text, or NULL. */
static const char *field(const char *text, const char *key)
{
	static char line[256];
	size_t k = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, k) && p[k] == ':') {
			const char *v = p + k + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			size_t n = strcspn(v, "\n");
			if (n >= sizeof line)
				n = sizeof line - 1;
			memcpy(line, v, n);
			line[n] = 0;
			return line;
		}
	}
	return NULL;
}

static int thread_pipe[2];

static void *thread_main(void *arg)
{
	char c;
	(void)arg;
	(void)!read(thread_pipe[0], &c, 1);
	return NULL;
}

static void on_usr2(int s) { (void)s; }

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	conformance_init();
	(void)argc;
	char want[PATH_MAX], path[PATH_MAX];
	pid_t pid = getpid();

	/* self and thread-self */
	snprintf(want, sizeof want, "%d", pid);
	CHECK(link_is("/proc/self", want));
	snprintf(want, sizeof want, "%d/task/%d", pid, (int)syscall(SYS_gettid));
	CHECK(link_is("/proc/thread-self", want));
	struct stat st;
	EXPECT_OK("stat /proc/self", stat("/proc/self", &st));
	CHECK(S_ISDIR(st.st_mode));
	EXPECT_OK("lstat /proc/self", lstat("/proc/self", &st));
	CHECK(S_ISLNK(st.st_mode));
	snprintf(path, sizeof path, "/proc/%d", pid);
	EXPECT_OK("stat /proc/<pid>", stat(path, &st));
	CHECK(st.st_uid == geteuid());

	/* exe, cwd, root */
	char *real = realpath(argv[0], NULL);
	CHECK(real && link_is("/proc/self/exe", real));
	int exefd = open("/proc/self/exe", O_RDONLY);
	CHECK(exefd >= 0);
	char elf[4] = {0};
	CHECK(read(exefd, elf, 4) == 4 && !memcmp(elf, "\177ELF", 4));
	close(exefd);
	EXPECT_OK("chdir /tmp", chdir("/tmp"));
	CHECK(link_is("/proc/self/cwd", "/tmp"));
	CHECK(link_is("/proc/self/root", "/"));
	EXPECT_OK("stat via cwd link", stat("/proc/self/cwd/.", &st));
	CHECK(S_ISDIR(st.st_mode));
	EXPECT_OK("root/.. stays", stat("/proc/self/root/../../etc/passwd", &st));

	/* fd/ */
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	CHECK(link_is(path, "/etc/passwd"));
	int p[2];
	EXPECT_OK("pipe", pipe(p));
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	CHECK(link_starts(path, "pipe:["));
	int nul = open("/dev/null", O_WRONLY);
	snprintf(path, sizeof path, "/proc/self/fd/%d", nul);
	CHECK(link_is(path, "/dev/null"));
	/* Reopening a pipe end through its link. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	int w2 = open(path, O_WRONLY);
	CHECK(w2 >= 0);
	CHECK(write(w2, "abc", 3) == 3);
	char got[4] = {0};
	CHECK(read(p[0], got, 3) == 3 && !strcmp(got, "abc"));
	close(w2);
	EXPECT_ERR("O_NOFOLLOW on fd link", open(path, O_WRONLY | O_NOFOLLOW), ELOOP);
	struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_NO_MAGICLINKS};
	EXPECT_ERR("openat2 NO_MAGICLINKS exe",
		   syscall(SYS_openat2, AT_FDCWD, "/proc/self/exe", &how, sizeof how), ELOOP);
	how.flags = O_RDONLY | O_DIRECTORY;
	long d = syscall(SYS_openat2, AT_FDCWD, "/proc/self/fd", &how, sizeof how);
	CHECK(d >= 0);
	if (d >= 0)
		close(d);
	EXPECT_ERR("missing fd", open("/proc/self/fd/9999", O_RDONLY), ENOENT);
	EXPECT_ERR("bad fd name", open("/proc/self/fd/abc", O_RDONLY), ENOENT);
	EXPECT_ERR("leading zero fd", open("/proc/self/fd/01", O_RDONLY), ENOENT);
	EXPECT_ERR("readlink bufsiz 0", readlink("/proc/self/exe", buf, 0), EINVAL);
	EXPECT_ERR("readlink bad buf", syscall(SYS_readlink, "/proc/self/exe", BAD_PTR, 64), EFAULT);
	EXPECT_ERR("missing pid", open("/proc/999999999/status", O_RDONLY), ENOENT);
	EXPECT_ERR("leading zero pid", open("/proc/01/status", O_RDONLY), ENOENT);
	EXPECT_ERR("not a dir", open("/proc/self/status/x", O_RDONLY), ENOTDIR);

	/* fdinfo/ */
	lseek(fd, 5, SEEK_SET);
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	CHECK(slurp(path, buf, sizeof buf) > 0);
	CHECK(!strncmp(buf, "pos:\t5\nflags:\t02100000\n", 23));

	/* maps, statm, stat */
	void *heap = malloc(100);
	CHECK(heap != NULL);
	CHECK(slurp("/proc/self/maps", buf, sizeof buf) > 0);
	CHECK(strstr(buf, "[stack]") != NULL);
	unsigned long lo, hi, off, ino;
	unsigned maj, min;
	char perms[5];
	CHECK(sscanf(buf, "%lx-%lx %4s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min, &ino) == 7);
	CHECK(lo < hi);
	char exe_line[PATH_MAX + 8];
	snprintf(exe_line, sizeof exe_line, " %s\n", real);
	CHECK(strstr(buf, exe_line) != NULL);
	CHECK(strstr(buf, "r-xp") != NULL);
	/* The name starts at column 73. */
	char *name = strstr(buf, "[stack]");
	char *bol = name;
	while (bol > buf && bol[-1] != '\n')
		bol--;
	CHECK(name - bol == 73);
	unsigned long size, rss;
	CHECK(slurp("/proc/self/statm", buf, sizeof buf) > 0 && sscanf(buf, "%lu %lu", &size, &rss) == 2);
	CHECK(size > 0 && rss > 0 && rss <= size);
	CHECK(slurp("/proc/self/stat", buf, sizeof buf) > 0);
	int spid, sppid;
	char state;
	char *close_paren = strrchr(buf, ')');
	CHECK(sscanf(buf, "%d", &spid) == 1 && spid == pid);
	CHECK(close_paren && sscanf(close_paren + 2, "%c %d", &state, &sppid) == 2);
	CHECK(state == 'R' && sppid == getppid());
	int fields = 0;
	for (char *q = close_paren + 1; *q; q++)
		if (*q == ' ')
			fields++;
	CHECK(fields == 50);

	/* status */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGUSR2, on_usr2);
	signal(SIGHUP, SIG_IGN);
	CHECK(slurp("/proc/self/status", buf, sizeof buf) > 0);
	const char *base = strrchr(real, '/') + 1;
	char comm[16];
	snprintf(comm, sizeof comm, "%s", base);
	CHECK(field(buf, "Name") && !strcmp(field(buf, "Name"), comm));
	CHECK(field(buf, "State") && !strcmp(field(buf, "State"), "R (running)"));
	snprintf(want, sizeof want, "%d", pid);
	CHECK(field(buf, "Tgid") && !strcmp(field(buf, "Tgid"), want));
	CHECK(field(buf, "Pid") && !strcmp(field(buf, "Pid"), want));
	snprintf(want, sizeof want, "%d", getppid());
	CHECK(field(buf, "PPid") && !strcmp(field(buf, "PPid"), want));
	snprintf(want, sizeof want, "%d\t%d\t%d\t%d", getuid(), geteuid(), geteuid(), geteuid());
	CHECK(field(buf, "Uid") && !strcmp(field(buf, "Uid"), want));
	CHECK(field(buf, "Threads") && !strcmp(field(buf, "Threads"), "1"));
	unsigned long long blk = 0, cgt = 0, ign = 0;
	CHECK(field(buf, "SigBlk") && sscanf(field(buf, "SigBlk"), "%llx", &blk) == 1);
	CHECK(blk & (1ULL << (SIGUSR1 - 1)));
	CHECK(field(buf, "SigCgt") && sscanf(field(buf, "SigCgt"), "%llx", &cgt) == 1);
	CHECK(cgt & (1ULL << (SIGUSR2 - 1)));
	CHECK(field(buf, "SigIgn") && sscanf(field(buf, "SigIgn"), "%llx", &ign) == 1);
	CHECK(ign & (1ULL << (SIGHUP - 1)));
	CHECK(field(buf, "VmRSS") != NULL);
	CHECK(slurp("/proc/self/comm", buf, sizeof buf) > 0);
	snprintf(want, sizeof want, "%s\n", comm);
	CHECK(!strcmp(buf, want));

	/* cmdline, environ */
	ssize_t n = slurp("/proc/self/cmdline", buf, sizeof buf);
	CHECK(n == (ssize_t)strlen(argv[0]) + 1 && !strcmp(buf, argv[0]));
	n = slurp("/proc/self/environ", buf, sizeof buf);
	int has_path = 0;
	for (char *e = buf; e < buf + n; e += strlen(e) + 1)
		if (!strncmp(e, "PATH=", 5))
			has_path = 1;
	CHECK(n > 0 && has_path);

	/* mounts */
	CHECK(slurp("/proc/self/mounts", buf, sizeof buf) > 0 && strstr(buf, " /proc proc "));
	CHECK(slurp("/proc/self/mountinfo", buf, sizeof buf) > 0 && strstr(buf, " /proc ") && strstr(buf, " - proc "));

	/* task/ and threads */
	pthread_t th;
	EXPECT_OK("thread pipe", pipe(thread_pipe));
	CHECK(pthread_create(&th, NULL, thread_main, NULL) == 0);
	CHECK(count_entries("/proc/self/task") == 2);
	CHECK(slurp("/proc/self/status", buf, sizeof buf) > 0);
	CHECK(field(buf, "Threads") && !strcmp(field(buf, "Threads"), "2"));
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", pid);
	CHECK(slurp(path, buf, sizeof buf) > 0 && atoi(buf) == pid);
	CHECK(write(thread_pipe[1], "x", 1) == 1);
	pthread_join(th, NULL);
	/* A joined thread may linger a moment while it is released. */
	for (int i = 0; i < 1000 && count_entries("/proc/self/task") != 1; i++)
		usleep(1000);
	CHECK(count_entries("/proc/self/task") == 1);

	/* Another process: a child blocked on a pipe. */
	int go[2];
	EXPECT_OK("pipe go", pipe(go));
	pid_t child = fork();
	if (child == 0) {
		char c;
		close(go[1]);
		chdir("/");
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	/* Wait until the child has moved to / (its cwd link says so). */
	snprintf(path, sizeof path, "/proc/%d/cwd", child);
	for (int i = 0; i < 2000 && !link_is(path, "/"); i++)
		usleep(1000);
	CHECK(link_is(path, "/"));
	snprintf(path, sizeof path, "/proc/%d/status", child);
	CHECK(slurp(path, buf, sizeof buf) > 0);
	snprintf(want, sizeof want, "%d", pid);
	CHECK(field(buf, "PPid") && !strcmp(field(buf, "PPid"), want));
	CHECK(field(buf, "State") && field(buf, "State")[0] == 'S');
	snprintf(path, sizeof path, "/proc/%d/cmdline", child);
	CHECK(slurp(path, buf, sizeof buf) > 0 && !strcmp(buf, argv[0]));
	snprintf(path, sizeof path, "/proc/%d/exe", child);
	CHECK(link_is(path, real));
	snprintf(path, sizeof path, "/proc/%d", child);
	int listed = 0;
	DIR *dir = opendir("/proc");
	struct dirent *e;
	while (dir && (e = readdir(dir)))
		if (atoi(e->d_name) == child)
			listed = 1;
	if (dir)
		closedir(dir);
	CHECK(listed);
	close(go[1]);
	int status;
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
	EXPECT_ERR("reaped child gone", stat(path, &st), ENOENT);

	free(heap);
	free(real);
	return conformance_done();
}
