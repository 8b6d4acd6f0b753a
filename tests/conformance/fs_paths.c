/*
 * The path walk: symlinks, "..", trailing slashes, O_NOFOLLOW, O_PATH,
 * and the ENOENT/ENOTDIR/ELOOP/ENAMETOOLONG cases.
 */
#include "conformance.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static int same(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int main(void)
{
	conformance_init();
	CHECK(same("/../../etc/passwd", "/etc/passwd"));
	CHECK(same("/etc/../etc/./passwd", "/etc/passwd"));
	CHECK(same("//etc///passwd", "/etc/passwd"));
	CHECK(same("/usr/../../../etc/passwd", "/etc/passwd"));
	/* /bin -> usr/bin, so /bin/.. is /usr. */
	CHECK(same("/bin/..", "/usr"));
	struct stat st;
	EXPECT_ERR("/bin/../etc/passwd", stat("/bin/../etc/passwd", &st), ENOENT);
	CHECK(same("/bin/sh", "/usr/bin/dash"));
	CHECK(same("/bin/../bin/sh", "/usr/bin/dash"));

	EXPECT_ERR("O_NOFOLLOW on a symlink", open("/bin/sh", O_RDONLY | O_NOFOLLOW), ELOOP);
	EXPECT_OK("O_NOFOLLOW on an intermediate symlink", open("/bin/dash", O_RDONLY | O_NOFOLLOW));
	int p = EXPECT_OK("O_PATH|O_NOFOLLOW on a symlink", open("/bin/sh", O_PATH | O_NOFOLLOW));
	char c;
	EXPECT_ERR("read O_PATH", read(p, &c, 1), EBADF);
	EXPECT_VAL("F_GETFL O_PATH", fcntl(p, F_GETFL) & ~O_LARGEFILE, O_PATH | O_NOFOLLOW);
	EXPECT_ERR("O_DIRECTORY on a symlink to a file", open("/bin/sh", O_RDONLY | O_DIRECTORY), ENOTDIR);
	EXPECT_OK("O_DIRECTORY on a symlink to a dir", open("/bin", O_RDONLY | O_DIRECTORY));
	EXPECT_ERR("O_DIRECTORY|O_NOFOLLOW on a dir symlink", open("/bin", O_RDONLY | O_DIRECTORY | O_NOFOLLOW), ENOTDIR);
	EXPECT_OK("trailing slash follows the link", open("/bin/", O_RDONLY | O_NOFOLLOW));

	EXPECT_ERR("ENOENT", open("/nonexistent-carapace/x", O_RDONLY), ENOENT);
	EXPECT_ERR("ENOTDIR", open("/etc/passwd/x", O_RDONLY), ENOTDIR);
	EXPECT_ERR("ENOTDIR via ..", open("/etc/passwd/..", O_RDONLY), ENOTDIR);
	EXPECT_ERR("ENOTDIR via .", open("/etc/passwd/.", O_RDONLY), ENOTDIR);
	char name[300];
	memset(name, 'a', sizeof name);
	name[0] = '/';
	name[257] = 0;
	EXPECT_ERR("component of 256 bytes", open(name, O_RDONLY), ENAMETOOLONG);
	name[256] = 0;
	EXPECT_ERR("component of 255 bytes", open(name, O_RDONLY), ENOENT);
	static char longpath[PATH_MAX + 10];
	for (int i = 0; i < PATH_MAX + 8; i += 2) {
		longpath[i] = '/';
		longpath[i + 1] = '.';
	}
	longpath[PATH_MAX] = 0;
	EXPECT_ERR("path of PATH_MAX bytes", open(longpath, O_RDONLY), ENAMETOOLONG);
	longpath[PATH_MAX - 1] = 0;
	EXPECT_OK("path of PATH_MAX-1 bytes", open(longpath, O_RDONLY));
	/* Many components through a symlink chain stay in bounds. */
	EXPECT_OK("/bin/../bin/../bin/sh", open("/bin/../bin/../bin/sh", O_RDONLY));
	return conformance_done();
}
