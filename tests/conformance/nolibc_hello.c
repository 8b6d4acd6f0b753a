// conformance: static-only -nostdlib -ffreestanding -fno-stack-protector
/*
 * M1: the smallest program there is. No libc: `_start` writes one line with
 * the `syscall` instruction and exits 0. No loader work beyond mapping a
 * static ELF and a stack.
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

static const char message[] = "hello from nolibc\n";

__attribute__((noreturn, used)) void start_c(void)
{
	raw_syscall3(SYS_write, 1, (long)message, sizeof(message) - 1);
	for (;;)
		raw_syscall3(SYS_exit, 0, 0, 0);
}

/* The kernel enters with %rsp 16-byte aligned and no return address. */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
