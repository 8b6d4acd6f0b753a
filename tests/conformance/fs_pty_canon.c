/* The line discipline in canonical mode: ERASE, WERASE, KILL, EOF, EOL and
 * LNEXT editing, the echoes (ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL, ECHONL),
 * input mapping (ICRNL, INLCR, IGNCR), output processing (ONLCR, OCRNL),
 * IUTF8 erasing, FIONREAD, TCFLSH, and the longest line. */
#include "pty_helpers.h"

static int m, s;

/* Types `in` at the master; the slave reads one line. */
static void line(const char *label, const char *in)
{
	char buf[8192];
	if (write(m, in, strlen(in)) != (ssize_t)strlen(in))
		printf("FAIL: write master\n");
	ssize_t n = read(s, buf, sizeof buf);
	print_escaped(label, buf, n < 0 ? 0 : n);
}

static void set_lflag(tcflag_t on, tcflag_t off)
{
	struct termios t;
	tcgetattr(s, &t);
	t.c_lflag = (t.c_lflag | on) & ~off;
	tcsetattr(s, TCSANOW, &t);
}

int main(void)
{
	conformance_init();
	open_pair(&m, &s);
	struct termios t;
	tcgetattr(s, &t);
	t.c_cc[VERASE] = '\b';
	tcsetattr(s, TCSANOW, &t);

	line("erase", "abc\b\bd\n");
	read_some("erase echo", m, 20);
	line("cr mapped", "x\r");
	read_some("cr echo", m, 3);
	line("kill", "junk\025ok\n");
	read_some("kill echo", m, 40);
	line("werase", "one two\027three\n");
	read_some("werase echo", m, 40);
	line("control echo", "a\001b\n");
	read_some("control echo", m, 8);
	line("erase control", "a\001\b\n");
	read_some("erase control echo", m, 20);
	line("lnext", "a\026\bb\n");
	read_some("lnext echo", m, 20);
	line("tab erase", "ab\t\bc\n");
	read_some("tab erase echo", m, 20);

	/* Multibyte characters: bytes are erased one by one unless IUTF8. */
	line("non-ASCII", "a\xe2\x82\xac\x85\n");
	read_some("non-ASCII echo", m, 20);
	line("erase without IUTF8", "a\xc3\xa9\b\n");
	read_some("erase without IUTF8 echo", m, 20);
	tcgetattr(s, &t);
	t.c_iflag |= IUTF8;
	tcsetattr(s, TCSANOW, &t);
	line("erase with IUTF8", "a\xc3\xa9\b\n");
	read_some("erase with IUTF8 echo", m, 20);
	line("erase a tab after UTF-8", "a\xe2\x82\xac\t\b\b\n");
	read_some("erase a tab after UTF-8 echo", m, 30);
	t.c_iflag &= ~IUTF8;
	tcsetattr(s, TCSANOW, &t);

	/* EOF ends a line without being read; alone it reads as end of file. */
	line("eof", "pa\004");
	line("eof alone", "\004");
	read_some("eof echo", m, 2);

	/* FIONREAD counts complete lines only. */
	int avail = -1;
	write(m, "12\n3", 4);
	CHECK(wait_for(s, POLLIN, 1000));
	EXPECT_VAL("FIONREAD", ioctl(s, FIONREAD, &avail), 0);
	CHECK(avail == 3);
	char buf[8192];
	EXPECT_VAL("short read takes part of a line", read(s, buf, 1), 1);
	EXPECT_VAL("rest of the line", read(s, buf, sizeof buf), 2);
	EXPECT_VAL("TCFLSH TCIFLUSH", ioctl(s, TCFLSH, TCIFLUSH), 0);
	line("after flush", "4\n");
	read_some("flush echo", m, 20);
	EXPECT_VAL("TCFLSH TCOFLUSH on the master's side", ioctl(s, TCFLSH, TCOFLUSH), 0);

	/* ECHOE off echoes the erase character; ECHOK without ECHOKE a newline. */
	set_lflag(0, ECHOE);
	line("no echoe", "ab\bc\n");
	read_some("no echoe echo", m, 20);
	set_lflag(ECHOE, ECHOKE);
	line("echok", "ab\025c\n");
	read_some("echok echo", m, 20);
	set_lflag(ECHOKE, ECHOCTL);
	line("no echoctl", "a\001\n");
	read_some("no echoctl echo", m, 8);
	set_lflag(ECHONL | ECHOCTL, ECHO);
	line("echonl", "quiet\n");
	read_some("echonl echo", m, 8);
	set_lflag(ECHO, ECHONL);

	/* EOL ends a line too. */
	tcgetattr(s, &t);
	t.c_cc[VEOL] = ';';
	t.c_iflag |= INLCR;
	t.c_oflag |= OCRNL;
	tcsetattr(s, TCSANOW, &t);
	line("eol", "semi;");
	read_some("eol echo", m, 8);
	line("inlcr: newline becomes cr", "n\n;");
	read_some("inlcr echo", m, 8);
	write(s, "a\rb\n", 4);
	read_some("ocrnl output", m, 8);
	t.c_iflag = (t.c_iflag & ~(INLCR | ICRNL)) | IGNCR;
	t.c_oflag &= ~OCRNL;
	tcsetattr(s, TCSANOW, &t);
	line("igncr", "i\rgn\n");
	read_some("igncr echo", m, 8);

	/* Output processing: ONLCR, then raw with OPOST off. */
	write(s, "out\n", 4);
	read_some("onlcr", m, 5);
	t.c_oflag &= ~OPOST;
	tcsetattr(s, TCSANOW, &t);
	write(s, "raw\n", 4);
	read_some("no opost", m, 4);

	/* The longest line: 4096 bytes, the newline last (it overwrites the
	 * last byte of a full buffer). */
	set_lflag(0, ECHO);
	static char big[5000];
	memset(big, 'x', sizeof big);
	EXPECT_VAL("write 5000 without a newline", write(m, big, sizeof big), 5000);
	write(m, "\n", 1);
	ssize_t n = read(s, buf, sizeof buf);
	CHECK(n == 4096 && buf[4095] == '\n');
	CHECK(!wait_for(s, POLLIN, 100));
	return conformance_done();
}
