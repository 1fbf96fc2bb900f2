// Everything kwb needs to know about one kernel, decided once: which engine boots it, where its source tree and
// build directory are (also `make O=DIR` builds), the ELF with its symbols and that ELF's build-id, which gdb drives
// it (from the ELF's e_machine or the RISC-V Image header, never from a file name) and where the tree's gdb scripts
// are. The CLI computes it in the boot path and the Guest carries it; `kwb gdb`, the stub and the VS Code side use it.
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { gnuBuildId } from '../gdbstub/linux/buildid.js';
import { installedModules, type InstalledModules } from './build/modules.js';
import { detectKernel, elfHeaders, EM_X86_64 } from './detect.js';
import type { EngineName } from './guest.js';
import { ExitCode, KwbError } from './results.js';

/** gdb for an x86-64 (UML) kernel, Debian's gdb-multiarch for any other architecture. */
export type GdbProgram = 'gdb' | 'gdb-multiarch';

/** A kernel build: the source tree and the directory the build wrote to (the same unless `make O=DIR`). */
export interface KernelTree {
  source: string;
  build: string;
  arch: 'um' | 'riscv' | 'other';
  /** The bootable build output (./linux for UML, arch/riscv/boot/Image for RISC-V), if built. */
  kernel?: string;
  /** The ELF with debug info, if built. */
  vmlinux?: string;
}

/** What a debugger needs: the symbols, the gdb for them and the tree's gdb scripts. */
export interface DebugInfo {
  /** The ELF with the kernel's symbols, if there is one. */
  vmlinux?: string;
  /** Its GNU build-id (hex): the key of everything cached about this build. */
  buildId?: string;
  gdb: GdbProgram;
  /** The directory holding vmlinux-gdb.py (CONFIG_GDB_SCRIPTS: lx-dmesg, lx-ps, ...), to allow gdb to load it. */
  gdbScripts?: string;
  tree?: KernelTree;
}

export interface KernelInfo extends DebugInfo {
  /** The file that is booted, as given. */
  kernel: string;
  engine: EngineName;
  arch: 'um' | 'riscv';
  format: 'elf' | 'image';
  /** A dynamically linked UML kernel (kwb preloads its FPU-state shim into it). */
  dynamic: boolean;
  /** Its installed modules (kwb build stages them; Debian's linux.uml has its own): the guest's /lib/modules. */
  modules?: InstalledModules;
}

export const DEBIAN_UML = '/usr/bin/linux.uml';

const hasConfig = (dir: string) => existsSync(join(dir, '.config')) && existsSync(join(dir, 'Makefile'));

/** The source tree of a build directory: itself, or (for `make O=DIR`) where its `source` link or its generated
 *  Makefile's `include SRC/Makefile` points. */
function sourceOf(build: string): string | undefined {
  if (existsSync(join(build, 'Kconfig'))) return build;
  try {
    const link = readlinkSync(join(build, 'source'));
    return resolve(build, link);
  } catch {
    // older trees and some build systems: no link, but the generated Makefile names the source
  }
  const include = /^include\s+(\S+)\/Makefile\s*$/m.exec(readFileSync(join(build, 'Makefile'), 'utf8'))?.[1];
  return include && isAbsolute(include) && existsSync(join(include, 'Kconfig')) ? include : undefined;
}

function describeTree(build: string, source: string): KernelTree {
  const config = readFileSync(join(build, '.config'), 'utf8');
  const arch = /^CONFIG_UML=y$/m.test(config) ? 'um' : /^CONFIG_RISCV=y$/m.test(config) ? 'riscv' : 'other';
  const outputs = arch === 'um' ? ['linux'] : arch === 'riscv' ? ['arch/riscv/boot/Image', 'vmlinux'] : [];
  const kernel = outputs.map((c) => join(build, c)).find((p) => existsSync(p));
  const vmlinux = existsSync(join(build, 'vmlinux')) ? join(build, 'vmlinux') : arch === 'um' ? kernel : undefined;
  return { source, build, arch, kernel, vmlinux };
}

/** The source tree or `make O=` build directory containing `from`, configured or not (what kwb build builds). */
export function findTreeDir(from = process.cwd()): { dir: string; source: string } | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const source = existsSync(join(dir, 'Makefile')) ? sourceOf(dir) : undefined;
    if (source) return { dir, source };
    if (dirname(dir) === dir) return undefined;
  }
}

