/* execveat(2): a program named by a directory fd and a relative path, an
 * open file (AT_EMPTY_PATH, as fexecve does, including an O_PATH fd), what
 * the new program sees of its name (AT_EXECFN, comm, /proc/self/exe), and
 * the error cases (flags, symlinks with AT_SYMLINK_NOFOLLOW, directories,
 * scripts whose fd closes on exec). */
#include "conformance.h"
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static char self[PATH_MAX];
/* What the new program's /proc/self/exe should name. */
static const char *want_exe = self;

/* The program after the exec: argv[2] is the AT_EXECFN it expects,
 * argv[3] the comm. */
static int child(char **argv)
{
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	CHECK(execfn && strcmp(execfn, argv[2]) == 0);
	char exe[PATH_MAX] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(n > 0);
	if (n > 0)
		exe[n] = 0;
	CHECK(strcmp(exe, argv[3]) == 0);
	char comm[32] = "";
	int fd = open("/proc/self/comm", O_RDONLY);
	n = read(fd, comm, sizeof(comm) - 1);
	if (n > 0)
		comm[n - 1] = 0;
	close(fd);
	CHECK(strcmp(comm, argv[4]) == 0);
	return conformance_failures ? 1 : 42;
}

/* Runs execveat(dirfd, path, argv, envp, flags) in a child with the
 * expected AT_EXECFN; returns its exit status or -errno. */
static int run(int dirfd, const char *path, int flags, const char *execfn, const char *comm)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"renamed", "child", (char *)execfn, (char *)want_exe, (char *)comm,
				NULL};
		char *envp[] = {NULL};
		syscall(SYS_execveat, dirfd, path, argv, envp, flags);
		_exit(100 + errno);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status))
		return -1000;
	int code = WEXITSTATUS(status);
	return code >= 100 ? -(code - 100) : code;
}

