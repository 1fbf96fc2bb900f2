// Finding the kernel to boot when the user names none: the build output of the kernel tree around the current
// directory, else Debian's ready-made User-mode Linux.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface KernelTree {
  dir: string;
  arch: 'um' | 'riscv' | 'other';
  /** The bootable build output (./linux for UML, arch/riscv/boot/Image for RISC-V), if built. */
  kernel?: string;
  /** The ELF with debug info, if built. */
  vmlinux?: string;
}

export const DEBIAN_UML = '/usr/bin/linux.uml';

/** The kernel tree containing `from` (a directory with a Makefile, Kconfig and .config), if any. */
export function findKernelTree(from = process.cwd()): KernelTree | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'Kconfig')) && existsSync(join(dir, 'Makefile')) && existsSync(join(dir, '.config'))) {
      return describeTree(dir);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function describeTree(dir: string): KernelTree {
  const config = readFileSync(join(dir, '.config'), 'utf8');
  const arch = /^CONFIG_UML=y$/m.test(config) ? 'um' : /^CONFIG_RISCV=y$/m.test(config) ? 'riscv' : 'other';
  const candidates = arch === 'um' ? ['linux'] : arch === 'riscv' ? ['arch/riscv/boot/Image', 'vmlinux'] : [];
  const kernel = candidates.map((c) => join(dir, c)).find((p) => existsSync(p));
  const vmlinux = existsSync(join(dir, 'vmlinux')) ? join(dir, 'vmlinux') : arch === 'um' ? kernel : undefined;
  return { dir, arch, kernel, vmlinux };
}

/** The kernel to boot with no --kernel, and a note for the user saying which one was picked and why. */
export function defaultKernel(): { kernel: string; note: string } | { error: string } {
  const tree = findKernelTree();
  if (tree?.kernel) return { kernel: tree.kernel, note: `booting ${tree.kernel}` };
  if (tree) {
    return {
      error: `the kernel tree ${tree.dir} has no built kernel; run 'kwb build' (or make) there, or pass --kernel FILE`,
    };
  }
  if (existsSync(DEBIAN_UML))
    return { kernel: DEBIAN_UML, note: `no kernel tree here; booting Debian's ${DEBIAN_UML}` };
  return { error: 'no --kernel given and no built kernel tree here; pass --kernel FILE (./linux from make ARCH=um)' };
}
