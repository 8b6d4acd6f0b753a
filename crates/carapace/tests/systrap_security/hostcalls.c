/* Tries host syscalls that must never reach the host: from program code
 * with a raw `syscall`, then by jumping to every `syscall` instruction in
 * the stub's code page (in a forked child each, killed after a while).
 * argv[1]: a host pid to ptrace; argv[2]: a directory to mount over. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define CODE 0x7fffffffd000ul
#define CODE_END 0x7ffffffff000ul

static long raw(long nr, long a, long b, long c, long d, long e) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  return ret;
}
/* Jumps to `site` with the syscall registers set; never returns. */
static void jump(uint64_t site, long nr, long a, long b, long c, long d) {
  register long r10 __asm__("r10") = d;
  __asm__ volatile("jmp *%0" : : "r"(site), "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "memory");
  __builtin_unreachable();
}
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long target = atol(argv[1]);
  const char *dir = argv[2];
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("getpid=%ld\n", raw(SYS_getpid, 0, 0, 0, 0, 0));
  printf("ptrace=%ld\n", raw(SYS_ptrace, 16 /* PTRACE_ATTACH */, target, 0, 0, 0));
  printf("mount=%ld\n", raw(SYS_mount, (long)"none", (long)dir, (long)"tmpfs", 0, 0));
  printf("reboot=%ld\n", raw(SYS_reboot, 0xfee1dead, 672274793, 0x89abcdef /* CAD_ON */, 0, 0));
  printf("kexec_load=%ld\n", raw(SYS_kexec_load, 0, 0, 0, 0, 0));
  long nrs[4][5] = {
    {SYS_ptrace, 16, target, 0, 0},
    {SYS_mount, (long)"none", (long)dir, (long)"tmpfs", 0},
    {SYS_reboot, 0xfee1dead, 672274793, 0x89abcdef, 0},
    {SYS_kexec_load, 0, 0, 0, 0},
  };
  int sites = 0;
  for (uint64_t a = CODE; a + 1 < CODE_END; a++) {
    if (*(volatile uint8_t *)a != 0x0f || *(volatile uint8_t *)(a + 1) != 0x05) continue;
    sites++;
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
      kids[i] = fork();
      if (kids[i] == 0) jump(a, nrs[i][0], nrs[i][1], nrs[i][2], nrs[i][3], nrs[i][4]);
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    for (int i = 0; i < 4; i++) {
      if (kids[i] > 0) { kill(kids[i], SIGKILL); waitpid(kids[i], NULL, 0); }
    }
  }
  printf("stub sites=%d\n", sites);
  return 0;
}
