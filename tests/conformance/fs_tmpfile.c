/*
 * fs_tmpfile: see the checks below; runs in a fresh directory under /tmp
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

int main(void)
{
	conformance_init();
	enter_tmpdir();
	int fd = EXPECT_OK("O_TMPFILE", open(".", O_TMPFILE | O_RDWR, 0600));
	EXPECT_VAL("write", write(fd, "tmp", 3), 3);
	struct stat st;
	EXPECT_OK("fstat", fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_nlink == 0 && st.st_size == 3);
	CHECK((st.st_mode & 0777) == 0600);
	EXPECT_OK("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH));
	EXPECT_OK("stat named", stat("named", &st));
	CHECK(st.st_size == 3 && st.st_nlink == 1);
	close(fd);
	fd = EXPECT_OK("O_TMPFILE|O_EXCL", open(".", O_TMPFILE | O_EXCL | O_WRONLY, 0600));
	EXPECT_ERR("linkat of an O_EXCL tmpfile", linkat(fd, "", AT_FDCWD, "x", AT_EMPTY_PATH), ENOENT);
	close(fd);
	EXPECT_ERR("O_TMPFILE read-only", open(".", O_TMPFILE | O_RDONLY, 0600), EINVAL);
	EXPECT_ERR("O_TMPFILE on a file", open("named", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	EXPECT_ERR("O_TMPFILE missing dir", open("nope", O_TMPFILE | O_RDWR, 0600), ENOENT);
	int count = 0;
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	struct { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; } *d;
	char dents[4096];
	long n = syscall(SYS_getdents64, dfd, dents, sizeof dents);
	for (long off = 0; off < n; off += d->reclen) { d = (void *)(dents + off); count++; }
	CHECK(count == 3);
	close(dfd);
	unlink("named");
	leave_tmpdir();
	return conformance_done();
}
