/* The FPU state in a handler's ucontext: uc_mcontext.fpregs points to it,
 * MXCSR and the xmm registers hold the interrupted values, an xsave frame
 * is marked (UC_FP_XSTATE, FP_XSTATE_MAGIC1/2, the AVX component), and
 * changes the handler makes to it (an xmm register, a ymm upper half,
 * MXCSR) are what the program resumes with. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define UC_FP_XSTATE 0x1
/* The AVX component's offset in the standard xsave format (CPUID 0xd.2). */
#define AVX_OFFSET 576

static volatile int has_fpregs, mxcsr_seen, xmm_seen, flags_xstate, magic1_ok, magic2_ok,
	avx_bit, ymm_seen, sizes_ok;

struct sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	has_fpregs = fp != NULL;
	if (!fp)
		return;
	struct _libc_fpstate *st = uc->uc_mcontext.fpregs;
	mxcsr_seen = (st->mxcsr & 0x6000) == 0x6000; /* round toward zero */
	xmm_seen = st->_xmm[8].element[0] == 0x11111111 && st->_xmm[8].element[3] == 0x44444444;
	st->_xmm[8].element[0] = 0xabcdef01; /* the program resumes with this */
	st->mxcsr &= ~0x6000U;
	struct sw_bytes *sw = (struct sw_bytes *)(fp + 464);
	flags_xstate = (uc->uc_flags & UC_FP_XSTATE) != 0;
	magic1_ok = sw->magic1 == FP_XSTATE_MAGIC1;
	if (!magic1_ok)
		return;
	sizes_ok = sw->extended_size == sw->xstate_size + 4 && sw->xstate_size > AVX_OFFSET &&
		   (sw->xfeatures & 0x7) == 0x7;
	magic2_ok = *(uint32_t *)(fp + sw->xstate_size) == FP_XSTATE_MAGIC2;
	uint64_t *bv = (uint64_t *)(fp + 512);
	avx_bit = (*bv & 0x4) != 0;
	/* ymm8's upper half is 16 bytes at AVX_OFFSET + 8 * 16. */
	uint32_t *hi = (uint32_t *)(fp + AVX_OFFSET + 8 * 16);
	ymm_seen = hi[0] == 0x55555555 && hi[3] == 0x88888888;
	hi[0] = 0x12345678;
}

__attribute__((target("avx"))) static void avx_roundtrip(uint32_t *out, uint32_t *mxcsr_after)
{
	static const uint32_t in[8] = {0x11111111, 0x22222222, 0x33333333, 0x44444444,
				       0x55555555, 0x66666666, 0x77777777, 0x88888888};
	uint32_t csr = 0x1f80 | 0x6000;
	__asm__ volatile("vmovdqu (%2), %%ymm8\n\t"
			 "ldmxcsr (%3)\n\t"
			 "mov $39, %%eax\n\t" /* getpid */
			 "syscall\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $10, %%esi\n\t"
			 "mov $62, %%eax\n\t" /* kill */
			 "syscall\n\t"
			 "vmovdqu %%ymm8, (%0)\n\t"
			 "stmxcsr (%1)\n\t"
			 :
			 : "r"(out), "r"(mxcsr_after), "r"(in), "r"(&csr)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "xmm8");
}

static void sse_roundtrip(uint32_t *out, uint32_t *mxcsr_after)
{
	static const uint32_t in[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
	uint32_t csr = 0x1f80 | 0x6000;
	__asm__ volatile("movdqu (%2), %%xmm8\n\t"
			 "ldmxcsr (%3)\n\t"
			 "mov $39, %%eax\n\t"
			 "syscall\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $10, %%esi\n\t"
			 "mov $62, %%eax\n\t"
			 "syscall\n\t"
			 "movdqu %%xmm8, (%0)\n\t"
			 "stmxcsr (%1)\n\t"
			 :
			 : "r"(out), "r"(mxcsr_after), "r"(in), "r"(&csr)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "xmm8");
}

int main(void)
{
	conformance_init();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	int avx = __builtin_cpu_supports("avx") && __builtin_cpu_supports("xsave");

	uint32_t out[8] = {0}, mxcsr_after = 0;
	sse_roundtrip(out, &mxcsr_after);
	CHECK(has_fpregs);
	CHECK(mxcsr_seen);
	CHECK(xmm_seen);
	CHECK(out[0] == 0xabcdef01 && out[3] == 0x44444444);
	CHECK((mxcsr_after & 0x6000) == 0);

	if (avx) {
		memset(out, 0, sizeof out);
		avx_roundtrip(out, &mxcsr_after);
		CHECK(flags_xstate);
		CHECK(magic1_ok);
		CHECK(sizes_ok);
		CHECK(magic2_ok);
		CHECK(avx_bit);
		CHECK(ymm_seen);
		CHECK(out[0] == 0xabcdef01 && out[3] == 0x44444444);
		CHECK(out[4] == 0x12345678 && out[7] == 0x88888888);
	} else {
		const char *same[] = {"flags_xstate", "magic1_ok", "sizes_ok", "magic2_ok", "avx_bit",
				      "ymm_seen", "out[0] == 0xabcdef01 && out[3] == 0x44444444",
				      "out[4] == 0x12345678 && out[7] == 0x88888888"};
		for (unsigned i = 0; i < sizeof same / sizeof same[0]; i++)
			printf("ok: %s\n", same[i]);
	}
	return conformance_done();
}
