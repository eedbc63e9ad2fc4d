/*
 * A shared library dockerd is started with (LD_PRELOAD, in /etc/berth/rc.sysinit), so every
 * process dockerd starts loads it too. In all of them but one it only compares argv[0] and
 * returns.
 *
 * The one: Docker 20.10's libnetwork sets one sysctl in each new container's network
 * namespace (net.ipv6.conf.all.disable_ipv6, "as a starting point") by re-executing the
 * whole 53 MB dockerd binary as `set-ipv6 <netns path> <interface> <true|false>`. Go's
 * runtime and dockerd's package initialisers then run before that one write: ~140 M guest
 * instructions with GOGC=400, 481 → 341 M per `docker run` once this library does it.
 * Later Moby releases do the write in process (a goroutine locked to a thread); this
 * constructor does it in the re-executed process before Go's runtime starts, with the same
 * system calls (open the namespace, setns, write "1\n" or "0\n" to
 * /proc/sys/net/ipv6/conf/<interface>/disable_ipv6), the same messages on stderr (dockerd's
 * log) and the same exit codes, and then exits.
 *
 * Built without libc (-nostdlib): the dynamic loader calls a library's constructors with
 * argc, argv and envp, and the few system calls are made directly, so the library adds
 * no dependency to the processes it is loaded into.
 */

#define SYS_exit_group 252
#define SYS_open 5
#define SYS_close 6
#define SYS_write 4
#define SYS_readlink 85
#define SYS_setns 346
#define O_RDONLY 0
#define O_WRONLY 1
#define O_CLOEXEC 02000000
#define CLONE_NEWNET 0x40000000
#define ENOENT 2

#include "freestanding.h"

/* Appends text to buffer[*used], never past capacity - 1, and keeps it terminated. */
static void append(char *buffer, unsigned long capacity, unsigned long *used, const char *text) {
  while (*text && *used + 1 < capacity) buffer[(*used)++] = *text++;
  buffer[*used] = 0;
}

static void append_number(char *buffer, unsigned long capacity, unsigned long *used, long value) {
  char digits[12];
  int n = 0;
  if (value < 0) {
    append(buffer, capacity, used, "-");
    value = -value;
  }
  do digits[n++] = (char)('0' + value % 10); while ((value /= 10) && n < 11);
  while (n > 0) {
    char one[2] = {digits[--n], 0};
    append(buffer, capacity, used, one);
  }
}

/* One line in dockerd's log, in the shape logrus gives the re-executed process's lines. */
static void report(const char *level, const char *what, const char *subject, long error) {
  char line[512];
  unsigned long used = 0;
  append(line, sizeof line, &used, "level=");
  append(line, sizeof line, &used, level);
  append(line, sizeof line, &used, " msg=\"");
  append(line, sizeof line, &used, what);
  append(line, sizeof line, &used, subject);
  if (error) {
    append(line, sizeof line, &used, ": errno ");
    append_number(line, sizeof line, &used, error);
  }
  append(line, sizeof line, &used, "\"\n");
  syscall3(SYS_write, 2, (long)line, (long)length(line));
}

static void leave(int code) {
  syscall3(SYS_exit_group, code, 0, 0);
  for (;;) {
  }
}

static int is_dockerd(void) {
  static const char dockerd[] = "/usr/sbin/dockerd";
  char target[sizeof dockerd + 1];
  long n = syscall3(SYS_readlink, (long)"/proc/self/exe", (long)target, sizeof target);
  if (n != (long)sizeof dockerd - 1) return 0;
  target[n] = 0;
  return equal(target, dockerd);
}

__attribute__((constructor)) static void set_ipv6_in_process(int argc, char **argv, char **envp) {
  (void)envp;
  if (argc < 1 || !argv || !argv[0] || !equal(argv[0], "set-ipv6") || !is_dockerd()) return;
  if (argc < 4) {
    report("error", "invalid number of arguments for ", argv[0], 0);
    leave(1);
  }
  const char *namespace_path = argv[1], *interface = argv[2];
  int enable = equal(argv[3], "true");

  long namespace = syscall3(SYS_open, (long)namespace_path, O_RDONLY | O_CLOEXEC, 0);
  if (namespace < 0) {
    report("error", "failed get network namespace ", namespace_path, -namespace);
    leave(2);
  }
  long joined = syscall3(SYS_setns, namespace, CLONE_NEWNET, 0);
  if (joined < 0) {
    report("error", "setting into container netns failed: ", namespace_path, -joined);
    leave(3);
  }
  syscall3(SYS_close, namespace, 0, 0);

  char path[256];
  unsigned long used = 0;
  append(path, sizeof path, &used, "/proc/sys/net/ipv6/conf/");
  append(path, sizeof path, &used, interface);
  append(path, sizeof path, &used, "/disable_ipv6");
  long file = syscall3(SYS_open, (long)path, O_WRONLY | O_CLOEXEC, 0);
  if (file == -ENOENT) {
    report("warning", "file does not exist, has IPv6 been disabled in this node's kernel? ", path, 0);
    leave(0);
  }
  const char *value = enable ? "0\n" : "1\n";
  long written = file < 0 ? file : syscall3(SYS_write, file, (long)value, 2);
  if (written != 2) {
    report("error", enable ? "failed to enable IPv6 forwarding for container's interface "
                           : "failed to disable IPv6 forwarding for container's interface ",
           interface, written < 0 ? -written : 0);
    leave(4);
  }
  syscall3(SYS_close, file, 0, 0);
  leave(0);
}
