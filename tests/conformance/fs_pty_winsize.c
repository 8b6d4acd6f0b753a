/* Window size: TIOCGWINSZ/TIOCSWINSZ from either end, and SIGWINCH to the
 * foreground process group when the size changes (not when it is set to
 * what it was). */
#include "pty_helpers.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t winch;
static void on_winch(int sig)
{
	(void)sig;
	winch++;
}

int main(void)
{
	conformance_init();
	int m, s;
	open_pair(&m, &s);
	struct winsize ws = { 1, 1, 1, 1 };
	EXPECT_VAL("TIOCGWINSZ new", ioctl(s, TIOCGWINSZ, &ws), 0);
	CHECK(ws.ws_row == 0 && ws.ws_col == 0 && ws.ws_xpixel == 0 && ws.ws_ypixel == 0);
	ws = (struct winsize){ 24, 80, 640, 480 };
	EXPECT_VAL("TIOCSWINSZ master", ioctl(m, TIOCSWINSZ, &ws), 0);
	struct winsize got;
	EXPECT_VAL("TIOCGWINSZ slave", ioctl(s, TIOCGWINSZ, &got), 0);
	CHECK(got.ws_row == 24 && got.ws_col == 80 && got.ws_xpixel == 640 && got.ws_ypixel == 480);
	ws.ws_col = 132;
	EXPECT_VAL("TIOCSWINSZ slave", ioctl(s, TIOCSWINSZ, &ws), 0);
	EXPECT_VAL("TIOCGWINSZ master", ioctl(m, TIOCGWINSZ, &got), 0);
	CHECK(got.ws_col == 132);
	EXPECT_ERR("TIOCSWINSZ bad pointer", ioctl(m, TIOCSWINSZ, BAD_PTR), EFAULT);
	EXPECT_ERR("TIOCGWINSZ bad pointer", ioctl(s, TIOCGWINSZ, BAD_PTR), EFAULT);

	int ready[2], go[2];
	pipe(ready);
	pipe(go);
	const char *path = ptsname(m);
	pid_t kid = fork();
	if (kid == 0) {
		close(m);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_winch;
		sigaction(SIGWINCH, &sa, NULL);
		setsid();
		int fd = open(path, O_RDWR);
		char c = fd >= 0 ? 'r' : 'x';
		write(ready[1], &c, 1);
		for (int want = 1; want <= 2; want++) {
			while (winch < want)
				usleep(1000);
			write(ready[1], "w", 1);
		}
		read(go[0], &c, 1);
		usleep(50000);
		_exit(winch == 2 ? 0 : 10 + winch);
	}
	char c;
	CHECK(read(ready[0], &c, 1) == 1 && c == 'r');
	ws.ws_row = 50;
	EXPECT_VAL("resize", ioctl(m, TIOCSWINSZ, &ws), 0);
	CHECK(read(ready[0], &c, 1) == 1 && c == 'w');
	EXPECT_VAL("same size again", ioctl(m, TIOCSWINSZ, &ws), 0);
	ws.ws_row = 60;
	EXPECT_VAL("resize again", ioctl(s, TIOCSWINSZ, &ws), 0);
	CHECK(read(ready[0], &c, 1) == 1 && c == 'w');
	write(go[1], "g", 1);
	int status;
	CHECK(waitpid(kid, &status, 0) == kid && WIFEXITED(status));
	EXPECT_VAL("SIGWINCH count (exit 0 means 2)", WEXITSTATUS(status), 0);
	return conformance_done();
}
