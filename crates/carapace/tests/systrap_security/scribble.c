/* Writes garbage over every writable page of the systrap stub's shared
 * chunk (its result page and every thread slot, including this thread's
 * message page and signal stack), mixed with plausible-looking values,
 * making syscalls in between; finally writes the read-only command page.
 * Layout: crates/platform/src/systrap/layout.rs. */
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>

#define CHUNK 0x7ffff0000000ul
#define SLOTS (CHUNK + 0x10000ul)
#define SLOT 0x10000ul
#define CHUNK_END (SLOTS + 1024ul * SLOT)

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
  return seed;
}
static long raw(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
static void say(const char *s) {
  long n = 0;
  while (s[n]) n++;
  raw(SYS_write, 1, (long)s, n);
}
/* A value the sentry might mistake for something meaningful. */
static uint64_t plausible(void) {
  switch (next() % 8) {
  case 0: return SLOTS + (next() % (2 * SLOT)) ;
  case 1: return SLOTS + 0x2000 + (next() % 0xe000 & ~7ul);
  case 2: return 31;
  case 3: return 11;
  case 4: return 23;
  case 5: return 1;
  case 6: return 2;
  default: return next();
  }
}
static void scribble(uint64_t from, uint64_t to, int every) {
  for (uint64_t a = from; a < to; a += 8 * every)
    *(volatile uint64_t *)a = plausible();
}
int main(void) {
  say("start\n");
  for (int round = 0; round < 200; round++) {
    /* Result page, this thread's slot (message page, entry stack, signal
     * stack below our own frame is not in use now), the next slots. */
    scribble(CHUNK + 0x1000, CHUNK + 0x2000, 1);
    scribble(SLOTS, SLOTS + 0x2000, 1);
    scribble(SLOTS + 0x2000, SLOTS + SLOT, 1 + round % 3);
    scribble(SLOTS + SLOT, SLOTS + 4 * SLOT, 4);
    raw(SYS_getppid, 0, 0, 0);
    raw(SYS_getpid, 0, 0, 0);
  }
  /* One word in every page of the rest of the chunk. */
  for (uint64_t a = SLOTS + 4 * SLOT; a < CHUNK_END; a += 4096)
    *(volatile uint64_t *)a = next();
  say("survived\n");
  /* The command page is read-only in the stub: this faults, and the
   * sentry finds no mapping of its own there, so SIGSEGV ends us. */
  *(volatile uint64_t *)CHUNK = 1;
  say("wrote the command page\n");
  return 3;
}
