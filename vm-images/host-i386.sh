# The host's ability to run i386 programs, which the build's chroots need. Sourced by
# build.sh after lib.sh, never run; kept out of lib.sh, which every step hashes, because how
# a host runs them does not change what a step makes.
# enable_i386_programs : makes sure this amd64 host can run the i386 programs that mmdebstrap's
# chroots execute (maintainer scripts, crun's compiler). Most x86-64 kernels run them
# natively; some hosts have IA-32 emulation switched off (`ia32_emulation=off`, then execve
# of an i386 ELF fails with ENOEXEC and mmdebstrap stops with "i386 can neither be executed
# natively nor via qemu user emulation"). There Debian's qemu-user-static runs them, through
# a binfmt_misc entry this registers: Debian's package leaves i386 out on amd64 hosts. The
# F flag opens the interpreter now, so it works inside chroots that lack it. Outputs are
# the same files either way, so no step's hash depends on which path ran.
enable_i386_programs() {
  command -v arch-test >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq arch-test >/dev/null
  arch-test i386 >/dev/null 2>&1 && return 0
  log "this kernel does not run i386 programs natively: running them with qemu-user-static"
  dpkg -s qemu-user-static >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
  local binfmt=/proc/sys/fs/binfmt_misc
  [ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" || die "cannot mount binfmt_misc at $binfmt (needed to run i386 programs with qemu)"
  if [ ! -e "$binfmt/berth-qemu-i386" ]; then
    # An i386 ELF executable's header (ELF32, little-endian, ET_EXEC or ET_DYN, EM_386).
    printf '%s' ':berth-qemu-i386:M::\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-i386-static:F' \
      > "$binfmt/register" || die "cannot register qemu-i386-static with binfmt_misc"
  fi
  arch-test i386 >/dev/null 2>&1 || die "i386 programs still do not run (arch-test i386) after registering qemu-i386-static"
}

