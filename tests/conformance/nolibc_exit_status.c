// conformance: static-only exit=3 -nostdlib -ffreestanding -fno-stack-protector
/*
 * M1: no libc. Writes to stdout and stderr (stderr is shown on failure, not
 * compared), then exits with status 3 through `exit` (not `exit_group`).
 */

#define SYS_write 1
#define SYS_exit 60

static long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static const char out[] = "exiting with status 3\n";
static const char err[] = "nolibc_exit_status: this line goes to stderr\n";

__attribute__((noreturn, used)) void start_c(void)
{
	long written = raw_syscall3(SYS_write, 2, (long)err, sizeof(err) - 1);
	if (written != (long)sizeof(err) - 1)
		raw_syscall3(SYS_write, 1, (long)"stderr write failed\n", 20);
	raw_syscall3(SYS_write, 1, (long)out, sizeof(out) - 1);
	for (;;)
		raw_syscall3(SYS_exit, 3, 0, 0);
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
