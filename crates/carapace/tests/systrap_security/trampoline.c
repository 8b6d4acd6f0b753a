/* Jumps into systrap's trap table (layout.rs: TRAP_ADDR = 0x60000) and into
 * the fast entry it points to, with garbage in every register, each from
 * its own child. Whatever a child does there, it can only end itself (or,
 * at worst, the sandbox): the entry's syscalls are the handler's own, and
 * every other `syscall` there traps to the sentry. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRAP_ADDR 0x60000UL

__attribute__((noinline, aligned(16))) static long site(void)
{
	long ret;
	__asm__ volatile("mov $110, %%eax\n\tsyscall" : "=a"(ret) : : "rcx", "r11", "memory");
	return ret;
}

static void jump_with_garbage(uint64_t target, uint64_t seed)
{
	__asm__ volatile("mov %0, %%r15\n\t"
			 "mov %1, %%rax\n\t"
			 "mov %1, %%rbx\n\t"
			 "mov %1, %%rcx\n\t"
			 "mov %1, %%rdx\n\t"
			 "mov %1, %%rsi\n\t"
			 "mov %1, %%rdi\n\t"
			 "mov %1, %%rbp\n\t"
			 "mov %1, %%rsp\n\t"
			 "mov %1, %%r8\n\t"
			 "mov %1, %%r9\n\t"
			 "mov %1, %%r10\n\t"
			 "mov %1, %%r11\n\t"
			 "mov %1, %%r12\n\t"
			 "mov %1, %%r13\n\t"
			 "mov %1, %%r14\n\t"
			 "jmp *%%r15"
			 :
			 : "r"(target), "r"(seed)
			 : "memory");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	/* Get a trap or two into the table (if patching is on). */
	for (int i = 0; i < 3; i++)
		site();
	printf("start\n");
	uint64_t targets[] = {TRAP_ADDR, TRAP_ADDR + 8, TRAP_ADDR + 0x40, TRAP_ADDR + 0x48,
			      TRAP_ADDR + 0x4f, TRAP_ADDR + 0x54, TRAP_ADDR + 0x68,
			      TRAP_ADDR + 0x6a, TRAP_ADDR + 0x1235, TRAP_ADDR + 0xfff0, 0};
	int n = sizeof(targets) / sizeof(targets[0]);
	/* The fast entry, and a few bytes into it. */
	uint64_t entry = 0;
	pid_t probe = fork();
	if (probe == 0)
		_exit(*(volatile uint64_t *)TRAP_ADDR != 0 ? 0 : 1);
	int status;
	waitpid(probe, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		entry = *(volatile uint64_t *)TRAP_ADDR;
	uint64_t seeds[] = {0, 0xdeadbeefdeadbeef, 0x7fffffffe000, 0x61000, 39};
	int ended = 0;
	for (int extra = 0; extra < 4; extra++) {
		for (int i = 0; i < n; i++) {
			uint64_t target = targets[i];
			if (target == 0) {
				if (!entry)
					continue;
				target = entry + extra * 3;
			}
			for (unsigned s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
				pid_t child = fork();
				if (child == 0) {
					alarm(2);
					jump_with_garbage(target, seeds[s]);
					_exit(0);
				}
				if (waitpid(child, &status, 0) == child)
					ended++;
			}
		}
	}
	printf("children ended: %d\n", ended);
	printf("survived\n");
	return 0;
}
