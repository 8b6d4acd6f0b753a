/*
 * Syscalls that do not exist get ENOSYS: numbers past the table, -1, the x32
 * bit (bit 30; this assumes a host without CONFIG_X86_X32_ABI, the Debian
 * default), and `int $0x80` with an eax no i386 table has. The sandbox serves
 * 64-bit syscalls only, so these must never be read as x86-64 numbers.
 */
#include "conformance.h"

static long int80(long nr)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
	return ret;
}

int main(void)
{
	conformance_init();

	EXPECT_ERR("syscall(1000)", syscall(1000), ENOSYS);
	EXPECT_ERR("syscall(400)", syscall(400), ENOSYS);
	EXPECT_ERR("syscall(0x7fffffff)", syscall(0x7fffffffL), ENOSYS);
	EXPECT_ERR("syscall(-1)", syscall(-1L), ENOSYS);
	EXPECT_ERR("syscall(0x40000000 | SYS_getpid)", syscall(0x40000000L | SYS_getpid), ENOSYS);
	EXPECT_ERR("syscall(0x40000000 | 1000)", syscall(0x40000000L | 1000), ENOSYS);
	EXPECT_VAL("int $0x80 with eax 0xfffff", int80(0xfffff), -ENOSYS);
	/* Still alive, and ordinary syscalls still work. */
	CHECK(syscall(SYS_getpid) == getpid());

	return conformance_done();
}
