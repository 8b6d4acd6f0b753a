/*
 * A working directory deeper than PATH_MAX, reached by walking down one
 * relative name at a time: getcwd and /proc/self/cwd give ENAMETOOLONG,
 * relative lookups and ".." still work, and leaving it at once (the
 * kernel then drops the whole chain of directories) is fine.
 */
#include "scratch.h"

#include <fcntl.h>
#include <sys/stat.h>

/* 300 names of 20 bytes: a path of over 6000 bytes. */
#define DEPTH 300
#define NAME "dddddddddddddddddddd"

static int depth_reached(int want)
{
	for (int i = 0; i < want; i++) {
		if (mkdir(NAME, 0755) && errno != EEXIST)
			return i;
		if (chdir(NAME))
			return i;
	}
	return want;
}

static void run(void)
{
	EXPECT_OK("chdir to the scratch directory", chdir(base));
	EXPECT_VAL("directories made and entered", depth_reached(DEPTH), DEPTH);
	char buf[4096];
	EXPECT_ERR("getcwd", syscall(SYS_getcwd, buf, sizeof buf), ENAMETOOLONG);
	EXPECT_ERR("readlink /proc/self/cwd", readlink("/proc/self/cwd", buf, sizeof buf),
		   ENAMETOOLONG);
	int fd = EXPECT_OK("create a file here", open("f", O_CREAT | O_WRONLY, 0644));
	close(fd);
	struct stat st;
	EXPECT_OK("stat ../" NAME "/f", stat("../" NAME "/f", &st));
	EXPECT_OK("unlink f", unlink("f"));
	/* Letting go of the whole chain at once. */
	EXPECT_OK("chdir back to the top by its absolute path", chdir(base));
	EXPECT_OK("getcwd at the top", syscall(SYS_getcwd, buf, sizeof buf));
	EXPECT_VAL("down again", depth_reached(DEPTH), DEPTH);
	int removed = 0;
	for (int i = 0; i < DEPTH; i++) {
		if (chdir("..") || rmdir(NAME))
			break;
		removed++;
	}
	EXPECT_VAL("directories left and removed", removed, DEPTH);
	EXPECT_OK("getcwd back at the top", syscall(SYS_getcwd, buf, sizeof buf));
}

int main(void)
{
	conformance_init();
	return scratch_everywhere(run);
}
