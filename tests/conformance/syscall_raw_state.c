/* Every register a trapped syscall must keep: a raw `syscall` that no
 * patching can rewrite (`mov %r12, %rax` before it) runs with every general
 * register, the arithmetic flags, DF, the x87 control word and stack, MXCSR
 * and every vector register (xmm, or ymm with AVX, or zmm and the mask
 * registers with AVX-512) set to known values. Linux keeps all of them but
 * rax (the result), rcx (the return address) and r11 (the flags). It runs
 * three ways: on an ordinary stack, with the stack pointer 0 (a syscall
 * never touches the stack), and with the NT flag set (which `popf` lets a
 * program set). */
#include "conformance.h"
#include <stdint.h>
#include <string.h>
#include <cpuid.h>

#define SHARED_WITH_ASM __attribute__((visibility("hidden"))) extern
/* rbx, rbp, rdi, rsi, rdx, r8, r9, r10, r12 (the number), r13, r14, r15,
 * then after the call rax, rcx, r11. */
#define GPRS 15
SHARED_WITH_ASM uint64_t gpr_before[GPRS], gpr_after[GPRS];
SHARED_WITH_ASM uint64_t flags_before, flags_after, rsp_before, rsp_after, saved_rsp;
SHARED_WITH_ASM uint8_t vec_before[32 * 64], vec_after[32 * 64];
SHARED_WITH_ASM uint64_t k_before[8], k_after[8];
SHARED_WITH_ASM uint16_t fcw_before, fcw_after;
SHARED_WITH_ASM uint32_t mxcsr_before, mxcsr_after;
SHARED_WITH_ASM double x87_before, x87_after;
SHARED_WITH_ASM char after_syscall[];
uint64_t gpr_before[GPRS], gpr_after[GPRS];
uint64_t flags_before, flags_after, rsp_before, rsp_after, saved_rsp;
uint8_t vec_before[32 * 64] __attribute__((aligned(64))), vec_after[32 * 64] __attribute__((aligned(64)));
uint64_t k_before[8], k_after[8];
uint16_t fcw_before, fcw_after;
uint32_t mxcsr_before, mxcsr_after;
double x87_before, x87_after;