/** The configured kernel build containing `from` (in-tree, or an `O=` build directory), if any. */
export function findKernelTree(from = process.cwd()): KernelTree | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (hasConfig(dir)) {
      const source = sourceOf(dir);
      if (source) return describeTree(dir, source);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The kernel to boot with no --kernel, and a note saying which one was picked and why. */
export function defaultKernel(): { kernel: string; note: string } | { error: string } {
  const tree = findKernelTree();
  if (tree?.kernel) return { kernel: tree.kernel, note: `booting ${tree.kernel}` };
  if (tree) {
    return {
      error: `the kernel tree ${tree.build} has no built kernel; run 'kwb build' (or make) there, or pass --kernel FILE`,
    };
  }
  if (existsSync(DEBIAN_UML))
    return { kernel: DEBIAN_UML, note: `no kernel tree here; booting Debian's ${DEBIAN_UML}` };
  return { error: 'no --kernel given and no built kernel tree here; pass --kernel FILE (./linux from make ARCH=um)' };
}

function realDir(file: string): string {
  try {
    return dirname(realpathSync(file));
  } catch {
    return dirname(resolve(file));
  }
}

/** Debug facts of an ELF with symbols (a vmlinux given by the user, or found for a kernel). */
export function debugInfo(
  symbols: string | undefined,
  tree = symbols ? findKernelTree(realDir(symbols)) : undefined,
): DebugInfo {
  // absolute: the session record hands it to other processes
  const vmlinux = symbols && resolve(symbols);
  const elf = vmlinux ? elfHeaders(vmlinux) : undefined;
  if (vmlinux && !elf)
    throw new KwbError(`${vmlinux} is not a 64-bit ELF with symbols; pass the vmlinux of the build`, ExitCode.usage);
  const scripts = [tree?.build, vmlinux && realDir(vmlinux)].find((d) => d && existsSync(join(d, 'vmlinux-gdb.py')));
  return {
    vmlinux,
    buildId: vmlinux ? gnuBuildId(vmlinux) : undefined,
    // no symbols at all (an attach to some stub): gdb-multiarch speaks every architecture
    gdb: elf?.machine === EM_X86_64 ? 'gdb' : 'gdb-multiarch',
    gdbScripts: scripts || undefined,
    tree,
  };
}

/** The facts of the kernel file `kernel`; a one-line error (exit 2) when it is not one kwb can boot. */
export function kernelInfo(kernel: string): KernelInfo {
  const kind = detectKernel(kernel);
  const tree = findKernelTree(realDir(kernel));
  const beside = join(realDir(kernel), 'vmlinux');
  // the tree's vmlinux first: gdb loads vmlinux-gdb.py for a file of that name (UML's ./linux is the same ELF)
  const vmlinux =
    tree?.vmlinux && existsSync(tree.vmlinux)
      ? tree.vmlinux
      : kind.kind !== 'riscv-image'
        ? kernel
        : existsSync(beside)
          ? beside
          : undefined;
  const engine = kind.kind === 'uml' ? 'uml' : 'rv64';
  const debug = debugInfo(vmlinux, tree);
  // an Image without symbols still needs the RISC-V gdb
  const gdb: GdbProgram = vmlinux ? debug.gdb : 'gdb-multiarch';
  return {
    ...debug,
    gdb,
    kernel,
    engine,
    arch: engine === 'uml' ? 'um' : 'riscv',
    format: kind.kind === 'riscv-image' ? 'image' : 'elf',
    dynamic: kind.kind === 'uml' && kind.dynamic,
    modules: installedModules(tree?.build, kernel),
  };
}

/** A one-line error unless `engine` can boot this kernel. */
export function checkEngine(info: KernelInfo, engine: EngineName): void {
  if (info.engine === engine) return;
  if (engine === 'uml')
    throw new KwbError(
      `${info.kernel} is a RISC-V kernel; the uml engine runs only ARCH=um kernels (drop --engine uml to use rv64)`,
    );
  throw new KwbError(
    `${info.kernel} is a User-mode Linux kernel; the rv64 engine boots ARCH=riscv kernels (drop --engine rv64)`,
  );
}

/** gdb's command line before the target: the tree's scripts allowed to auto-load, then the symbols. */
export function gdbArgs(info: DebugInfo): string[] {
  return [
    ...(info.gdbScripts ? ['-iex', `add-auto-load-safe-path ${info.gdbScripts}`] : []),
    ...(info.vmlinux ? [info.vmlinux] : []),
  ];
}
