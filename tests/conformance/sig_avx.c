/* AVX state survives a signal handler: ymm8-ymm15 (both halves) are set,
 * a signal is delivered on the return of the syscall that raised it, the
 * handler clobbers every ymm register, and after rt_sigreturn the values
 * are back. Without AVX the same lines are printed. */
#define _GNU_SOURCE
#include "conformance.h"

#include <signal.h>
#include <stdint.h>

static volatile int handled;

__attribute__((target("avx"))) static void clobber(void)
{
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
			 "vmovdqa %%ymm0, %%ymm8\n\t"
			 "vmovdqa %%ymm0, %%ymm9\n\t"
			 "vmovdqa %%ymm0, %%ymm10\n\t"
			 "vmovdqa %%ymm0, %%ymm11\n\t"
			 "vmovdqa %%ymm0, %%ymm12\n\t"
			 "vmovdqa %%ymm0, %%ymm13\n\t"
			 "vmovdqa %%ymm0, %%ymm14\n\t"
			 "vmovdqa %%ymm0, %%ymm15\n\t" ::
				 : "xmm0", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
				   "xmm15");
}

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
	if (__builtin_cpu_supports("avx"))
		clobber();
	/* Library code may use the vector registers too. */
	char buf[256];
	memset(buf, handled, sizeof buf);
	snprintf(buf, sizeof buf, "%d", handled);
}

/* Loads ymm8-15 from `in`, sends itself SIGUSR1 with a raw kill (the
 * handler runs as the syscall returns), then stores ymm8-15 to `out`. */
__attribute__((target("avx"))) static void roundtrip(const uint8_t *in, uint8_t *out, int raw_tid)
{
	__asm__ volatile("vmovdqu 0(%0), %%ymm8\n\t"
			 "vmovdqu 32(%0), %%ymm9\n\t"
			 "vmovdqu 64(%0), %%ymm10\n\t"
			 "vmovdqu 96(%0), %%ymm11\n\t"
			 "vmovdqu 128(%0), %%ymm12\n\t"
			 "vmovdqu 160(%0), %%ymm13\n\t"
			 "vmovdqu 192(%0), %%ymm14\n\t"
			 "vmovdqu 224(%0), %%ymm15\n\t"
			 "mov %2, %%edi\n\t"
			 "mov $10, %%esi\n\t" /* SIGUSR1 */
			 "mov $200, %%eax\n\t" /* tkill */
			 "syscall\n\t"
			 "vmovdqu %%ymm8, 0(%1)\n\t"
			 "vmovdqu %%ymm9, 32(%1)\n\t"
			 "vmovdqu %%ymm10, 64(%1)\n\t"
			 "vmovdqu %%ymm11, 96(%1)\n\t"
			 "vmovdqu %%ymm12, 128(%1)\n\t"
			 "vmovdqu %%ymm13, 160(%1)\n\t"
			 "vmovdqu %%ymm14, 192(%1)\n\t"
			 "vmovdqu %%ymm15, 224(%1)\n\t"
			 :
			 : "r"(in), "r"(out), "r"(raw_tid)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "xmm8", "xmm9", "xmm10",
			   "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

int main(void)
{
	conformance_init();
	signal(SIGUSR1, on_usr1);
	int avx = __builtin_cpu_supports("avx");
	for (int round = 0; round < 3; round++) {
		uint8_t in[256], out[256];
		for (int i = 0; i < 256; i++)
			in[i] = (uint8_t)(i * 7 + round * 13 + 1);
		memset(out, 0, sizeof out);
		int before = handled;
		if (avx)
			roundtrip(in, out, (int)syscall(SYS_gettid));
		else {
			raise(SIGUSR1);
			memcpy(out, in, sizeof out);
		}
		CHECK(handled == before + 1);
		int low_ok = 1, high_ok = 1;
		for (int r = 0; r < 8; r++) {
			low_ok &= memcmp(in + 32 * r, out + 32 * r, 16) == 0;
			high_ok &= memcmp(in + 32 * r + 16, out + 32 * r + 16, 16) == 0;
		}
		CHECK(low_ok);  /* xmm halves */
		CHECK(high_ok); /* ymm upper halves */
	}
	return conformance_done();
}
