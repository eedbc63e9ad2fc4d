/*
 * The hello-world image's whole program: a static i386 binary with no libc, so the image
 * is a few kilobytes. It writes the greeting with the write(2) system call and exits 0.
 */
static const char greeting[] =
    "\n"
    "Hello from Docker, running inside Berth!\n"
    "\n"
    "If you can read this, everything worked:\n"
    " 1. The docker command asked the Docker daemon to run the \"hello-world\" image.\n"
    " 2. The daemon did not have it, so it pulled it from the registry inside this machine.\n"
    " 3. The daemon created a container from the image and ran this program in it.\n"
    " 4. The daemon streamed the program's output back to your terminal.\n"
    "\n"
    "Try something bigger next:\n"
    " $ docker run -it debian bash\n"
    "\n";

void _start(void) {
  long written;
  __asm__ volatile("int $0x80" : "=a"(written) : "a"(4), "b"(1), "c"(greeting), "d"(sizeof greeting - 1) : "memory");
  __asm__ volatile("int $0x80" : : "a"(1), "b"(0));
  for (;;) {
  }
}