static void truncated_comm(char *out, const char *name)
{
	snprintf(out, 16, "%s", name);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child(argv);
	conformance_init();

	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = 0;
	char dir_buf[PATH_MAX], base_buf[PATH_MAX];
	strcpy(dir_buf, self);
	strcpy(base_buf, self);
	const char *dir = dirname(dir_buf), *base = basename(base_buf);
	char comm[16];
	truncated_comm(comm, base);
	char execfn[PATH_MAX + 32];

	/* By directory fd and relative name. */
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dirfd >= 0);
	snprintf(execfn, sizeof(execfn), "/dev/fd/%d/%s", dirfd, base);
	EXPECT_VAL("dirfd + name", run(dirfd, base, 0, execfn, comm), 42);
	EXPECT_VAL("dirfd + name, AT_SYMLINK_NOFOLLOW",
		   run(dirfd, base, AT_SYMLINK_NOFOLLOW, execfn, comm), 42);
	/* An absolute path ignores dirfd, even a bad one. */
	EXPECT_VAL("absolute path, bad dirfd", run(-5, self, 0, self, comm), 42);
	EXPECT_VAL("AT_FDCWD + absolute path", run(AT_FDCWD, self, 0, self, comm), 42);

	/* An open file, as fexecve runs it: the name is /dev/fd/N, comm is the
	 * file's name. */
	int fd = open(self, O_RDONLY);
	snprintf(execfn, sizeof(execfn), "/dev/fd/%d", fd);
	EXPECT_VAL("AT_EMPTY_PATH fd", run(fd, "", AT_EMPTY_PATH, execfn, comm), 42);
	close(fd);
	fd = open(self, O_PATH);
	snprintf(execfn, sizeof(execfn), "/dev/fd/%d", fd);
	EXPECT_VAL("AT_EMPTY_PATH O_PATH fd", run(fd, "", AT_EMPTY_PATH, execfn, comm), 42);
	close(fd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	snprintf(execfn, sizeof(execfn), "/dev/fd/%d", fd);
	EXPECT_VAL("AT_EMPTY_PATH O_CLOEXEC fd", run(fd, "", AT_EMPTY_PATH, execfn, comm), 42);
	close(fd);

	/* A copy in a memfd: the name is the memfd's. */
	fd = syscall(SYS_memfd_create, "prog", 0);
	CHECK(fd >= 0);
	int src = open(self, O_RDONLY);
	char chunk[65536];
	ssize_t got;
	while ((got = read(src, chunk, sizeof(chunk))) > 0)
		CHECK(write(fd, chunk, got) == got);
	close(src);
	snprintf(execfn, sizeof(execfn), "/dev/fd/%d", fd);
	want_exe = "/memfd:prog (deleted)";
	EXPECT_VAL("memfd", run(fd, "", AT_EMPTY_PATH, execfn, "memfd:prog"), 42);
	want_exe = self;
	close(fd);

	/* Errors. */
	EXPECT_VAL("unknown flag", run(dirfd, base, 0x1, "", ""), -EINVAL);
	EXPECT_VAL("AT_REMOVEDIR", run(dirfd, base, AT_REMOVEDIR, "", ""), -EINVAL);
	EXPECT_VAL("empty path without AT_EMPTY_PATH", run(dirfd, "", 0, "", ""), -ENOENT);
	EXPECT_VAL("bad dirfd", run(-5, base, 0, "", ""), -EBADF);
	EXPECT_VAL("bad dirfd, AT_EMPTY_PATH", run(-5, "", AT_EMPTY_PATH, "", ""), -EBADF);
	EXPECT_VAL("closed dirfd", run(1000, base, 0, "", ""), -EBADF);
	fd = open(self, O_RDONLY);
	EXPECT_VAL("file as dirfd", run(fd, base, 0, "", ""), -ENOTDIR);
	close(fd);
	EXPECT_VAL("directory by AT_EMPTY_PATH", run(dirfd, "", AT_EMPTY_PATH, "", ""), -EACCES);
	EXPECT_VAL("cwd by AT_EMPTY_PATH", run(AT_FDCWD, "", AT_EMPTY_PATH, "", ""), -EACCES);
	int p[2];
	pipe(p);
	EXPECT_VAL("pipe by AT_EMPTY_PATH", run(p[0], "", AT_EMPTY_PATH, "", ""), -EACCES);
	close(p[0]);
	close(p[1]);
	EXPECT_VAL("missing name", run(dirfd, "no-such-program", 0, "", ""), -ENOENT);
	EXPECT_VAL("bad path pointer", run(dirfd, BAD_PTR, 0, "", ""), -EFAULT);
	fd = open(self, O_RDONLY);
	EXPECT_VAL("NULL path, AT_EMPTY_PATH", run(fd, NULL, AT_EMPTY_PATH, "", ""), -EFAULT);
	close(fd);

	/* Symlinks and scripts, in a scratch directory. */
	char tmp[] = "/tmp/execveat-XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	int tmpfd = open(tmp, O_RDONLY | O_DIRECTORY);
	CHECK(symlinkat(self, tmpfd, "link") == 0);
	char link_comm[16] = "link";
	snprintf(execfn, sizeof(execfn), "/dev/fd/%d/link", tmpfd);
	EXPECT_VAL("symlink followed", run(tmpfd, "link", 0, execfn, link_comm), 42);
	EXPECT_VAL("symlink, AT_SYMLINK_NOFOLLOW", run(tmpfd, "link", AT_SYMLINK_NOFOLLOW, "", ""),
		   -ELOOP);
	int lfd = openat(tmpfd, "link", O_PATH | O_NOFOLLOW);
	EXPECT_VAL("O_PATH symlink by AT_EMPTY_PATH", run(lfd, "", AT_EMPTY_PATH, "", ""), -ELOOP);
	close(lfd);

	int sfd = openat(tmpfd, "script", O_WRONLY | O_CREAT, 0755);
	const char script[] = "#!/bin/sh\nexit 7\n";
	CHECK(write(sfd, script, sizeof(script) - 1) == (ssize_t)(sizeof(script) - 1));
	close(sfd);
	EXPECT_VAL("script by dirfd", run(tmpfd, "script", 0, "", ""), 7);
	sfd = openat(tmpfd, "script", O_RDONLY);
	EXPECT_VAL("script by fd", run(sfd, "", AT_EMPTY_PATH, "", ""), 7);
	close(sfd);
	sfd = openat(tmpfd, "script", O_RDONLY | O_CLOEXEC);
	EXPECT_VAL("script by O_CLOEXEC fd", run(sfd, "", AT_EMPTY_PATH, "", ""), -ENOENT);
	close(sfd);
	int ctmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	EXPECT_VAL("script by O_CLOEXEC dirfd + name", run(ctmpfd, "script", 0, "", ""), -ENOENT);
	close(ctmpfd);

	unlinkat(tmpfd, "script", 0);
	unlinkat(tmpfd, "link", 0);
	close(tmpfd);
	rmdir(tmp);
	close(dirfd);
	return conformance_done();
}
