// A guest run by the real kwb CLI with its gdb stub (`kwb run --gdb`), for tests that attack the stub and then check
// that the guest still finishes its command with its own exit status.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { frame } from '../../gdbstub/packet.js';
import { RawClient, tick } from './gdbstub-fake.js';
import { collect, until, type KwbRun, type Sandbox } from './kwb.js';

/** UML's kernel text: memory every UML guest has. */
export const UML_TEXT = 0x60000000n;

export interface ServedGuest {
  /** The stub's TCP port on 127.0.0.1. */
  port: number;
  /** kwb's own process (the one the stub lives in). */
  pid: number;
  /** Settles when kwb exits. */
  result: Promise<KwbRun>;
  stdout(): string;
  stderr(): string;
  /** Type into kwb's stdin (the guest's console, or its command's input). */
  input(text: string): void;
}

/** `kwb run --kernel KERNEL --gdb HOST:0 [extra] -- command`, once the stub listens. */
export function runServed(
  box: Sandbox,
  kernel: string,
  command: string[],
  opts: { host?: string; extra?: string[] } = {},
): Promise<ServedGuest> {
  return startServed(box, [
    'run',
    '--kernel',
    kernel,
    '--gdb',
    `${opts.host ?? '127.0.0.1'}:0`,
    ...(opts.extra ?? []),
    '--',
    ...command,
  ]);
}

/** kwb with these arguments (a --gdb HOST:0 among them), once the stub listens. */
export async function startServed(box: Sandbox, args: string[]): Promise<ServedGuest> {
  const child = box.start(args);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const result = collect(child);
  const listening = /gdb stub listening on \S+:(\d+)/;
  await Promise.race([
    until(() => listening.test(err), 'the gdb stub to listen', 120_000),
    result.then((r) => {
      throw new Error(`kwb exited (${r.code}) before its stub listened:\n${r.stderr}`);
    }),
  ]);
  return {
    port: Number(listening.exec(err)![1]),
    pid: child.pid!,
    result,
    stdout: () => out,
    stderr: () => err,
    input: (text) => child.stdin!.write(text),
  };
}

/** A process's resident set and its peak so far, in MiB (from /proc/PID/status). */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** A client that pipelines `requests` reads of 128 KiB (256 KiB of hex each) and never reads a reply, for `ms`;
 *  kwb's resident set before, and its peak meanwhile, in MiB. The client then hangs up. */
export async function memoryUnderNonReader(
  guest: ServedGuest,
  opts: { requests: number; ms: number; memoryBase: bigint },
): Promise<{ before: number; peak: number }> {
  const c = await RawClient.connect(guest.port);
  try {
    assert.equal(await c.request('QStartNoAckMode', 30_000), 'OK');
    const before = memoryMiB(guest.pid).rss;
    c.sock.pause();
    const read = frame(`m${opts.memoryBase.toString(16)},1fff0`);
    c.raw(Buffer.concat(Array.from({ length: opts.requests }, () => read)));
    let peak = 0;
    for (const end = Date.now() + opts.ms; Date.now() < end;) {
      await tick(100);
      peak = Math.max(peak, memoryMiB(guest.pid).peak);
    }
    return { before, peak };
  } finally {
    c.close();
  }
}
