// Finding the kernel to boot when the user names none: the build output of the kernel tree around the current
// directory, else Debian's ready-made User-mode Linux.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface KernelTree {
  /** Where the build output is: the source tree, or the O= directory of an out-of-tree build. */
  dir: string;
  /** The kernel source (the same as dir for an in-tree build). */
  source: string;
  arch: 'um' | 'riscv' | 'other';
  /** The bootable build output (./linux for UML, arch/riscv/boot/Image for RISC-V), if built. */
  kernel?: string;
  /** The ELF with debug info, if built. */
  vmlinux?: string;
}

export const DEBIAN_UML = '/usr/bin/linux.uml';

/** The source tree (Makefile and Kconfig) or O= output directory (Makefile and the `source` link kbuild makes)
 *  containing `from`, configured or not. */
export function findTreeDir(from = process.cwd()): { dir: string; source: string } | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'Makefile'))) {
      if (existsSync(join(dir, 'Kconfig'))) return { dir, source: dir };
      const link = join(dir, 'source');
      if (existsSync(join(link, 'Kconfig'))) return { dir, source: realpathSync(link) };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The configured kernel tree (or O= output directory) containing `from`, if any. */
export function findKernelTree(from = process.cwd()): KernelTree | undefined {
  const found = findTreeDir(from);
  return found && existsSync(join(found.dir, '.config')) ? describeTree(found.dir, found.source) : undefined;
}

export function describeTree(dir: string, source = dir): KernelTree {
  const config = readFileSync(join(dir, '.config'), 'utf8');
  const arch = /^CONFIG_UML=y$/m.test(config) ? 'um' : /^CONFIG_RISCV=y$/m.test(config) ? 'riscv' : 'other';
  const candidates = arch === 'um' ? ['linux'] : arch === 'riscv' ? ['arch/riscv/boot/Image', 'vmlinux'] : [];
  const kernel = candidates.map((c) => join(dir, c)).find((p) => existsSync(p));
  const vmlinux = existsSync(join(dir, 'vmlinux')) ? join(dir, 'vmlinux') : arch === 'um' ? kernel : undefined;
  return { dir, source, arch, kernel, vmlinux };
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
