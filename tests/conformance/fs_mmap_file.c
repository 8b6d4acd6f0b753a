/*
 * fs_mmap_file: see the checks below; runs in a fresh directory under /tmp
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

#include <sys/mman.h>
int main(void)
{
	conformance_init();
	enter_tmpdir();
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	char data[10000];
	for (int i = 0; i < (int)sizeof data; i++) data[i] = 'a' + i % 26;
	CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
	char *p = mmap(NULL, sizeof data, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(memcmp(p, data, sizeof data) == 0);
	/* The rest of the last page reads as zeros. */
	CHECK(p[sizeof data] == 0 && p[12287] == 0);
	munmap(p, sizeof data);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
	CHECK(p != MAP_FAILED);
	CHECK(p[0] == data[4096]);
	p[0] = '#';
	char c;
	EXPECT_VAL("pread", pread(fd, &c, 1, 4096), 1);
	CHECK(c == data[4096]);
	munmap(p, 4096);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(p[25] == 'z');
	munmap(p, 4096);
	close(fd);
	fd = open("f", O_RDONLY);
	EXPECT_ERR("MAP_SHARED|PROT_WRITE on O_RDONLY", (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
	close(fd);
	fd = open("f", O_WRONLY);
	EXPECT_ERR("mmap of O_WRONLY", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0), EACCES);
	close(fd);
	unlink("f");
	leave_tmpdir();
	return conformance_done();
}
