/* A patchable `mov $nr, %eax; syscall` site whose syscall drops the page just
 * below the stack pointer (`madvise(MADV_DONTNEED)`). Under systrap's patched
 * path the return to the program writes there, just below the red zone, and
 * faults: the fault must not cost the program any register. On Linux a
 * syscall preserves every register but rax, rcx and r11, and the page reads
 * as zeros again. */
#include "conformance.h"
#include <stdint.h>
#include <sys/mman.h>

#define CALLS 4

/* Registers after the call: rbx, rbp, rdi, rsi, rdx, r8, r9, r10, r12, r13,
 * r14, r15. */
#define SHARED_WITH_ASM __attribute__((visibility("hidden"))) extern
SHARED_WITH_ASM uint64_t after[12];
SHARED_WITH_ASM uint64_t saved_rsp;
SHARED_WITH_ASM uint64_t before[12];
uint64_t after[12], saved_rsp;
uint64_t before[12] = {
	0x1111, 0x2222, 0, 4096, MADV_DONTNEED, 0x8888, 0x9999, 0xaaaa, 0xcccc, 0xdddd, 0xeeee, 0xffff,
};

/* long drop_below(void *page, void *sp): madvise(page, 4096, MADV_DONTNEED)
 * through one site, with the stack pointer at `sp` and every other register
 * set from `before`; stores them in `after` and returns the result. */
__asm__(".text\n"
	".globl drop_below\n"
	".type drop_below, @function\n"
	".p2align 4\n"
	"drop_below:\n"
	"  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
	"  mov %rsp, saved_rsp(%rip)\n"
	"  mov %rsi, %rsp\n"
	"  mov before+0(%rip), %rbx\n"
	"  mov before+8(%rip), %rbp\n"
	"  mov before+24(%rip), %rsi\n"
	"  mov before+32(%rip), %rdx\n"
	"  mov before+40(%rip), %r8\n"
	"  mov before+48(%rip), %r9\n"
	"  mov before+56(%rip), %r10\n"
	"  mov before+64(%rip), %r12\n"
	"  mov before+72(%rip), %r13\n"
	"  mov before+80(%rip), %r14\n"
	"  mov before+88(%rip), %r15\n"
	"  .p2align 3\n"
	"  mov $28, %eax\n"
	"  syscall\n"
	"  mov %rbx, after+0(%rip)\n"
	"  mov %rbp, after+8(%rip)\n"
	"  mov %rdi, after+16(%rip)\n"
	"  mov %rsi, after+24(%rip)\n"
	"  mov %rdx, after+32(%rip)\n"
	"  mov %r8, after+40(%rip)\n"
	"  mov %r9, after+48(%rip)\n"
	"  mov %r10, after+56(%rip)\n"
	"  mov %r12, after+64(%rip)\n"
	"  mov %r13, after+72(%rip)\n"
	"  mov %r14, after+80(%rip)\n"
	"  mov %r15, after+88(%rip)\n"
	"  mov saved_rsp(%rip), %rsp\n"
	"  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
	"  ret\n"
	".size drop_below, . - drop_below\n");
long drop_below(void *page, void *sp);

static const char *const names[12] = {
	"rbx", "rbp", "rdi", "rsi", "rdx", "r8", "r9", "r10", "r12", "r13", "r14", "r15",
};

int main(void)
{
	conformance_init();
	char *stack = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(stack != MAP_FAILED);
	/* The return writes just below the 128-byte red zone under sp. */
	char *sp = stack + 4096 + 64;
	for (int call = 0; call < CALLS; call++) {
		stack[4096 - 8] = 7;
		before[2] = (uint64_t)(uintptr_t)stack;
		long ret = drop_below(stack, sp);
		int kept = 0;
		for (int i = 0; i < 12; i++) {
			if (after[i] == before[i])
				kept++;
			else
				printf("call %d: %s changed\n", call, names[i]);
		}
		printf("call %d: madvise = %ld, %d of 12 registers kept\n", call, ret, kept);
		CHECK(ret == 0 && kept == 12);
	}
	/* What the return wrote below the stack is gone with the page, or in
	 * it; nothing else is. */
	CHECK(stack[0] == 0);
	return conformance_done();
}
