/*
 * fs_readdir_changing: see the checks below; runs in a fresh directory under /tmp
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

#include <dirent.h>
struct linux_dirent64 { unsigned long long d_ino; long long d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };
static int seen[200];
static int dupes, strays;
static void note(const char *name)
{
	if (name[0] == 'f') {
		int i = atoi(name + 1);
		if (i >= 0 && i < 200) { if (seen[i]++) dupes++; }
	} else if (strcmp(name, ".") && strcmp(name, "..")) {
		strays++;
	}
}
static int read_some(int fd, char *buf, int size)
{
	int n = syscall(SYS_getdents64, fd, buf, size);
	for (int off = 0; off < n;) {
		struct linux_dirent64 *d = (void *)(buf + off);
		note(d->d_name);
		off += d->d_reclen;
	}
	return n;
}
int main(void)
{
	conformance_init();
	enter_tmpdir();
	char name[16], buf[256];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "f%d", i);
		close(open(name, O_CREAT | O_WRONLY, 0644));
	}
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	CHECK(read_some(fd, buf, sizeof buf) > 0);
	/* Change the directory while it is being listed: remove the odd files, add new ones. */
	for (int i = 1; i < 100; i += 2) {
		snprintf(name, sizeof name, "f%d", i);
		unlink(name);
	}
	for (int i = 100; i < 150; i++) {
		snprintf(name, sizeof name, "f%d", i);
		close(open(name, O_CREAT | O_WRONLY, 0644));
	}
	while (read_some(fd, buf, sizeof buf) > 0)
		;
	int even_once = 1;
	for (int i = 0; i < 100; i += 2) if (seen[i] != 1) even_once = 0;
	CHECK(even_once);
	CHECK(dupes == 0 && strays == 0);
	/* A fresh listing from the start sees exactly the current names. */
	memset(seen, 0, sizeof seen);
	EXPECT_VAL("rewind", lseek(fd, 0, SEEK_SET), 0);
	while (read_some(fd, buf, sizeof buf) > 0)
		;
	int exact = 1;
	for (int i = 0; i < 150; i++) {
		int want = (i < 100) ? (i % 2 == 0) : 1;
		if (seen[i] != want) exact = 0;
	}
	CHECK(exact && dupes == 0);
	close(fd);
	/* readdir(3) while deleting every entry it returns (rm -r style). */
	DIR *d = opendir(".");
	struct dirent *e;
	int removed = 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] == 'f' && unlink(e->d_name) == 0) removed++;
	closedir(d);
	CHECK(removed == 100);
	leave_tmpdir();
	return conformance_done();
}
