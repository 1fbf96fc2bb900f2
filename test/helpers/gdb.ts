// Helpers for tests that drive a real gdb against kwb's stub (and a real UML kernel under gdbserver).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { bootGuest } from '../../engine/boot.js';
import type { Guest } from '../../engine/guest.js';
import type { GdbStubHandle } from '../../gdbstub/index.js';
import { serveGuest } from '../../engine/serve.js';

let treeCache: string | undefined;

/** The cached UML fixture kernel tree (built by test/fixtures/build-kernel.sh um). */
export function umlTree(): string {
  if (treeCache) return treeCache;
  const r = spawnSync('bash', ['test/fixtures/build-kernel.sh', 'um'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tree = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(join(tree, 'linux')))
    throw new Error(`cannot get the UML fixture kernel: ${r.stdout}`);
  treeCache = tree;
  return tree;
}

export interface GdbResult {
  code: number | null;
  out: string;
  err: string;
}

/** Run gdb in batch mode on `file` with the given commands, attached to 127.0.0.1:port; killed after timeoutMs. */
export function runGdb(
  file: string | undefined,
  commands: string[],
  opts: {
    timeoutMs?: number;
    /** Allow gdb to auto-load the kernel's gdb scripts (vmlinux-gdb.py) from this tree. */
    scripts?: string;
    t?: TestContext;
    /** Send gdb SIGINT (as a user's ^C would) delayMs after `when()` first holds (polled every 50 ms). */
    interruptAfter?: { when: () => boolean; delayMs: number };
    /** The gdb to run (default `gdb`; `gdb-multiarch` for RISC-V). */
    gdb?: string;
  } = {},
): Promise<GdbResult> {
  const args = [
    '-nx',
    '-q',
    '-batch',
    '-iex',
    'set pagination off',
    '-iex',
    'set confirm off',
    ...(opts.scripts ? ['-iex', `add-auto-load-safe-path ${opts.scripts}`] : []),
  ];
  for (const c of commands) args.push('-ex', c);
  if (file) args.push(file);
  const child = spawn(opts.gdb ?? 'gdb', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  opts.t?.after(kill);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const ia = opts.interruptAfter;
  const poll = ia
    ? setInterval(() => {
        if (!ia.when()) return;
        clearInterval(poll);
        setTimeout(() => child.kill('SIGINT'), ia.delayMs);
      }, 50)
    : undefined;
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => {
    err += '\n[test: gdb timed out]\n';
    kill();
  }, opts.timeoutMs ?? 60000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      kill();
      resolve({ code, out, err });
    });
  });
}

export interface DebugUml {
  guest: Guest & { alive?(): boolean; pid?: number };
  stub: GdbStubHandle;
  vmlinux: string;
  output: () => string;
}

/** Boot the UML fixture kernel under gdbserver (the engine's debug mode) and serve it with kwb's stub. */
export async function bootDebugUml(
  t: TestContext,
  opts: { command?: string[]; waitGdb: boolean; log?: (line: string) => void },
): Promise<DebugUml> {
  const tree = umlTree();
  const guest = (await bootGuest({
    kernel: join(tree, 'linux'),
    console: 'pipe',
    debug: { wait: opts.waitGdb },
    command: opts.command,
    mem: '128M',
    timeoutSec: 300,
  })) as DebugUml['guest'];
  t.after(() => guest.stop());
  let output = '';
  // the kernel console and the command's own output, as they come
  for (const stream of [guest.output, guest.command?.stdout])
    stream?.on('data', (d: Buffer) => (output += d.toString()));
  // the same call the CLI makes (kwb boot --gdb)
  const stub = await serveGuest(guest, { port: 0, waitGdb: opts.waitGdb, log: opts.log });
  t.after(() => stub.close());
  return { guest, stub, vmlinux: join(tree, 'vmlinux'), output: () => output };
}
