/* memfd_create(2) and file seals: the file's name in /proc/self/fd, its
 * mode and seals per flag, flag and name checks, read/write/mmap
 * coherence, and what each seal refuses (EPERM) with F_ADD_SEALS' own
 * errors. */
#include "conformance.h"
#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static long memfd(const char *name, unsigned flags)
{
	return syscall(SYS_memfd_create, name, flags);
}

static void print_link(int fd)
{
	char path[64], link[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		n = 0;
	link[n] = 0;
	printf("link: %s\n", link);
}

static void print_mode_seals(const char *label, int fd)
{
	struct stat st;
	fstat(fd, &st);
	printf("%s: mode %o nlink %ld seals %#x\n", label, st.st_mode, (long)st.st_nlink,
	       fcntl(fd, F_GET_SEALS));
}

int main(void)
{
	conformance_init();

	/* Names, modes, seals. */
	int fd = memfd("hello", 0);
	CHECK(fd >= 0);
	print_link(fd);
	print_mode_seals("plain", fd);
	EXPECT_VAL("F_GETFD", fcntl(fd, F_GETFD), 0);
	EXPECT_VAL("F_GETFL", fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	EXPECT_ERR("F_ADD_SEALS without MFD_ALLOW_SEALING", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(fd);
	fd = memfd("", MFD_CLOEXEC);
	print_link(fd);
	EXPECT_VAL("MFD_CLOEXEC F_GETFD", fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);
	fd = memfd("a/b c", MFD_ALLOW_SEALING);
	print_link(fd);
	print_mode_seals("MFD_ALLOW_SEALING", fd);
	close(fd);
	fd = memfd("x", MFD_NOEXEC_SEAL);
	print_mode_seals("MFD_NOEXEC_SEAL", fd);
	EXPECT_ERR("chmod +x under F_SEAL_EXEC", fchmod(fd, 0755), EPERM);
	EXPECT_OK("chmod keeping x bits", fchmod(fd, 0600));
	close(fd);
	fd = memfd("x", MFD_EXEC);
	print_mode_seals("MFD_EXEC", fd);
	close(fd);
	fd = memfd("x", MFD_EXEC | MFD_ALLOW_SEALING);
	print_mode_seals("MFD_EXEC|MFD_ALLOW_SEALING", fd);
	/* F_SEAL_EXEC on an executable file seals writes as well. */
	EXPECT_OK("F_SEAL_EXEC on 0777", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
	print_mode_seals("after F_SEAL_EXEC", fd);
	EXPECT_ERR("write after F_SEAL_EXEC", write(fd, "a", 1), EPERM);
	close(fd);

	/* Flag and name checks. */
	EXPECT_ERR("MFD_EXEC|MFD_NOEXEC_SEAL", memfd("x", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
	EXPECT_ERR("unknown flag", memfd("x", 0x20), EINVAL);
	EXPECT_ERR("high flag", memfd("x", 0x80000000u), EINVAL);
	EXPECT_ERR("huge size without MFD_HUGETLB", memfd("x", 21u << 26), EINVAL);
	EXPECT_ERR("bad name", memfd(BAD_PTR, 0), EFAULT);
	EXPECT_ERR("NULL name", memfd(NULL, 0), EFAULT);
	char name[300];
	memset(name, 'n', sizeof(name));
	name[249] = 0;
	fd = memfd(name, 0);
	CHECK(fd >= 0);
	close(fd);
	name[249] = 'n';
	name[250] = 0;
	EXPECT_ERR("250-byte name", memfd(name, 0), EINVAL);
	name[299] = 0;
	EXPECT_ERR("299-byte name", memfd(name, 0), EINVAL);

	/* Data: write, read, mmap MAP_SHARED sees both ways, a fork shares it. */
	fd = memfd("data", MFD_ALLOW_SEALING);
	EXPECT_VAL("write", write(fd, "hello", 5), 5);
	EXPECT_OK("ftruncate 8192", ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK(memcmp(m, "hello", 5) == 0);
	memcpy(m + 4096, "world", 5);
	char buf[8] = {0};
	EXPECT_VAL("pread mapped write", pread(fd, buf, 5, 4096), 5);
	CHECK(memcmp(buf, "world", 5) == 0);
	EXPECT_VAL("pwrite", pwrite(fd, "HELLO", 5, 0), 5);
	CHECK(memcmp(m, "HELLO", 5) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		memcpy(m + 100, "child", 5);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	EXPECT_VAL("pread child's write", pread(fd, buf, 5, 100), 5);
	CHECK(memcmp(buf, "child", 5) == 0);
	munmap(m, 8192);

	/* Seals. */
	EXPECT_ERR("F_ADD_SEALS unknown bit", fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);
	EXPECT_OK("F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	EXPECT_ERR("shrink", ftruncate(fd, 4096), EPERM);
	EXPECT_OK("grow", ftruncate(fd, 12288));
	EXPECT_OK("same size", ftruncate(fd, 12288));
	EXPECT_OK("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	EXPECT_ERR("grow sealed", ftruncate(fd, 16384), EPERM);
	EXPECT_VAL("write inside", pwrite(fd, "x", 1, 12287), 1);
	/* A write under F_SEAL_GROW stops at the end of the file. */
	EXPECT_VAL("write crossing the end", pwrite(fd, "xy", 2, 12287), 1);
	static char big[8192];
	EXPECT_VAL("long write crossing the end", pwrite(fd, big, 8192, 6000), 6288);
	EXPECT_ERR("write at the end", pwrite(fd, "xy", 2, 12288), EPERM);
	EXPECT_ERR("write past the end", pwrite(fd, "xy", 2, 20000), EPERM);
	EXPECT_VAL("empty write past the end", pwrite(fd, "xy", 0, 20000), 0);
	EXPECT_ERR("fallocate past the end", fallocate(fd, 0, 0, 16384), EPERM);
	EXPECT_ERR("fallocate KEEP_SIZE past the end",
		   fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 16384), EPERM);
	EXPECT_OK("fallocate inside", fallocate(fd, 0, 0, 4096));
	print_mode_seals("shrink|grow", fd);

	EXPECT_OK("F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_ERR("write sealed", write(fd, "a", 1), EPERM);
	EXPECT_VAL("empty write sealed", write(fd, "a", 0), 0);
	EXPECT_ERR("punch hole sealed",
		   fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), EPERM);
	EXPECT_ERR("mmap shared writable",
		   (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	EXPECT_ERR("mprotect to writable", mprotect(m, 4096, PROT_READ | PROT_WRITE), EACCES);
	munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	m[0] = 'p';
	munmap(m, 4096);
	EXPECT_VAL("read sealed", pread(fd, buf, 5, 0), 5);
	CHECK(memcmp(buf, "HELLO", 5) == 0);
	EXPECT_OK("F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	EXPECT_ERR("F_ADD_SEALS after F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE),
		   EPERM);
	EXPECT_ERR("F_ADD_SEALS 0 after F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, 0), EPERM);
	print_mode_seals("sealed", fd);

	/* F_ADD_SEALS needs a description open for writing. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	CHECK(ro >= 0);
	EXPECT_ERR("F_ADD_SEALS read-only", fcntl(ro, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	print_mode_seals("reopened", ro);
	close(ro);
	close(fd);

	/* F_SEAL_FUTURE_WRITE: an existing writable mapping keeps writing. */
	fd = memfd("future", MFD_ALLOW_SEALING);
	ftruncate(fd, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	EXPECT_OK("F_SEAL_FUTURE_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	memcpy(m, "old", 3);
	EXPECT_VAL("read old mapping's write", pread(fd, buf, 3, 0), 3);
	CHECK(memcmp(buf, "old", 3) == 0);
	EXPECT_ERR("write future-sealed", pwrite(fd, "a", 1, 0), EPERM);
	EXPECT_ERR("mmap shared writable future-sealed",
		   (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	EXPECT_OK("shrink future-sealed", ftruncate(fd, 0));
	munmap(m, 4096);
	close(fd);

	/* Seals of files that are not memfds. */
	int p[2];
	pipe(p);
	EXPECT_ERR("F_GET_SEALS pipe", fcntl(p[0], F_GET_SEALS), EINVAL);
	EXPECT_ERR("F_ADD_SEALS read end", fcntl(p[0], F_ADD_SEALS, F_SEAL_SEAL), EPERM);
	EXPECT_ERR("F_ADD_SEALS write end", fcntl(p[1], F_ADD_SEALS, F_SEAL_SEAL), EINVAL);
	close(p[0]);
	close(p[1]);
	int shm = open("/dev/shm", O_TMPFILE | O_RDWR, 0600);
	if (shm >= 0) {
		EXPECT_VAL("F_GET_SEALS tmpfs file", fcntl(shm, F_GET_SEALS), F_SEAL_SEAL);
		EXPECT_ERR("F_ADD_SEALS tmpfs file", fcntl(shm, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
		close(shm);
	} else {
		printf("F_GET_SEALS tmpfs file = 1\nF_ADD_SEALS tmpfs file: EPERM\n");
	}
	return conformance_done();
}
