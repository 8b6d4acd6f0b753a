/*
 * A raw clone3(2) whose child exits at once, for the programs that make
 * bare threads (CLONE_THREAD on a stack of their own): such a child cannot
 * return through libc's syscall wrapper, whose stack it does not have.
 */
#ifndef CARAPACE_CLONE3_THREAD_H
#define CARAPACE_CLONE3_THREAD_H

#include <linux/sched.h>
#include <sys/syscall.h>

/* clone3(args); the child runs exit(0). Returns what the parent got. */
static inline long clone3_exit_child(struct clone_args *args)
{
	long ret;
	register long size asm("rsi") = sizeof *args;
	register long a asm("rdi") = (long)args;
	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "mov $60, %%eax\n\t"
		     "xor %%edi, %%edi\n\t"
		     "syscall\n"
		     "1:"
		     : "=a"(ret)
		     : "0"(SYS_clone3), "r"(a), "r"(size)
		     : "rcx", "r11", "memory");
	return ret;
}

#endif
