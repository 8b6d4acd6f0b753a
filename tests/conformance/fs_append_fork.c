/*
 * fs_append_fork: see the checks below; runs in a fresh directory under /tmp
 * (made with mkdtemp, removed at the end) and prints properties only.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>

/* Each program works in a fresh directory under /tmp and removes it. */
static char dir_[] = "/tmp/carapace-fs-XXXXXX";
__attribute__((unused)) static void enter_tmpdir(void)
{
	umask(022);
	if (!mkdtemp(dir_)) {
		printf("FAIL: mkdtemp: %s\n", errno_name(errno));
		exit(1);
	}
	if (chdir(dir_) != 0) {
		printf("FAIL: chdir: %s\n", errno_name(errno));
		exit(1);
	}
}
__attribute__((unused)) static void leave_tmpdir(void)
{
	CHECK(chdir("/") == 0);
	EXPECT_OK("remove the directory", rmdir(dir_));
}

#include <sys/wait.h>
int main(void)
{
	conformance_init();
	enter_tmpdir();
	close(open("log", O_CREAT | O_WRONLY, 0644));
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			int fd = open("log", O_WRONLY | O_APPEND);
			char line[16];
			snprintf(line, sizeof line, "child%d line\n", k);
			for (int i = 0; i < 200; i++)
				if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) _exit(1);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status = -1;
		CHECK(waitpid(kids[k], &status, 0) == kids[k]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	FILE *f = fopen("log", "r");
	char line[64];
	int n0 = 0, n1 = 0, bad = 0;
	while (fgets(line, sizeof line, f)) {
		if (!strcmp(line, "child0 line\n")) n0++;
		else if (!strcmp(line, "child1 line\n")) n1++;
		else bad++;
	}
	fclose(f);
	CHECK(n0 == 200 && n1 == 200 && bad == 0);
	unlink("log");
	leave_tmpdir();
	return conformance_done();
}
