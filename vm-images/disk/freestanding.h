/*
 * What Berth's libc-free guest programs (set-ipv6-in-process.c, crun-wrapper.c) share: a
 * 32-bit Linux system call with up to three arguments, and the two string helpers they use.
 */
#ifndef BERTH_FREESTANDING_H
#define BERTH_FREESTANDING_H

static long syscall3(long number, long a, long b, long c) {
  long result;
  __asm__ volatile("int $0x80" : "=a"(result) : "0"(number), "b"(a), "c"(b), "d"(c) : "memory");
  return result;
}

static unsigned long length(const char *text) {
  unsigned long n = 0;
  while (text[n]) n++;
  return n;
}

static int equal(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

#endif
