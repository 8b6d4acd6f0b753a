/*
 * A working directory and open directories follow renames (fs/dcache.c's
 * d_move): getcwd, relative lookups, `..`, openat and /proc/self/fd links
 * name the directory itself, whatever it is called now, whether it was
 * renamed by this process or by a child. Run in scratch directories
 * (scratch.h).
 */
#include "scratch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Whether the paths name one file. */
static int same_ino(const char *a, const char *b)
{
	struct stat x, y;
	if (stat(a, &x) || stat(b, &y))
		return 0;
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static void run(void)
{
	EXPECT_OK("mkdir a", mkdir(at("a"), 0755));
	EXPECT_OK("mkdir a/b", mkdir(at("a/b"), 0755));
	EXPECT_OK("chdir a/b", chdir(at("a/b")));
	show_cwd("cwd");
	show_link("/proc/self/cwd", "/proc/self/cwd");

	/* Renamed by this process. */
	EXPECT_OK("rename a c", rename(at("a"), at("c")));
	show_cwd("cwd after rename");
	show_link("/proc/self/cwd after rename", "/proc/self/cwd");
	int fd = EXPECT_OK("create f relative", open("f", O_CREAT | O_WRONLY, 0644));
	close(fd);
	CHECK(access(at("c/b/f"), F_OK) == 0);
	CHECK(same_ino("..", at("c")));
	fd = EXPECT_OK("create ../x", open("../x", O_CREAT | O_WRONLY, 0644));
	close(fd);
	CHECK(access(at("c/x"), F_OK) == 0);
	/* A new directory at the old name is another one. */
	EXPECT_OK("mkdir a again", mkdir(at("a"), 0755));
	EXPECT_OK("mkdir a/b again", mkdir(at("a/b"), 0755));
	EXPECT_ERR("the old path's twin has no f", access(at("a/b/f"), F_OK), ENOENT);
	EXPECT_OK("f is still relative to the cwd", access("f", F_OK));

	/* Renamed by a child. */
	pid_t pid = fork();
	if (pid == 0) {
		int ok = rename(at("c"), at("d")) == 0;
		_exit(ok ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	show_cwd("cwd after the child's rename");
	EXPECT_OK("f relative after the child's rename", access("f", F_OK));
	CHECK(same_ino("..", at("d")));
	EXPECT_OK("chdir ..", chdir(".."));
	show_cwd("cwd after ..");
	EXPECT_OK("x relative", access("x", F_OK));

	/* An open directory. */
	int dfd = EXPECT_OK("open d/b", open(at("d/b"), O_RDONLY | O_DIRECTORY));
	EXPECT_OK("rename d/b d/e", rename(at("d/b"), at("d/e")));
	show_fd("dir fd link", dfd);
	EXPECT_OK("openat dfd f", fd = openat(dfd, "f", O_RDONLY));
	close(fd);
	EXPECT_OK("mkdir d/b (a new one)", mkdir(at("d/b"), 0755));
	EXPECT_OK("create d/b/g", fd = open(at("d/b/g"), O_CREAT | O_WRONLY, 0644));
	close(fd);
	EXPECT_ERR("openat dfd g (in the new d/b)", openat(dfd, "g", O_RDONLY), ENOENT);
	int up = EXPECT_OK("openat dfd ..", openat(dfd, "..", O_RDONLY | O_DIRECTORY));
	CHECK(fd_is(up, at("d")));
	close(up);
	EXPECT_OK("fchdir dfd", fchdir(dfd));
	show_cwd("cwd after fchdir");

	/* An open file, then its directory, renamed. */
	int ffd = EXPECT_OK("open d/e/f", open(at("d/e/f"), O_RDONLY));
	EXPECT_OK("rename d/e/f d/e/f2", rename(at("d/e/f"), at("d/e/f2")));
	show_fd("file fd link", ffd);
	EXPECT_OK("rename d z", rename(at("d"), at("z")));
	show_fd("file fd link after its grandparent moved", ffd);
	show_fd("dir fd link after its parent moved", dfd);
	show_cwd("cwd after its parent moved");
	EXPECT_OK("f2 relative", access("f2", F_OK));
	CHECK(fd_is(ffd, "f2"));

	/* Exchanged. */
	EXPECT_OK("mkdir y", mkdir(at("y"), 0755));
	EXPECT_OK("exchange z y", syscall(SYS_renameat2, AT_FDCWD, at("z"), AT_FDCWD, at("y"), 2));
	show_cwd("cwd after exchange");
	show_fd("file fd link after exchange", ffd);
	close(ffd);
	close(dfd);

	/* A directory moved below another one. */
	EXPECT_OK("mkdir y/e/deep", mkdir(at("y/e/deep"), 0755));
	EXPECT_OK("chdir y/e/deep", chdir(at("y/e/deep")));
	EXPECT_OK("rename y/e z/e2", rename(at("y/e"), at("z/e2")));
	show_cwd("cwd moved to another parent");
	CHECK(same_ino("../..", at("z")));
	EXPECT_ERR("moving a directory below itself", rename(at("z"), at("z/e2/deep/z")), EINVAL);
}

int main(void)
{
	conformance_init();
	return scratch_everywhere(run);
}
