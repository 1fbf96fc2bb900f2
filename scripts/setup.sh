#!/usr/bin/env bash
# Install the host tools kwb uses, from Debian's packages. Safe to run again: apt skips what is installed.
#   usage: scripts/setup.sh [--riscv] [--test] [--all]
# With no option: what UML debugging needs (User-mode Linux, gdb, gdbserver) and kernel build tools.
# --riscv: the rv64 engine's extras (gdb-multiarch, cross compilers, picolibc, QEMU, OpenSBI; about 1.2 GB).
# --test:  what kwb's own test suite needs (Debian's kernel source, lldb, tmux, Chromium for the VS Code test).
set -euo pipefail
usage="usage: scripts/setup.sh [--riscv] [--test] [--all]"
minimal=(
  # debugging
  gdb gdbserver
  # the uml engine: Debian's ready-made UML kernel, busybox for kwb's guest root, cc for kwb's xstate shim
  user-mode-linux busybox-static gcc libc6-dev e2fsprogs
  # --net user: libslirp (QEMU's user-mode network stack), which kwb's NAT helper is compiled against
  libslirp-dev
  # kwb build: the kernel's build tools, ccache for repeated builds, distcc for build farms (its daemon stays off)
  make flex bison bc cpio xz-utils libelf-dev libssl-dev dwarves python3 rsync ccache distcc
  # kwb build installs modules for the guest (depmod), kwb rootfs makes Debian roots (unshare mode: no root needed)
  kmod mmdebstrap uidmap genext2fs
)
riscv=(
  gdb-multiarch gcc-riscv64-linux-gnu gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  binutils-riscv64-unknown-elf qemu-system-misc qemu-system-data opensbi device-tree-compiler
)
test=(
  # the test kernels are built from Debian's kernel source; lldb as a second debugger; terminal and VS Code tests
  linux-source-6.1 lldb tmux chromium
  # the network tests read the guests' captures
  tcpdump
)
packages=("${minimal[@]}")
for arg in "$@"; do
  case "$arg" in
    --riscv) packages+=("${riscv[@]}") ;;
    --test) packages+=("${test[@]}") ;;
    --all) packages+=("${riscv[@]}" "${test[@]}") ;;
    -h | --help) echo "$usage"; exit 0 ;;
    *) echo "setup: unknown option '$arg'; $usage" >&2; exit 2 ;;
  esac
done
"$(dirname "$0")/apt-install.sh" setup "${packages[@]}"
echo "setup: host tools ready" >&2

# kwb runs on Node.js 20 or newer; Debian 12's own nodejs package is 18
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "setup: kwb needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none)). Debian 12's nodejs is 18;" \
    "install Node 20 from NodeSource (https://github.com/nodesource/distributions) or with nvm, then run npm ci" >&2
  exit 1
fi
