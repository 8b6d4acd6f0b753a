// conformance: static-only -nostdlib -ffreestanding -fno-stack-protector
/*
 * M1: no libc. write(2) with bad buffers must return -EFAULT (never crash the
 * program or the sentry); a zero-length write of NULL returns 0; a bad fd is
 * checked before the buffer (EBADF). Prints one line per case, then exits 0
 * if every case matched Linux, 1 otherwise.
 */

#define SYS_write 1
#define SYS_exit 60
#define EBADF 9
#define EFAULT 14

static long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static unsigned long length(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void print(const char *s)
{
	raw_syscall3(SYS_write, 1, (long)s, (long)length(s));
}

static void print_long(long v)
{
	char buf[24];
	int i = sizeof(buf);
	int negative = v < 0;
	unsigned long u = negative ? -(unsigned long)v : (unsigned long)v;
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (negative)
		buf[--i] = '-';
	raw_syscall3(SYS_write, 1, (long)(buf + i), (long)sizeof(buf) - i);
}

static int failures;

static void expect(const char *label, long got, long want)
{
	print(label);
	print(" = ");
	print_long(got);
	if (got != want) {
		print(" FAIL: want ");
		print_long(want);
		failures++;
	}
	print("\n");
}

__attribute__((noreturn, used)) void start_c(void)
{
	expect("write(1, NULL, 5)", raw_syscall3(SYS_write, 1, 0, 5), -EFAULT);
	expect("write(1, 0x1, 1)", raw_syscall3(SYS_write, 1, 1, 1), -EFAULT);
	expect("write(1, 0x1000, 16)", raw_syscall3(SYS_write, 1, 0x1000, 16), -EFAULT);
	/* First address past the 47-bit user range. */
	expect("write(1, 1<<47, 1)", raw_syscall3(SYS_write, 1, 1L << 47, 1), -EFAULT);
	/* Kernel half of the address space. */
	expect("write(1, -4096, 1)", raw_syscall3(SYS_write, 1, -4096L, 1), -EFAULT);
	/* Non-canonical. */
	expect("write(1, 0x8000000000000000, 1)",
	       raw_syscall3(SYS_write, 1, (long)0x8000000000000000UL, 1), -EFAULT);
	expect("write(1, NULL, 0)", raw_syscall3(SYS_write, 1, 0, 0), 0);
	expect("write(99, NULL, 1)", raw_syscall3(SYS_write, 99, 0, 1), -EBADF);
	expect("write(-1, \"x\", 1)", raw_syscall3(SYS_write, -1, (long)"x", 1), -EBADF);
	expect("write(1, \"ok\\n\", 3)", raw_syscall3(SYS_write, 1, (long)"ok\n", 3), 3);
	for (;;)
		raw_syscall3(SYS_exit, failures ? 1 : 0, 0, 0);
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
