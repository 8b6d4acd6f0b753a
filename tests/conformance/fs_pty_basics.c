/* Pseudo-terminals: posix_openpt/grantpt/unlockpt/ptsname, the slave node
 * in /dev/pts (locked until unlockpt, gone when the master closes),
 * TIOCGPTN/TIOCGPTLCK/TIOCGPTPEER, ttyname and /proc/self/fd links, stat
 * and statfs of both ends, isatty, and the errors of the master-only ioctls
 * on the slave. Pty numbers depend on the host, so only properties print. */
#include "conformance.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>

#define DEVPTS_SUPER_MAGIC 0x1cd1

static int in_dev_pts(const char *name)
{
	DIR *d = opendir("/dev/pts");
	struct dirent *e;
	int found = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, name) == 0)
			found = e->d_type == DT_CHR;
	closedir(d);
	return found;
}

int main(void)
{
	conformance_init();
	struct stat st;
	struct statfs sfs;

	EXPECT_OK("stat /dev/ptmx", stat("/dev/ptmx", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 2);
	CHECK((st.st_mode & 0777) == 0666);
	EXPECT_OK("stat /dev/pts", stat("/dev/pts", &st));
	CHECK(S_ISDIR(st.st_mode));
	EXPECT_OK("statfs /dev/pts", statfs("/dev/pts", &sfs));
	CHECK(sfs.f_type == DEVPTS_SUPER_MAGIC);
	EXPECT_OK("lstat /dev/pts/ptmx", lstat("/dev/pts/ptmx", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 2);
	CHECK(in_dev_pts("ptmx") == 1);

	int m = EXPECT_OK("posix_openpt", posix_openpt(O_RDWR | O_NOCTTY));
	CHECK(isatty(m));
	unsigned n;
	EXPECT_VAL("TIOCGPTN", ioctl(m, TIOCGPTN, &n), 0);
	EXPECT_ERR("TIOCGPTN bad pointer", ioctl(m, TIOCGPTN, BAD_PTR), EFAULT);
	char want[64], name[64];
	snprintf(want, sizeof want, "/dev/pts/%u", n);
	CHECK(ptsname(m) && strcmp(ptsname(m), want) == 0);
	snprintf(name, sizeof name, "%u", n);
	CHECK(in_dev_pts(name) == 1);
	int locked = -1;
	EXPECT_VAL("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &locked), 0);
	CHECK(locked == 1);
	EXPECT_ERR("open locked slave", open(want, O_RDWR | O_NOCTTY), EIO);
	EXPECT_ERR("TIOCGPTPEER locked", ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY), EIO);
	EXPECT_VAL("grantpt", grantpt(m), 0);
	EXPECT_VAL("unlockpt", unlockpt(m), 0);
	EXPECT_VAL("TIOCGPTLCK after unlock", ioctl(m, TIOCGPTLCK, &locked), 0);
	CHECK(locked == 0);

	int s = EXPECT_OK("open slave", open(want, O_RDWR | O_NOCTTY));
	CHECK(isatty(s));
	CHECK(ttyname(s) && strcmp(ttyname(s), want) == 0);
	char link[64], target[128];
	snprintf(link, sizeof link, "/proc/self/fd/%d", s);
	ssize_t len = readlink(link, target, sizeof target - 1);
	CHECK(len > 0 && (target[len] = 0, strcmp(target, want) == 0));
	snprintf(link, sizeof link, "/proc/self/fd/%d", m);
	len = readlink(link, target, sizeof target - 1);
	CHECK(len > 0 && (target[len] = 0, strcmp(target, "/dev/ptmx") == 0));

	EXPECT_OK("fstat slave", fstat(s, &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 && minor(st.st_rdev) == n);
	CHECK((st.st_mode & 0777) == 0600 || (st.st_mode & 0777) == 0620);
	CHECK(st.st_uid == geteuid());
	struct stat st2;
	EXPECT_OK("stat slave path", stat(want, &st2));
	CHECK(st2.st_ino == st.st_ino && st2.st_rdev == st.st_rdev && st2.st_dev == st.st_dev);
	EXPECT_OK("fstatfs slave", fstatfs(s, &sfs));
	CHECK(sfs.f_type == DEVPTS_SUPER_MAGIC);
	EXPECT_OK("fstat master", fstat(m, &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 2);
	EXPECT_ERR("lseek slave", lseek(s, 0, SEEK_SET), ESPIPE);
	EXPECT_ERR("ftruncate master", ftruncate(m, 0), EINVAL);
	EXPECT_ERR("ftruncate slave", ftruncate(s, 0), EINVAL);
	EXPECT_ERR("truncate slave path", truncate(want, 0), EINVAL);
	EXPECT_ERR("truncate /dev/ptmx", truncate("/dev/ptmx", 0), EINVAL);
	int tr = EXPECT_OK("open slave O_TRUNC", open(want, O_RDWR | O_NOCTTY | O_TRUNC));
	close(tr);

	/* The owner may change the node's mode (mesg does), owner and times. */
	EXPECT_VAL("chmod slave 0620", chmod(want, 0620), 0);
	EXPECT_OK("stat after chmod", stat(want, &st2));
	CHECK((st2.st_mode & 07777) == 0620 && S_ISCHR(st2.st_mode));
	EXPECT_VAL("fchmod slave 0600", fchmod(s, 0600), 0);
	EXPECT_OK("fstat after fchmod", fstat(s, &st2));
	CHECK((st2.st_mode & 07777) == 0600);
	EXPECT_VAL("chown slave to itself", chown(want, geteuid(), getegid()), 0);
	struct timespec times[2] = { { 1000, 0 }, { 2000, 0 } };
	EXPECT_VAL("utimensat slave", utimensat(AT_FDCWD, want, times, 0), 0);
	EXPECT_OK("stat after utimensat", stat(want, &st2));
	CHECK(st2.st_atime == 1000 && st2.st_mtime == 2000);

	int peer = EXPECT_OK("TIOCGPTPEER", ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	CHECK(ttyname(peer) && strcmp(ttyname(peer), want) == 0);
	close(peer);

	int v;
	EXPECT_ERR("slave TIOCGPTN", ioctl(s, TIOCGPTN, &v), ENOTTY);
	EXPECT_ERR("slave TIOCSPTLCK", ioctl(s, TIOCSPTLCK, &v), ENOTTY);
	EXPECT_ERR("slave TIOCGPTPEER", ioctl(s, TIOCGPTPEER, O_RDWR), EIO);
	EXPECT_ERR("slave TIOCGPGRP, not the controlling tty", ioctl(s, TIOCGPGRP, &v), ENOTTY);
	EXPECT_ERR("master TIOCGSID, no session", ioctl(m, TIOCGSID, &v), ENOTTY);
	EXPECT_ERR("master TIOCNOTTY", ioctl(m, TIOCNOTTY), ENOTTY);
	EXPECT_ERR("unknown ioctl", ioctl(m, 0x54ff, 0), ENOTTY);
	EXPECT_ERR("TCGETS bad pointer", ioctl(s, TCGETS, BAD_PTR), EFAULT);
	EXPECT_ERR("TCFLSH bad arg", ioctl(s, TCFLSH, 5), EINVAL);
	EXPECT_ERR("TCXONC bad arg", ioctl(s, TCXONC, 7), EINVAL);
	EXPECT_VAL("TIOCOUTQ", ioctl(s, TIOCOUTQ, &v), 0);
	CHECK(v == 0);
	EXPECT_VAL("TIOCGETD", ioctl(m, TIOCGETD, &v), 0);
	CHECK(v == 0);
	EXPECT_ERR("isatty /dev/null", ioctl(open("/dev/null", O_RDONLY), TCGETS, &(struct termios){0}), ENOTTY);

	/* Default termios of a new terminal, seen from either end. */
	struct termios t;
	EXPECT_OK("tcgetattr slave", tcgetattr(s, &t));
	CHECK((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG));
	CHECK((t.c_iflag & ICRNL) && (t.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR));
	CHECK(t.c_cc[VERASE] == 0177 && t.c_cc[VINTR] == 3 && t.c_cc[VEOF] == 4 && t.c_cc[VMIN] == 1);
	CHECK(cfgetospeed(&t) == B38400);
	/* TCGETS2: the same settings and the speeds (struct termios2 of
	 * asm/termbits.h, which clashes with glibc's termios.h). */
	struct {
		unsigned iflag, oflag, cflag, lflag;
		unsigned char line, cc[19];
		unsigned ispeed, ospeed;
	} t2;
	EXPECT_VAL("TCGETS2", ioctl(m, 0x802C542A, &t2), 0);
	CHECK(t2.lflag == t.c_lflag && t2.iflag == t.c_iflag && t2.ispeed == 38400 && t2.ospeed == 38400);
	t.c_lflag &= ~ECHO;
	EXPECT_OK("tcsetattr slave", tcsetattr(s, TCSANOW, &t));
	EXPECT_OK("tcgetattr master", tcgetattr(m, &t));
	CHECK(!(t.c_lflag & ECHO));

	/* The node goes with the master, even with the slave still open. */
	close(m);
	EXPECT_ERR("stat slave after master close", stat(want, &st), ENOENT);
	CHECK(in_dev_pts(name) == 0);
	EXPECT_VAL("slave read after hangup", read(s, target, sizeof target), 0);
	EXPECT_ERR("slave write after hangup", write(s, "x", 1), EIO);
	EXPECT_ERR("slave tcgetattr after hangup", tcgetattr(s, &t), EIO);
	close(s);

	/* O_NONBLOCK and O_CLOEXEC through posix_openpt and open. */
	m = EXPECT_OK("open /dev/ptmx nonblocking", open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK));
	CHECK(fcntl(m, F_GETFL) & O_NONBLOCK);
	EXPECT_ERR("read empty master", read(m, target, 1), EAGAIN);
	close(m);
	return conformance_done();
}