/* void raw_state(int level): level 0 sse, 1 avx, 2 avx-512. */
__asm__(".text\n"
	".globl raw_state\n"
	".type raw_state, @function\n"
	"raw_state:\n"
	"  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
	"  mov %rsp, saved_rsp(%rip)\n"
	"  cmp $2, %edi\n  jae 2f\n  cmp $1, %edi\n  jae 1f\n"
	"  movdqu vec_before+0(%rip), %xmm0\n"
	"  movdqu vec_before+16(%rip), %xmm1\n"
	"  movdqu vec_before+32(%rip), %xmm2\n"
	"  movdqu vec_before+48(%rip), %xmm3\n"
	"  movdqu vec_before+64(%rip), %xmm4\n"
	"  movdqu vec_before+80(%rip), %xmm5\n"
	"  movdqu vec_before+96(%rip), %xmm6\n"
	"  movdqu vec_before+112(%rip), %xmm7\n"
	"  movdqu vec_before+128(%rip), %xmm8\n"
	"  movdqu vec_before+144(%rip), %xmm9\n"
	"  movdqu vec_before+160(%rip), %xmm10\n"
	"  movdqu vec_before+176(%rip), %xmm11\n"
	"  movdqu vec_before+192(%rip), %xmm12\n"
	"  movdqu vec_before+208(%rip), %xmm13\n"
	"  movdqu vec_before+224(%rip), %xmm14\n"
	"  movdqu vec_before+240(%rip), %xmm15\n"
	"  jmp 3f\n"
	"1:\n"
	"  vmovdqu vec_before+0(%rip), %ymm0\n"
	"  vmovdqu vec_before+32(%rip), %ymm1\n"
	"  vmovdqu vec_before+64(%rip), %ymm2\n"
	"  vmovdqu vec_before+96(%rip), %ymm3\n"
	"  vmovdqu vec_before+128(%rip), %ymm4\n"
	"  vmovdqu vec_before+160(%rip), %ymm5\n"
	"  vmovdqu vec_before+192(%rip), %ymm6\n"
	"  vmovdqu vec_before+224(%rip), %ymm7\n"
	"  vmovdqu vec_before+256(%rip), %ymm8\n"
	"  vmovdqu vec_before+288(%rip), %ymm9\n"
	"  vmovdqu vec_before+320(%rip), %ymm10\n"
	"  vmovdqu vec_before+352(%rip), %ymm11\n"
	"  vmovdqu vec_before+384(%rip), %ymm12\n"
	"  vmovdqu vec_before+416(%rip), %ymm13\n"
	"  vmovdqu vec_before+448(%rip), %ymm14\n"
	"  vmovdqu vec_before+480(%rip), %ymm15\n"
	"  jmp 3f\n"
	"2:\n"
	"  vmovdqu64 vec_before+0(%rip), %zmm0\n"
	"  vmovdqu64 vec_before+64(%rip), %zmm1\n"
	"  vmovdqu64 vec_before+128(%rip), %zmm2\n"
	"  vmovdqu64 vec_before+192(%rip), %zmm3\n"
	"  vmovdqu64 vec_before+256(%rip), %zmm4\n"
	"  vmovdqu64 vec_before+320(%rip), %zmm5\n"
	"  vmovdqu64 vec_before+384(%rip), %zmm6\n"
	"  vmovdqu64 vec_before+448(%rip), %zmm7\n"
	"  vmovdqu64 vec_before+512(%rip), %zmm8\n"
	"  vmovdqu64 vec_before+576(%rip), %zmm9\n"
	"  vmovdqu64 vec_before+640(%rip), %zmm10\n"
	"  vmovdqu64 vec_before+704(%rip), %zmm11\n"
	"  vmovdqu64 vec_before+768(%rip), %zmm12\n"
	"  vmovdqu64 vec_before+832(%rip), %zmm13\n"
	"  vmovdqu64 vec_before+896(%rip), %zmm14\n"
	"  vmovdqu64 vec_before+960(%rip), %zmm15\n"
	"  vmovdqu64 vec_before+1024(%rip), %zmm16\n"
	"  vmovdqu64 vec_before+1088(%rip), %zmm17\n"
	"  vmovdqu64 vec_before+1152(%rip), %zmm18\n"
	"  vmovdqu64 vec_before+1216(%rip), %zmm19\n"
	"  vmovdqu64 vec_before+1280(%rip), %zmm20\n"
	"  vmovdqu64 vec_before+1344(%rip), %zmm21\n"
	"  vmovdqu64 vec_before+1408(%rip), %zmm22\n"
	"  vmovdqu64 vec_before+1472(%rip), %zmm23\n"
	"  vmovdqu64 vec_before+1536(%rip), %zmm24\n"
	"  vmovdqu64 vec_before+1600(%rip), %zmm25\n"
	"  vmovdqu64 vec_before+1664(%rip), %zmm26\n"
	"  vmovdqu64 vec_before+1728(%rip), %zmm27\n"
	"  vmovdqu64 vec_before+1792(%rip), %zmm28\n"
	"  vmovdqu64 vec_before+1856(%rip), %zmm29\n"
	"  vmovdqu64 vec_before+1920(%rip), %zmm30\n"
	"  vmovdqu64 vec_before+1984(%rip), %zmm31\n"
	"  kmovq k_before+8(%rip), %k1\n"
	"  kmovq k_before+16(%rip), %k2\n"
	"  kmovq k_before+24(%rip), %k3\n"
	"  kmovq k_before+32(%rip), %k4\n"
	"  kmovq k_before+40(%rip), %k5\n"
	"  kmovq k_before+48(%rip), %k6\n"
	"  kmovq k_before+56(%rip), %k7\n"
	"3:\n"
	"  fldcw fcw_before(%rip)\n"
	"  fldl x87_before(%rip)\n"
	"  ldmxcsr mxcsr_before(%rip)\n"
	"  mov gpr_before+0(%rip), %rbx\n"
	"  mov gpr_before+8(%rip), %rbp\n"
	"  mov gpr_before+16(%rip), %rdi\n"
	"  mov gpr_before+24(%rip), %rsi\n"
	"  mov gpr_before+32(%rip), %rdx\n"
	"  mov gpr_before+40(%rip), %r8\n"
	"  mov gpr_before+48(%rip), %r9\n"
	"  mov gpr_before+56(%rip), %r10\n"
	"  mov gpr_before+64(%rip), %r12\n"
	"  mov gpr_before+72(%rip), %r13\n"
	"  mov gpr_before+80(%rip), %r14\n"
	"  mov gpr_before+88(%rip), %r15\n"
	"  push flags_before(%rip)\n"
	"  popfq\n"
	"  mov rsp_before(%rip), %rsp\n"
	"  mov %r12, %rax\n"
	"  syscall\n"
	".globl after_syscall\n"
	"after_syscall:\n"
	"  mov %rsp, rsp_after(%rip)\n"
	"  mov saved_rsp(%rip), %rsp\n"
	"  pushfq\n"
	"  pop flags_after(%rip)\n"
	"  push $0x202\n"
	"  popfq\n"
	"  mov %rbx, gpr_after+0(%rip)\n"
	"  mov %rbp, gpr_after+8(%rip)\n"
	"  mov %rdi, gpr_after+16(%rip)\n"
	"  mov %rsi, gpr_after+24(%rip)\n"
	"  mov %rdx, gpr_after+32(%rip)\n"
	"  mov %r8, gpr_after+40(%rip)\n"
	"  mov %r9, gpr_after+48(%rip)\n"
	"  mov %r10, gpr_after+56(%rip)\n"
	"  mov %r12, gpr_after+64(%rip)\n"
	"  mov %r13, gpr_after+72(%rip)\n"
	"  mov %r14, gpr_after+80(%rip)\n"
	"  mov %r15, gpr_after+88(%rip)\n"
	"  mov %rax, gpr_after+96(%rip)\n"
	"  mov %rcx, gpr_after+104(%rip)\n"
	"  mov %r11, gpr_after+112(%rip)\n"
	"  stmxcsr mxcsr_after(%rip)\n"
	"  fnstcw fcw_after(%rip)\n"
	"  fstpl x87_after(%rip)\n"
	"  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
	"  cmp $2, %edi\n  jae 2f\n  cmp $1, %edi\n  jae 1f\n"
	"  movdqu %xmm0, vec_after+0(%rip)\n"
	"  movdqu %xmm1, vec_after+16(%rip)\n"
	"  movdqu %xmm2, vec_after+32(%rip)\n"
	"  movdqu %xmm3, vec_after+48(%rip)\n"
	"  movdqu %xmm4, vec_after+64(%rip)\n"
	"  movdqu %xmm5, vec_after+80(%rip)\n"
	"  movdqu %xmm6, vec_after+96(%rip)\n"
	"  movdqu %xmm7, vec_after+112(%rip)\n"
	"  movdqu %xmm8, vec_after+128(%rip)\n"
	"  movdqu %xmm9, vec_after+144(%rip)\n"
	"  movdqu %xmm10, vec_after+160(%rip)\n"
	"  movdqu %xmm11, vec_after+176(%rip)\n"
	"  movdqu %xmm12, vec_after+192(%rip)\n"
	"  movdqu %xmm13, vec_after+208(%rip)\n"
	"  movdqu %xmm14, vec_after+224(%rip)\n"
	"  movdqu %xmm15, vec_after+240(%rip)\n"
	"  jmp 3f\n"
	"1:\n"
	"  vmovdqu %ymm0, vec_after+0(%rip)\n"
	"  vmovdqu %ymm1, vec_after+32(%rip)\n"
	"  vmovdqu %ymm2, vec_after+64(%rip)\n"
	"  vmovdqu %ymm3, vec_after+96(%rip)\n"
	"  vmovdqu %ymm4, vec_after+128(%rip)\n"
	"  vmovdqu %ymm5, vec_after+160(%rip)\n"
	"  vmovdqu %ymm6, vec_after+192(%rip)\n"
	"  vmovdqu %ymm7, vec_after+224(%rip)\n"
	"  vmovdqu %ymm8, vec_after+256(%rip)\n"
	"  vmovdqu %ymm9, vec_after+288(%rip)\n"
	"  vmovdqu %ymm10, vec_after+320(%rip)\n"
	"  vmovdqu %ymm11, vec_after+352(%rip)\n"
	"  vmovdqu %ymm12, vec_after+384(%rip)\n"
	"  vmovdqu %ymm13, vec_after+416(%rip)\n"
	"  vmovdqu %ymm14, vec_after+448(%rip)\n"
	"  vmovdqu %ymm15, vec_after+480(%rip)\n"
	"  vzeroupper\n"
	"  jmp 3f\n"
	"2:\n"
	"  vmovdqu64 %zmm0, vec_after+0(%rip)\n"
	"  vmovdqu64 %zmm1, vec_after+64(%rip)\n"
	"  vmovdqu64 %zmm2, vec_after+128(%rip)\n"
	"  vmovdqu64 %zmm3, vec_after+192(%rip)\n"
	"  vmovdqu64 %zmm4, vec_after+256(%rip)\n"
	"  vmovdqu64 %zmm5, vec_after+320(%rip)\n"
	"  vmovdqu64 %zmm6, vec_after+384(%rip)\n"
	"  vmovdqu64 %zmm7, vec_after+448(%rip)\n"
	"  vmovdqu64 %zmm8, vec_after+512(%rip)\n"
	"  vmovdqu64 %zmm9, vec_after+576(%rip)\n"
	"  vmovdqu64 %zmm10, vec_after+640(%rip)\n"
	"  vmovdqu64 %zmm11, vec_after+704(%rip)\n"
	"  vmovdqu64 %zmm12, vec_after+768(%rip)\n"
	"  vmovdqu64 %zmm13, vec_after+832(%rip)\n"
	"  vmovdqu64 %zmm14, vec_after+896(%rip)\n"
	"  vmovdqu64 %zmm15, vec_after+960(%rip)\n"
	"  vmovdqu64 %zmm16, vec_after+1024(%rip)\n"
	"  vmovdqu64 %zmm17, vec_after+1088(%rip)\n"
	"  vmovdqu64 %zmm18, vec_after+1152(%rip)\n"
	"  vmovdqu64 %zmm19, vec_after+1216(%rip)\n"
	"  vmovdqu64 %zmm20, vec_after+1280(%rip)\n"
	"  vmovdqu64 %zmm21, vec_after+1344(%rip)\n"
	"  vmovdqu64 %zmm22, vec_after+1408(%rip)\n"
	"  vmovdqu64 %zmm23, vec_after+1472(%rip)\n"
	"  vmovdqu64 %zmm24, vec_after+1536(%rip)\n"
	"  vmovdqu64 %zmm25, vec_after+1600(%rip)\n"
	"  vmovdqu64 %zmm26, vec_after+1664(%rip)\n"
	"  vmovdqu64 %zmm27, vec_after+1728(%rip)\n"
	"  vmovdqu64 %zmm28, vec_after+1792(%rip)\n"
	"  vmovdqu64 %zmm29, vec_after+1856(%rip)\n"
	"  vmovdqu64 %zmm30, vec_after+1920(%rip)\n"
	"  vmovdqu64 %zmm31, vec_after+1984(%rip)\n"
	"  kmovq %k1, k_after+8(%rip)\n"
	"  kmovq %k2, k_after+16(%rip)\n"
	"  kmovq %k3, k_after+24(%rip)\n"
	"  kmovq %k4, k_after+32(%rip)\n"
	"  kmovq %k5, k_after+40(%rip)\n"
	"  kmovq %k6, k_after+48(%rip)\n"
	"  kmovq %k7, k_after+56(%rip)\n"
	"  vzeroupper\n"
	"3:\n"
	"  ldmxcsr mxcsr_default(%rip)\n"
	"  fldcw fcw_default(%rip)\n"
	"  ret\n"
	".section .rodata\n"
	"mxcsr_default: .long 0x1f80\n"
	"fcw_default: .word 0x37f\n"
	".text\n");
