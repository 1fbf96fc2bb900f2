// `--gdb [HOST:]PORT`: serve the guest to gdb through kwb's stub, kernel-aware when the kernel's symbols are known.
import { resolve } from 'node:path';
import type { GdbStubHandle } from '../gdbstub/index.js';
import type { Guest } from '../engine/guest.js';
import { serveGuest } from '../engine/serve.js';
import { recordSession } from '../engine/sessions.js';
import { ExitCode, KwbError } from '../engine/results.js';

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

/** Serve the guest on `address` for the CLI; announce it on stderr once clients can connect. */
export async function attachGdbStub(
  guest: Guest,
  address: GdbAddress,
  wait: boolean,
  note: (s: string) => void,
  shares: string[] = [],
): Promise<{ port: number; close(): Promise<void> }> {
  let stub: GdbStubHandle;
  try {
    stub = await serveGuest(guest, {
      host: address.host,
      port: address.port,
      waitGdb: wait,
      vmlinux: guest.kernel.vmlinux,
      shares,
    });
  } catch (err) {
    await guest.stop('the gdb stub could not start');
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE' ? 'the port is in use; pick another with --gdb :PORT (or :0)' : (err as Error).message;
    throw new KwbError(`cannot serve gdb on ${address.host}:${address.port}: ${why}`, ExitCode.couldNotTest);
  }
  const { kernel, vmlinux, buildId, gdb, gdbScripts, tree } = guest.kernel;
  const debug = { vmlinux, buildId, gdb, gdbScripts, tree };
  const forget = recordSession({ host: stub.host, port: stub.port, kernel: resolve(kernel), debug });
  const shown = stub.host.includes(':') ? `[${stub.host}]` : stub.host;
  // the one line tools wait for (the VS Code adapter reads it); always printed, --quiet or not
  process.stderr.write(`kwb: gdb stub listening on ${shown}:${stub.port}\n`);
  if (stub.exposure) process.stderr.write(`kwb: warning: ${stub.exposure}\n`);
  note(
    wait
      ? `the guest waits for gdb: gdb -ex 'target remote ${shown}:${stub.port}'`
      : `attach with: kwb gdb --port ${stub.port}`,
  );
  return {
    port: stub.port,
    close: async () => {
      forget();
      await stub.close();
    },
  };
}
