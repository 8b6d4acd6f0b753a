/* pipes between processes, EOF, SIGPIPE/EPIPE, execve and close-on-exec. */
#include "conformance.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	conformance_init();
	int p[2];
	EXPECT_VAL("pipe2(O_CLOEXEC)", pipe2(p, O_CLOEXEC), 0);
	CHECK((fcntl(p[0], F_GETFD) & FD_CLOEXEC) != 0);
	EXPECT_ERR("pipe2 bad flags", pipe2(p, 0x12345678), EINVAL);
	EXPECT_ERR("pipe NULL", pipe(NULL), EFAULT);

	/* A child writes through the pipe; the parent reads to EOF. */
	CHECK(pipe(p) == 0);
	pid_t child = fork();
	if (child == 0) {
		close(p[0]);
		for (int i = 0; i < 1000; i++)
			write(p[1], "0123456789", 10);
		_exit(0);
	}
	close(p[1]);
	char buf[4096];
	long total = 0;
	ssize_t n;
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		total += n;
	CHECK(n == 0 && total == 10000);
	close(p[0]);
	int status;
	waitpid(child, &status, 0);

	/* EPIPE once SIGPIPE is ignored; death by SIGPIPE by default. */
	CHECK(pipe(p) == 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_ERR("write to a pipe without readers", write(p[1], "x", 1), EPIPE);
	signal(SIGPIPE, SIG_DFL);
	child = fork();
	if (child == 0) {
		write(p[1], "x", 1);
		_exit(0);
	}
	waitpid(child, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE);
	close(p[1]);

	/* Non-blocking read of an empty pipe. */
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	EXPECT_ERR("read empty O_NONBLOCK pipe", read(p[0], buf, 1), EAGAIN);
	close(p[0]);
	close(p[1]);

	/* execve of a shell script through /bin/sh; its output through a pipe. */
	CHECK(pipe(p) == 0);
	child = fork();
	if (child == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		char *argv[] = {"sh", "-c", "echo from $0; exit 4", "script", NULL};
		char *envp[] = {"PATH=/usr/bin:/bin", NULL};
		execve("/bin/sh", argv, envp);
		_exit(99);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("child said: %s", buf);
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4);
	close(p[0]);

	/* execve failures leave the caller intact. */
	char *none[] = {NULL};
	EXPECT_ERR("execve missing", execve("/nonexistent/x", none, none), ENOENT);
	EXPECT_ERR("execve directory", execve("/etc", none, none), EACCES);
	EXPECT_ERR("execve not executable", execve("/etc/passwd", none, none), EACCES);
	EXPECT_ERR("execve bad path pointer", syscall(SYS_execve, BAD_PTR, none, none), EFAULT);
	EXPECT_ERR("execve bad argv", syscall(SYS_execve, "/bin/true", BAD_PTR, none), EFAULT);
	return conformance_done();
}
