// `--gdb [HOST:]PORT`: serve the guest to gdb through kwb's stub, kernel-aware when the kernel's symbols are known.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connectGuestRsp, startGdbStub, type GdbStubHandle, type Target } from '../../gdbstub/index.js';
import { linuxAware } from '../../gdbstub/linux/index.js';
import { detectKernel } from '../detect.js';
import type { Guest } from '../guest.js';
import { findKernelTree } from '../kerneltree.js';
import { recordSession } from './sessions.js';
import { ExitCode, KwbError } from '../results.js';

export interface GdbAddress {
  host: string;
  port: number;
}

export function parseGdbAddress(text: string): GdbAddress {
  const match = /^(?:(.*):)?(\d+)$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new KwbError(`--gdb ${text}: give [HOST:]PORT, e.g. :1234 or 127.0.0.1:1234`);
  const host = match[1] ? match[1].replace(/^\[(.*)\]$/, '$1') : '127.0.0.1';
  return { host, port };
}

/** The ELF whose debug info describes `kernel`: UML's kernel is one itself; a RISC-V Image has its tree's vmlinux. */
export function kernelSymbols(kernel: string): string | undefined {
  if (detectKernel(kernel).kind !== 'riscv-image') return kernel;
  const vmlinux = findKernelTree(dirname(kernel))?.vmlinux ?? join(dirname(kernel), 'vmlinux');
  return existsSync(vmlinux) ? vmlinux : undefined;
}

export interface ServeOptions {
  host?: string;
  port: number;
  waitGdb?: boolean;
  log?: (line: string) => void;
  /** The kernel's symbols: given, the stub shows the kernel's tasks as threads and offers ps/dmesg/lsmod. */
  vmlinux?: string;
}

/** Serve a guest started with BootOptions.debug: an RSP channel (UML under gdbserver) through the relay with UML's
 *  own signals passed silently, an in-process Target as it is; either made kernel-aware when `vmlinux` is given. A
 *  client's `kill` stops the guest. */
export async function serveGuest(guest: Guest, opts: ServeOptions): Promise<GdbStubHandle> {
  if (!guest.debugChannel) throw new KwbError(`the ${guest.engine} engine cannot be debugged`);
  const channel = await guest.debugChannel();
  let target: Target =
    channel.kind === 'rsp'
      ? await connectGuestRsp(channel.stream, { uml: guest.engine === 'uml', onKill: () => void guest.stop('killed by gdb'), log: opts.log })
      : channel.target;
  const warn = opts.log ?? ((line: string) => void process.stderr.write(`kwb: ${line}\n`));
  if (opts.vmlinux) target = await linuxAware(target, opts.vmlinux, warn);
  const { vmlinux: _symbols, ...stubOpts } = opts;
  const stub = await startGdbStub(target, stubOpts);
  void stub.killed.then(() => guest.stop('killed by gdb'));
  return stub;
}

/** Serve the guest on `address` for the CLI; announce it on stderr once clients can connect. */
export async function attachGdbStub(
  guest: Guest,
  kernelPath: string,
  address: GdbAddress,
  wait: boolean,
  note: (s: string) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  let stub: GdbStubHandle;
  try {
    stub = await serveGuest(guest, { host: address.host, port: address.port, waitGdb: wait, vmlinux: kernelSymbols(kernelPath) });
  } catch (err) {
    await guest.stop('the gdb stub could not start');
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use; pick another with --gdb :PORT (or :0)' : (err as Error).message;
    throw new KwbError(`cannot serve gdb on ${address.host}:${address.port}: ${why}`, ExitCode.couldNotTest);
  }
  const forget = recordSession({ host: stub.host, port: stub.port, kernel: kernelPath });
  const shown = stub.host.includes(':') ? `[${stub.host}]` : stub.host;
  // the one line tools wait for (the VS Code adapter reads it); always printed, --quiet or not
  process.stderr.write(`kwb: gdb stub listening on ${shown}:${stub.port}\n`);
  note(wait ? `the guest waits for gdb: gdb -ex 'target remote ${shown}:${stub.port}'` : `attach with: kwb gdb --port ${stub.port}`);
  return {
    port: stub.port,
    close: async () => {
      forget();
      await stub.close();
    },
  };
}
