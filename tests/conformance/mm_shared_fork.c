/*
 * Two processes share a file through MAP_SHARED: a mapping inherited
 * across fork and a mapping the child makes itself both write the pages
 * the parent maps and reads with read(2); a MAP_PRIVATE mapping stays
 * private across fork; POSIX shared memory is shared the same way.
 */
#include "mm_shared.h"

#include <sys/wait.h>

static int wait_child(pid_t pid)
{
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
	conformance_init();
	int fd = temp_file(NULL, 0);
	CHECK(fd >= 0);
	EXPECT_OK("ftruncate", ftruncate(fd, 2 * PG));
	char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && p != MAP_FAILED);
	m[0] = 'p';
	CHECK(p[0] == 'p');
	p[1] = 'x';
	int go[2], back[2];
	EXPECT_OK("pipe", pipe(go));
	EXPECT_OK("pipe", pipe(back));

	pid_t pid = fork();
	if (pid == 0) {
		char c;
		/* The inherited mapping is shared, written in page 1 as well. */
		int bad = m[0] != 'p';
		m[1] = 'c';
		m[PG + 1] = 'C';
		/* The private mapping is the child's own copy. */
		bad |= p[1] != 'x';
		p[1] = 'y';
		/* A mapping of the child's own. */
		char *own = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (own == MAP_FAILED)
			_exit(2);
		own[2] = 'o';
		bad |= own[1] != 'c';
		if (write(back[1], "1", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		/* The parent wrote since. */
		bad |= own[3] != 'P' || m[4] != 'w';
		_exit(bad);
	}
	CHECK(pid > 0);
	char c;
	EXPECT_VAL("child ready", read(back[0], &c, 1), 1);
	CHECK(m[1] == 'c' && m[2] == 'o' && m[PG + 1] == 'C');
	char buf[3];
	EXPECT_VAL("pread", pread(fd, buf, 3, 0), 3);
	CHECK(memcmp(buf, "pco", 3) == 0);
	CHECK(p[1] == 'x');
	m[3] = 'P';
	EXPECT_VAL("pwrite", pwrite(fd, "w", 1, 4), 1);
	EXPECT_VAL("go", write(go[1], "1", 1), 1);
	EXPECT_VAL("child status", wait_child(pid), 0);
	/* The child's mappings are gone; the data stays. */
	EXPECT_VAL("pread page 1", pread(fd, buf, 1, PG + 1), 1);
	CHECK(buf[0] == 'C');
	munmap(m, 2 * PG);
	munmap(p, PG);
	close(fd);

	/* POSIX shared memory (a file in /dev/shm) works the same way. */
	char name[64];
	snprintf(name, sizeof(name), "/carapace_mm_shared_fork_%d", getpid());
	int sfd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(sfd >= 0);
	EXPECT_OK("shm_unlink", shm_unlink(name));
	EXPECT_OK("ftruncate shm", ftruncate(sfd, PG));
	char *sm = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	CHECK(sm != MAP_FAILED);
	pid = fork();
	if (pid == 0) {
		sm[0] = 's';
		_exit(0);
	}
	EXPECT_VAL("shm child status", wait_child(pid), 0);
	CHECK(sm[0] == 's');
	EXPECT_VAL("pread shm", pread(sfd, buf, 1, 0), 1);
	CHECK(buf[0] == 's');
	close(sfd);
	return conformance_done();
}
