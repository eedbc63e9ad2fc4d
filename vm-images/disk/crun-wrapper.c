/*
 * Docker's runtime in the guest (/usr/local/libexec/berth/crun, named in daemon.json): crun,
 * with one change to each new container's spec.
 *
 * dockerd gives every container a prestart hook that re-executes the 53 MB dockerd binary
 * (`/proc/<dockerd pid>/exe libnetwork-setkey …`) only to tell dockerd, over its libnetwork
 * socket, which network namespace the container got; starting that Go binary cost about a
 * third of a `docker run`. For `create` and `run`, this program points the hook's path at
 * Berth's libnetwork-setkey (beside it; same arguments, same socket protocol) in the
 * bundle's config.json, then executes /usr/bin/crun with the same arguments and
 * environment. Every other runtime command, and any spec without that hook, reaches crun
 * unchanged.
 *
 * dockerd runs its runtime four times per container. The shell script this replaces
 * started dash each time and sed once: ~1.1 M guest instructions a call and ~3 M for the
 * sed. This is a static binary without libc (the host's gcc in 32-bit mode builds it), so
 * starting it costs little more than the exec.
 */

#define SYS_exit 1
#define SYS_read 3
#define SYS_write 4
#define SYS_open 5
#define SYS_close 6
#define SYS_execve 11
#define SYS_lseek 19
#define SYS_ftruncate 93
#define O_RDWR 2
#define O_CLOEXEC 02000000

/* The unit test builds it with another program in crun's place. */
#ifndef CRUN_PATH
#define CRUN_PATH "/usr/bin/crun"
#endif
static const char CRUN[] = CRUN_PATH;
static const char HOOK_PATH[] = "/usr/local/libexec/berth/libnetwork-setkey";
/* The spec as dockerd writes it (compact JSON): the hook's path, then its first argument. */
static const char PATH_PREFIX[] = "\"path\":\"/proc/";
static const char PATH_SUFFIX[] = "/exe\",\"args\":[\"libnetwork-setkey\"";

/* A container's config.json is a few KiB; a larger one is passed on unchanged. */
#define SPEC_CAPACITY (1 << 20)
static char spec[SPEC_CAPACITY];
static char rewritten[SPEC_CAPACITY + sizeof HOOK_PATH];

#include "freestanding.h"

static int starts_with(const char *text, const char *prefix) {
  while (*prefix && *text == *prefix) text++, prefix++;
  return *prefix == 0;
}

static void say(const char *a, const char *b) {
  syscall3(SYS_write, 2, (long)a, (long)length(a));
  syscall3(SYS_write, 2, (long)b, (long)length(b));
  syscall3(SYS_write, 2, (long)"\n", 1);
}

/*
 * Rewrites the first setkey hook path in <bundle>/config.json. Any failure leaves the file
 * as it was or, past the point of writing, says so: crun then reports the spec's problem.
 */
static void point_hook_at_berth(const char *bundle) {
  char path[4096];
  unsigned long used = 0;
  const char *part;
  for (part = bundle; *part && used < sizeof path - 16; part++) path[used++] = *part;
  for (part = "/config.json"; *part; part++) path[used++] = *part;
  path[used] = 0;

  long fd = syscall3(SYS_open, (long)path, O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) return;
  long size = 0;
  for (;;) {
    long got = syscall3(SYS_read, fd, (long)(spec + size), SPEC_CAPACITY - 1 - size);
    if (got <= 0) break;
    size += got;
    if (size == SPEC_CAPACITY - 1) {
      say("berth crun wrapper: spec too large to rewrite, left as it is: ", path);
      syscall3(SYS_close, fd, 0, 0);
      return;
    }
  }
  spec[size] = 0;

  /* Find "path":"/proc/<digits>/exe","args":["libnetwork-setkey" */
  long at;
  long digits_end = -1;
  for (at = 0; at < size; at++) {
    if (!starts_with(spec + at, PATH_PREFIX)) continue;
    long end = at + (long)sizeof PATH_PREFIX - 1;
    long first_digit = end;
    while (spec[end] >= '0' && spec[end] <= '9') end++;
    if (end > first_digit && starts_with(spec + end, PATH_SUFFIX)) {
      digits_end = end;
      break;
    }
  }
  if (digits_end < 0) {
    syscall3(SYS_close, fd, 0, 0);
    return;
  }

  /* "path":"<HOOK_PATH>","args":[… — everything from the closing quote of the path on stays. */
  long out = 0;
  long i;
  for (i = 0; i < at + 8; i++) rewritten[out++] = spec[i]; /* up to and including "path":" */
  for (i = 0; HOOK_PATH[i]; i++) rewritten[out++] = HOOK_PATH[i];
  for (i = digits_end + 4; i < size; i++) rewritten[out++] = spec[i]; /* from the quote after /exe */

  long written = 0;
  if (syscall3(SYS_lseek, fd, 0, 0) == 0) {
    while (written < out) {
      long put = syscall3(SYS_write, fd, (long)(rewritten + written), out - written);
      if (put <= 0) break;
      written += put;
    }
  }
  if (written != out || syscall3(SYS_ftruncate, fd, out, 0) != 0) say("berth crun wrapper: could not rewrite ", path);
  syscall3(SYS_close, fd, 0, 0);
}

__attribute__((used)) static void start(long *stack) {
  long argc = stack[0];
  char **argv = (char **)(stack + 1);
  char **envp = argv + argc + 1;
  const char *bundle = 0;
  int creates = 0;
  long i;
  for (i = 1; i < argc; i++) {
    const char *argument = argv[i];
    if ((equal(argument, "--bundle") || equal(argument, "-b")) && i + 1 < argc) bundle = argv[i + 1];
    else if (starts_with(argument, "--bundle=")) bundle = argument + 9;
    if (!creates && (equal(argument, "create") || equal(argument, "run"))) creates = 1;
  }
  if (creates && bundle) point_hook_at_berth(bundle);
  argv[0] = (char *)CRUN;
  syscall3(SYS_execve, (long)CRUN, (long)argv, (long)envp);
  say("berth crun wrapper: cannot execute ", CRUN);
  syscall3(SYS_exit, 127, 0, 0);
}

/* The kernel enters here with argc, argv and envp on the stack, not as arguments. */
__asm__(
    ".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %esp, %eax\n"
    "  and $-16, %esp\n"
    "  sub $12, %esp\n"
    "  push %eax\n"
    "  call start\n"
    "  hlt\n");
