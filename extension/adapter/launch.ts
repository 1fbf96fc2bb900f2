// Launch and attach arguments (the `kwb` debug configuration) and the kwb command line a launch runs.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** The kernel to boot (./linux for UML, arch/riscv/boot/Image or vmlinux for rv64). */
  kernel: string;
  /** Symbols; default: the tree's vmlinux, else the kernel itself. */
  vmlinux?: string;
  engine?: 'uml' | 'rv64';
  initrd?: string;
  rootfs?: string;
  disk?: string;
  share?: string | string[];
  append?: string;
  mem?: string;
  /** Run this in the guest (like kwb run -- CMD); default: a shell on the guest console. */
  command?: string[];
  /** Stop at start_kernel. */
  stopAtEntry?: boolean;
  gdbPath?: string;
  timeout?: number;
  /** The kwb CLI to run (default: the one bundled beside this adapter). */
  kwbPath?: string;
  cwd?: string;
}

export interface AttachArguments extends DebugProtocol.AttachRequestArguments {
  /** host:port of any RSP stub (kwb's, QEMU's -s, a board's gdbserver). */
  target: string;
  vmlinux?: string;
  gdbPath?: string;
  cwd?: string;
}

/** The kernel tree a file is in (a directory with Kconfig and a built vmlinux), if any. */
export function kernelTreeOf(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'Kconfig')) && existsSync(join(dir, 'vmlinux'))) return dir;
  }
  return undefined;
}

/** The tree's vmlinux when the kernel sits in a built tree (arch/riscv/boot/Image -> ../../../vmlinux). */
export function symbolsFor(kernel: string, vmlinux?: string): string {
  if (vmlinux) return vmlinux;
  const tree = kernelTreeOf(kernel);
  return tree ? join(tree, 'vmlinux') : kernel;
}

export function isRiscv(kernel: string): boolean {
  return /riscv|Image$/.test(kernel);
}

/** A free loopback port for the stub (a race with another process is possible but harmless: kwb then fails loudly). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `kwb boot` arguments for a launch; the guest waits for gdb on `port`. */
export function kwbBootArgs(a: LaunchArguments, port: number): string[] {
  const args = ['boot', '--kernel', a.kernel, '--gdb', `127.0.0.1:${port}`, '--wait-gdb'];
  const opt = (name: string, v: string | number | undefined) => {
    if (v !== undefined && v !== '') args.push(`--${name}`, String(v));
  };
  opt('engine', a.engine);
  opt('initrd', a.initrd);
  opt('rootfs', a.rootfs);
  opt('disk', a.disk);
  for (const s of typeof a.share === 'string' ? [a.share] : (a.share ?? [])) opt('share', s);
  opt('append', a.append);
  opt('mem', a.mem);
  opt('timeout', a.timeout);
  if (a.command?.length) args.push('--', ...a.command);
  return args;
}
