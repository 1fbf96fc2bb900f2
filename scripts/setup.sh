#!/usr/bin/env bash
# Install the host tools kwb uses, from Debian's packages. Safe to run again: apt skips what is installed.
set -euo pipefail
packages=(
  # debugging
  gdb gdbserver gdb-multiarch
  # the uml engine: Debian's ready-made UML kernel, busybox for kwb's guest root, cc for kwb's xstate shim
  user-mode-linux busybox-static gcc libc6-dev e2fsprogs
  # building test kernels from Debian's kernel source
  linux-source-6.1 make flex bison bc cpio xz-utils libelf-dev libssl-dev dwarves python3 rsync
  # the rv64 engine: cross compilers for test programs and kernels, QEMU and OpenSBI as references
  gcc-riscv64-linux-gnu gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf binutils-riscv64-unknown-elf
  qemu-system-misc qemu-system-data opensbi device-tree-compiler
  # tests: terminals, and lldb as a second RSP client
  tmux lldb
)
"$(dirname "$0")/apt-install.sh" setup "${packages[@]}"
echo "setup: host tools ready" >&2
