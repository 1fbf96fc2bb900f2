// `kwb gdb`: start gdb on the right vmlinux, attached to a guest that `kwb boot --gdb` is serving.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { detectKernel } from '../engine/detect.js';
import { findKernelTree } from '../engine/kerneltree.js';
import { ExitCode, KwbError } from '../engine/results.js';
import { one, parseArgs, type OptionTable } from './args.js';
import { liveSessions } from '../engine/sessions.js';

export const gdbOptions: OptionTable = {
  port: { value: 'N', help: 'the stub port (default: the newest guest served by kwb boot --gdb)' },
  host: { value: 'HOST', help: 'the stub host (default 127.0.0.1)' },
  vmlinux: { value: 'FILE', help: "symbols (default: the kernel being served, or its tree's vmlinux)" },
  gdb: { value: 'PATH', help: 'the gdb to run (default: gdb, or gdb-multiarch for RISC-V)' },
  help: { help: 'show this help' },
};

/** The ELF with symbols for a kernel: the tree's vmlinux (whose vmlinux-gdb.py gdb auto-loads; UML's ./linux is
 *  the same file under another name), else the kernel itself when it is an ELF. */
function symbolsFor(kernel: string): string {
  const tree = findKernelTree(dirname(kernel));
  if (tree?.vmlinux && existsSync(join(tree.dir, 'vmlinux'))) return join(tree.dir, 'vmlinux');
  if (detectKernel(kernel).kind !== 'riscv-image') return kernel;
  const vmlinux = tree?.vmlinux ?? join(dirname(kernel), 'vmlinux');
  if (!existsSync(vmlinux)) throw new KwbError(`no vmlinux found for ${kernel}; pass --vmlinux FILE`);
  return vmlinux;
}

export async function gdbCommand(argv: string[]): Promise<number> {
  const args = parseArgs('gdb', argv, gdbOptions);
  const sessions = liveSessions();
  const port = one(args, 'port');
  const session = port ? sessions.find((s) => s.port === Number(port)) : sessions[0];
  if (!port && !session)
    throw new KwbError('no guest is being served to gdb; start one with kwb boot --gdb :1234 (or pass --port N)');
  const host = one(args, 'host') ?? session?.host ?? '127.0.0.1';
  const target = `${host.includes(':') ? `[${host}]` : host}:${port ?? session!.port}`;
  const vmlinux = one(args, 'vmlinux') ?? (session ? symbolsFor(session.kernel) : undefined);
  if (!vmlinux) throw new KwbError(`which kernel is on port ${port}? pass --vmlinux FILE`);
  const riscv = detectKernel(vmlinux).kind !== 'uml';
  const gdb = one(args, 'gdb') ?? (riscv ? 'gdb-multiarch' : 'gdb');
  const tree = findKernelTree(dirname(vmlinux));
  const gdbArgs = [
    '-q',
    // the tree's vmlinux-gdb.py (CONFIG_GDB_SCRIPTS) gives the lx-* commands
    ...(tree ? ['-iex', `add-auto-load-safe-path ${tree.dir}`] : []),
    vmlinux,
    '-ex',
    `target remote ${target}`,
    ...args.rest,
  ];
  const child = spawn(gdb, gdbArgs, { stdio: 'inherit' });
  // gdb owns the terminal now; Ctrl-C is for it, not for us
  process.on('SIGINT', () => {});
  return new Promise((resolve, reject) => {
    child.on('error', (err) =>
      reject(new KwbError(`cannot run ${gdb}: ${err.message}; run scripts/setup.sh`, ExitCode.couldNotTest)),
    );
    child.on('exit', (code) => resolve(code ?? ExitCode.interrupted));
  });
}
