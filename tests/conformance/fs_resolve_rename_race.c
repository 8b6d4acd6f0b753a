/*
 * openat2 RESOLVE_BENEATH / RESOLVE_IN_ROOT against a rename attack (as
 * Linux's selftests/openat2/rename_attack_test.c): while a child keeps
 * exchanging root/c with other/c, walks of "c/.." (and longer ".."
 * chains) from root must never end outside root. Linux answers EAGAIN
 * (a rename happened during a walk that took ".."), EXDEV or ENOENT when
 * it cannot be sure; only the invariant is printed.
 */
#include "scratch.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define ROUNDS 3000

static int attack(int resolve, const char *path, int root)
{
	struct stat rst;
	fstat(root, &rst);
	int escapes = 0, other_errors = 0;
	for (int i = 0; i < ROUNDS; i++) {
		struct open_how how = {.flags = O_PATH | O_DIRECTORY, .resolve = resolve};
		long fd = syscall(SYS_openat2, root, path, &how, sizeof how);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EXDEV && errno != ENOENT)
				other_errors++;
			continue;
		}
		struct stat st;
		fstat(fd, &st);
		/* Every path here names root itself. */
		if (st.st_dev != rst.st_dev || st.st_ino != rst.st_ino)
			escapes++;
		close(fd);
	}
	if (other_errors)
		printf("unexpected errors: %d\n", other_errors);
	return escapes;
}

int main(void)
{
	conformance_init();
	if (!scratch_make("/tmp"))
		return conformance_done();
	EXPECT_OK("mkdir root", mkdir(at("root"), 0755));
	EXPECT_OK("mkdir root/c", mkdir(at("root/c"), 0755));
	EXPECT_OK("mkdir other", mkdir(at("other"), 0755));
	EXPECT_OK("mkdir other/c", mkdir(at("other/c"), 0755));
	int root = EXPECT_OK("open root", open(at("root"), O_PATH | O_DIRECTORY));

	/* Without an attacker every walk succeeds. */
	struct open_how how = {.flags = O_PATH | O_DIRECTORY, .resolve = RESOLVE_BENEATH};
	long fd = EXPECT_OK("BENEATH c/.. at rest", syscall(SYS_openat2, root, "c/..", &how, sizeof how));
	close(fd);
	EXPECT_ERR("BENEATH c/../.. at rest", syscall(SYS_openat2, root, "c/../..", &how, sizeof how),
		   EXDEV);

	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			syscall(SYS_renameat2, AT_FDCWD, at("root/c"), AT_FDCWD, at("other/c"),
				RENAME_EXCHANGE);
	}
	EXPECT_VAL("BENEATH c/.. escapes", attack(RESOLVE_BENEATH, "c/..", root), 0);
	EXPECT_VAL("IN_ROOT c/.. escapes", attack(RESOLVE_IN_ROOT, "c/..", root), 0);
	EXPECT_VAL("IN_ROOT c/../c/../c/.. escapes",
		   attack(RESOLVE_IN_ROOT, "c/../c/../c/..", root), 0);
	EXPECT_VAL("BENEATH c/./../c/.. escapes", attack(RESOLVE_BENEATH, "c/./../c/..", root), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	close(root);
	EXPECT_OK("scratch directory removed", scratch_remove());
	return conformance_done();
}
