/*
 * A removed working directory (and an open removed directory): getcwd
 * gives ENOENT, /proc/self/cwd says " (deleted)", no name can be made or
 * listed in it (IS_DEADDIR), "." still opens and ".." still leads to its
 * last parent. Run in scratch directories (scratch.h).
 */
#include "scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static void run(void)
{
	EXPECT_OK("mkdir a", mkdir(at("a"), 0755));
	EXPECT_OK("mkdir a/b", mkdir(at("a/b"), 0755));
	EXPECT_OK("chdir a/b", chdir(at("a/b")));
	int dfd = EXPECT_OK("open a/b", open(at("a/b"), O_RDONLY | O_DIRECTORY));
	EXPECT_OK("rmdir a/b", rmdir(at("a/b")));
	show_cwd("cwd");
	char buf[4096];
	EXPECT_ERR("glibc getcwd", getcwd(buf, sizeof buf) ? 0 : -1, ENOENT);
	show_link("/proc/self/cwd", "/proc/self/cwd");
	show_fd("dir fd link", dfd);
	struct stat st;
	EXPECT_OK("stat .", stat(".", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK(st.st_nlink == 0);
	int dot = EXPECT_OK("open .", open(".", O_RDONLY | O_DIRECTORY));
	char dents[1024];
	EXPECT_ERR("getdents in it", syscall(SYS_getdents64, dot, dents, sizeof dents), ENOENT);
	close(dot);
	EXPECT_ERR("create x in it", open("x", O_CREAT | O_WRONLY, 0644), ENOENT);
	EXPECT_ERR("create ./x in it", openat(AT_FDCWD, "./x", O_CREAT | O_WRONLY, 0644), ENOENT);
	EXPECT_ERR("mkdir in it", mkdir("d", 0755), ENOENT);
	EXPECT_ERR("symlink in it", symlink("t", "l"), ENOENT);
	EXPECT_ERR("openat dfd x O_CREAT", openat(dfd, "x", O_CREAT | O_WRONLY, 0644), ENOENT);
	EXPECT_ERR("stat a name in it", stat("nothing", &st), ENOENT);
	/* Its old name is free: a new directory there is another one. */
	EXPECT_OK("mkdir a/b again", mkdir(at("a/b"), 0755));
	int fd = EXPECT_OK("create a/b/f", open(at("a/b/f"), O_CREAT | O_WRONLY, 0644));
	close(fd);
	EXPECT_ERR("f is not in the removed cwd", stat("f", &st), ENOENT);
	show_cwd("cwd with a twin at its old name");
	int up = EXPECT_OK("openat dfd ..", openat(dfd, "..", O_RDONLY | O_DIRECTORY));
	CHECK(fd_is(up, at("a")));
	close(up);
	EXPECT_OK("chdir ..", chdir(".."));
	show_cwd("cwd after ..");
	EXPECT_OK("b/f relative", stat("b/f", &st));
	close(dfd);

	/* A removed directory's parent renamed: ".." follows it. */
	EXPECT_OK("mkdir a/c", mkdir(at("a/c"), 0755));
	EXPECT_OK("chdir a/c", chdir(at("a/c")));
	EXPECT_OK("rmdir a/c", rmdir(at("a/c")));
	EXPECT_OK("rename a z", rename(at("a"), at("z")));
	show_link("/proc/self/cwd", "/proc/self/cwd");
	EXPECT_OK("chdir ..", chdir(".."));
	show_cwd("cwd after ..");
}

int main(void)
{
	conformance_init();
	return scratch_everywhere(run);
}