void raw_state(int level);

/* The vector level both this program and the kernel use: AVX needs the OS
 * to save ymm (XCR0 bits 1-2), AVX-512 the opmask and zmm state (5-7). */
static int vector_level(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 0x6) != 0x6)
		return 0;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F) && (lo & 0xe0) == 0xe0)
		return 2;
	return 1;
}

static const char *const gpr_names[GPRS] = {
	"rbx", "rbp", "rdi", "rsi", "rdx", "r8", "r9", "r10", "r12", "r13", "r14", "r15",
};

static void run(const char *how, int level, uint64_t rsp, uint64_t extra_flags)
{
	/* CF PF AF ZF SF OF DF, and IF with the reserved bit 1. */
	const uint64_t flags = 0x0cd5 | 0x202 | extra_flags;
	for (int i = 0; i < 12; i++)
		gpr_before[i] = 0x0101010101010101ull * (i + 1) ^ 0x8000000000000000ull;
	gpr_before[8] = SYS_getppid;
	flags_before = flags;
	rsp_before = rsp;
	for (size_t i = 0; i < sizeof vec_before; i++)
		vec_before[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < 8; i++)
		k_before[i] = 0x0123456789abcdefull + i;
	fcw_before = 0x0c7f; /* round toward zero, all exceptions masked */
	mxcsr_before = 0x7f80 | 0x40; /* round toward zero, DAZ */
	x87_before = 1234.5;
	raw_state(level);

	int bad = 0;
	for (int i = 0; i < 12; i++)
		if (gpr_after[i] != gpr_before[i]) {
			printf("%s: %s changed\n", how, gpr_names[i]);
			bad = 1;
		}
	if (gpr_after[12] != (uint64_t)getppid()) {
		printf("%s: rax is not the result\n", how);
		bad = 1;
	}
	if (gpr_after[13] != (uint64_t)after_syscall) {
		printf("%s: rcx is not the return address\n", how);
		bad = 1;
	}
	printf("%s: r11 %#llx\n", how, (unsigned long long)gpr_after[14]);
	printf("%s: flags %#llx\n", how, (unsigned long long)flags_after);
	if (rsp_after != rsp) {
		printf("%s: rsp changed\n", how);
		bad = 1;
	}
	size_t vec_bytes = level == 2 ? 32 * 64 : level == 1 ? 16 * 32 : 16 * 16;
	if (memcmp(vec_after, vec_before, vec_bytes)) {
		printf("%s: vector registers changed\n", how);
		bad = 1;
	}
	if (level == 2 && memcmp(k_after + 1, k_before + 1, 7 * sizeof k_before[0])) {
		printf("%s: mask registers changed\n", how);
		bad = 1;
	}
	if (fcw_after != fcw_before || mxcsr_after != mxcsr_before || x87_after != x87_before) {
		printf("%s: x87 or MXCSR state changed\n", how);
		bad = 1;
	}
	CHECK(!bad);
	printf("%s: %s\n", how, bad ? "lost state" : "kept every register");
}

int main(void)
{
	conformance_init();
	int level = vector_level();
	uint64_t stack[64] __attribute__((aligned(16)));
	run("stack", level, (uint64_t)&stack[48], 0);
	run("no stack", level, 0, 0);
	run("NT flag", level, (uint64_t)&stack[48], 0x4000);
	return conformance_done();
}
