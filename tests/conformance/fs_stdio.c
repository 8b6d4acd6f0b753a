/*
 * The standard streams: stdout is a pipe the harness reads, in both runs.
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

int main(void)
{
	conformance_init();
	struct stat st;
	EXPECT_OK("fstat stdout", fstat(1, &st));
	printf("stdout is a fifo: %d\n", S_ISFIFO(st.st_mode));
	int fl = fcntl(1, F_GETFL);
	CHECK(fl != -1 && (fl & O_ACCMODE) != O_RDONLY);
	EXPECT_VAL("write stdout", write(1, "line\n", 5), 5);
	struct iovec { const void *b; size_t l; } v[2] = {{"vec", 3}, {"tor\n", 4}};
	EXPECT_VAL("writev stdout", syscall(SYS_writev, 1, v, 2), 7);
	printf("isatty(1): %d\n", isatty(1));
	struct winsize ws;
	struct termios t;
	if (S_ISFIFO(st.st_mode)) {
		EXPECT_ERR("TIOCGWINSZ on a pipe", ioctl(1, TIOCGWINSZ, &ws), ENOTTY);
		EXPECT_ERR("TCGETS on a pipe", ioctl(1, TCGETS, &t), ENOTTY);
		EXPECT_ERR("lseek a pipe", lseek(1, 0, SEEK_CUR), ESPIPE);
		EXPECT_ERR("pwrite a pipe", pwrite(1, "x", 1, 0), ESPIPE);
	}
	int d = EXPECT_OK("dup stdout", dup(1));
	EXPECT_VAL("write through the dup", write(d, "dup\n", 4), 4);
	EXPECT_ERR("ioctl unknown on stdout", ioctl(1, 0x5499, 0), ENOTTY);
	EXPECT_OK("F_SETFL O_NONBLOCK on stdout", fcntl(1, F_SETFL, fl | O_NONBLOCK));
	EXPECT_OK("F_SETFL back", fcntl(1, F_SETFL, fl));
	return conformance_done();
}
