// Serving a guest started with BootOptions.debug to gdb: each engine hands over its debug channel (an RSP stream
// for UML under gdbserver, an in-process Target for rv64); this wraps it in the kernel-aware layer and the stub.
import { connectGuestRsp, startGdbStub, type GdbStubHandle, type Target } from '../gdbstub/index.js';
import { linuxAwareWhenReady } from '../gdbstub/linux/index.js';
import { moduleFinder } from './build/modules.js';
import type { Guest } from './guest.js';
import { KwbError } from './results.js';

export interface ServeOptions {
  host?: string;
  port: number;
  waitGdb?: boolean;
  log?: (line: string) => void;
  /** The kernel's symbols: given, the stub shows the kernel's tasks as threads and offers ps/dmesg/lsmod. */
  vmlinux?: string;
  /** The guest's shared host directories: out-of-tree modules loaded from them are found there. */
  shares?: string[];
}

export interface ServedGuest extends GdbStubHandle {
  /** Settles when the stub has become kernel-aware (true) or will not be (false); undefined without `vmlinux`. */
  kernelAware?: Promise<boolean>;
}

/** Serve a guest started with BootOptions.debug: an RSP channel (UML under gdbserver) through the relay with UML's
 *  own signals passed silently, an in-process Target as it is; either made kernel-aware when `vmlinux` is given,
 *  as soon as its offsets are learnt (while the guest boots; clients are served from the start). A client's `kill`
 *  stops the guest. */
export async function serveGuest(guest: Guest, opts: ServeOptions): Promise<ServedGuest> {
  if (!guest.debugChannel) throw new KwbError(`the ${guest.engine} engine cannot be debugged`);
  const warn = opts.log ?? ((line: string) => void process.stderr.write(`kwb: ${line}\n`));
  const channel = await guest.debugChannel(warn);
  const target: Target =
    channel.kind === 'rsp'
      ? await connectGuestRsp(channel.stream, channel.relay, {
          onKill: () => void guest.stop('killed by gdb'),
          log: opts.log,
          notice: warn,
        })
      : channel.target;
  // loaded modules are offered to the client as libraries (gdb loads their symbols by itself), their .ko found in
  // the kernel's build, its installed modules and the shares
  const { tree, modules } = guest.kernel;
  const moduleDirs = [tree?.build, modules?.dir, ...(opts.shares ?? [])].filter((d): d is string => !!d);
  const aware = opts.vmlinux ? linuxAwareWhenReady(target, opts.vmlinux, warn, moduleFinder(moduleDirs)) : undefined;
  const { vmlinux: _symbols, shares: _shares, ...stubOpts } = opts;
  const stub = await startGdbStub(aware ?? target, stubOpts);
  void stub.killed.then(() => guest.stop('killed by gdb'));
  return Object.assign(stub, { kernelAware: aware?.ready }); // the stub's getters kept
}
