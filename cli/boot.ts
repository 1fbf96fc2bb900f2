// `kwb boot` and `kwb run`: parse the boot options, start the guest, wire its console, map its end to an exit code.
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { bootGuest } from '../engine/boot.js';
import { detectKernel } from '../engine/detect.js';
import { runBareMetal } from '../engine/rv64/baremetal.js';
import type { BootOptions, EngineName, Guest, ShareSpec } from '../engine/guest.js';
import { defaultKernel } from '../engine/kerneltree.js';
import { ExitCode, KwbError, exitCodeFor, type GuestResult } from '../engine/results.js';
import { one, parseArgs, type OptionTable, type ParsedArgs } from './args.js';
import { dropLines } from './lines.js';
import { linkTerminal } from './terminal.js';
import { attachGdbStub, parseGdbAddress } from './serve-gdb.js';

export const bootOptions: OptionTable = {
  kernel: { value: 'FILE', help: 'kernel to boot (default: the build output of the kernel tree here)' },
  engine: { value: 'uml|rv64', help: 'override the engine chosen from the kernel file' },
  initrd: { value: 'FILE', help: 'initramfs (cpio) as the root filesystem (rv64)' },
  rootfs: { value: 'DIR', help: 'a host directory as the root filesystem (UML hostfs)' },
  disk: { value: 'IMG', help: 'a disk image as root, behind a copy-on-write overlay (never written)' },
  share: { value: 'HOST[:GUEST]', repeat: true, help: 'mount a host directory in the guest (default: same path)' },
  mem: { value: 'SIZE', help: 'guest memory, e.g. 512M (default 256M)' },
  bios: { value: 'FILE|none', help: 'rv64: firmware to run in M-mode (OpenSBI), or none for a bare-metal ELF' },
  append: { value: 'ARGS', repeat: true, help: 'extra kernel command line arguments' },
  gdb: { value: '[HOST:]PORT', help: 'serve gdb on this address (loopback unless HOST is given; port 0 picks one)' },
  'wait-gdb': { help: 'hold the guest before the kernel runs until gdb connects and continues' },
  timeout: { value: 'SEC', help: 'stop the guest after SEC seconds (result: timeout)' },
  log: { value: 'FILE', help: 'also write the console output to FILE' },
  json: { help: 'print the result and timings as JSON on stdout (console output goes to stderr)' },
  quiet: { help: 'no progress notes from kwb itself' },
  help: { help: 'show this help' },
};

function parseShare(spec: string): ShareSpec {
  const colon = spec.indexOf(':');
  const host = resolve(colon < 0 ? spec : spec.slice(0, colon));
  const guest = colon < 0 ? host : spec.slice(colon + 1);
  if (!guest.startsWith('/')) throw new KwbError(`--share ${spec}: the guest path must be absolute`);
  return { host, guest };
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const sec = Number(text);
  if (!Number.isFinite(sec) || sec <= 0)
    throw new KwbError(`--timeout ${text}: give a number of seconds greater than 0`);
  return sec;
}

/** The --log file, created (emptied) now: a path kwb cannot write is a usage error before anything boots. */
function logFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    closeSync(openSync(path, 'w'));
  } catch (err) {
    throw new KwbError(`--log ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return path;
}

function parseMem(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+[KMG]?$/i.test(text)) throw new KwbError(`--mem ${text}: give a size like 256M or 1G`);
  return text.toUpperCase();
}

/** BootOptions from parsed arguments shared by boot, run, test and watch. */
export function bootOptionsFrom(
  args: ParsedArgs,
  command: string[] | undefined,
  note: (s: string) => void,
): BootOptions {
  let kernel = one(args, 'kernel');
  if (!kernel) {
    const found = defaultKernel();
    if ('error' in found) throw new KwbError(found.error);
    note(found.note);
    kernel = found.kernel;
  }
  const engine = one(args, 'engine');
  if (engine !== undefined && engine !== 'uml' && engine !== 'rv64')
    throw new KwbError(`--engine ${engine}: use uml or rv64`);
  if (args.flags.has('wait-gdb') && !one(args, 'gdb')) throw new KwbError('--wait-gdb needs --gdb [HOST:]PORT');
  return {
    kernel,
    engine: engine as EngineName | undefined,
    initrd: one(args, 'initrd'),
    rootfs: one(args, 'rootfs'),
    disk: one(args, 'disk'),
    share: (args.options.get('share') ?? []).map(parseShare),
    mem: parseMem(one(args, 'mem')),
    bios: one(args, 'bios'),
    append: (args.options.get('append') ?? []).flatMap((a) => a.split(/\s+/).filter(Boolean)),
    command,
    timeoutSec: parseTimeout(one(args, 'timeout')),
    log: logFile(one(args, 'log')),
    console: 'pipe',
    debug: one(args, 'gdb') ? { wait: args.flags.has('wait-gdb') } : undefined,
  };
}

export interface Timings {
  startMs: number;
  totalMs: number;
}

/** Run a guest to its end with this process's stdio as its console; SIGINT/SIGTERM/SIGHUP stop it cleanly. */
export async function runGuest(
  opts: BootOptions,
  how: {
    interactive: boolean;
    /** Where the console goes when not interactive: stdout, stderr (--json keeps stdout for the result) or nowhere. */
    consoleTo: 'stdout' | 'stderr' | 'none';
    runMode: boolean;
    gdb?: string;
    note: (s: string) => void;
    /** Also hand every chunk of output here, saying whose it is (kwb test judges the kernel's console). */
    capture?: (chunk: Buffer, from: 'console' | 'command') => void;
    /** Called once the guest runs (and its gdb stub listens, with the stub's port): kwb watch stops it from here. */
    onStart?: (guest: Guest, gdbPort?: number) => void;
  },
): Promise<{ result: GuestResult; timings: Timings }> {
  const t0 = performance.now();
  const gdbAddress = how.gdb ? parseGdbAddress(how.gdb) : undefined;
  const guest: Guest = await bootGuest(opts);
  const startMs = performance.now() - t0;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (sig: NodeJS.Signals) => void guest.stop(`interrupted by ${sig}`);
  for (const sig of signals) process.on(sig, onSignal);
  try {
    const command = guest.command;
    const log = opts.log ? createWriteStream(opts.log) : undefined;
    for (const stream of [guest.output, command?.stdout, command?.stderr])
      if (log && stream) stream.pipe(log, { end: false });
    if (how.capture) {
      const capture = how.capture;
      guest.output.on('data', (chunk: Buffer) => capture(chunk, 'console'));
      command?.stdout.on('data', (chunk: Buffer) => capture(chunk, 'command'));
    }
    const sink = how.consoleTo === 'stderr' ? process.stderr : how.consoleTo === 'stdout' ? process.stdout : undefined;
    if (command) {
      // the command's stdout is kwb's output, its stderr kwb's stderr; the kernel console is a diagnostic
      if (sink) command.stdout.pipe(sink, { end: false });
      else command.stdout.resume();
      if (sink) command.stderr.pipe(process.stderr, { end: false });
      else command.stderr.resume();
    }
    const consoleSink = command && sink ? process.stderr : sink;
    let detachTerminal: (() => void) | undefined;
    if (how.interactive) {
      const link = linkTerminal(guest.input, guest.output);
      detachTerminal = link.restore;
      void link.escaped.then(() => guest.stop('left with Ctrl-A x'));
    } else {
      const shown = how.runMode
        ? guest.output.pipe(dropLines(/^reboot: (System halted|Power down)\r?$/))
        : guest.output;
      if (consoleSink) shown.pipe(consoleSink, { end: false });
      else shown.resume();
      // input for the command waits until it runs; the guest console is a tty, so the end of our input reaches the
      // command as a tty EOF (^D) and `cat` ends
      void (guest.commandStarted ?? Promise.resolve()).then(() => {
        let lastByte = 0x0a;
        process.stdin.on('data', (chunk: Buffer) => (lastByte = chunk[chunk.length - 1] ?? lastByte));
        const input = command?.stdin ?? guest.input;
        process.stdin.pipe(input, { end: false });
        // a ^D after a partial line only hands that line over; a second one is the EOF
        if (how.runMode) process.stdin.once('end', () => input.write(lastByte === 0x0a ? '\x04' : '\x04\x04'));
      });
    }
    const stub = gdbAddress
      ? await attachGdbStub(guest, resolve(opts.kernel), gdbAddress, opts.debug?.wait ?? false, how.note)
      : undefined;
    how.onStart?.(guest, stub?.port);
    const result = await guest.wait();
    log?.end();
    await stub?.close();
    detachTerminal?.();
    process.stdin.unpipe();
    process.stdin.pause();
    return { result, timings: { startMs, totalMs: performance.now() - t0 } };
  } finally {
    for (const sig of signals) process.removeListener(sig, onSignal);
  }
}

export function describeResult(result: GuestResult): string | undefined {
  switch (result.kind) {
    case 'exited':
      return undefined;
    case 'panic':
      return `kwb: kernel panic: ${result.detail ?? ''}`.trimEnd();
    case 'died':
      return `kwb: ${result.detail ?? 'the guest died while the command ran'}`;
    case 'timeout':
      return `kwb: timeout: ${result.detail ?? ''}`;
    case 'killed':
      return `kwb: ${result.detail ?? 'stopped'}`;
    case 'failed-to-start':
      return `kwb: could not run the guest: ${result.detail ?? ''}`;
  }
}

/** `--bios none`: a bare-metal RISC-V ELF on kwb's CPU, reporting the riscv-tests way (HTIF tohost). */
async function bareMetal(opts: BootOptions, json: boolean): Promise<number> {
  const kind = detectKernel(opts.kernel);
  if (kind.kind !== 'riscv-elf')
    throw new KwbError(`--bios none runs a bare-metal RISC-V ELF; ${opts.kernel} is not one`);
  const r = await runBareMetal(opts.kernel, { timeoutSec: opts.timeoutSec });
  const code = Math.min(r.exitCode, 127);
  const what = r.passed
    ? 'passed'
    : r.failedTest !== undefined
      ? `test ${r.failedTest} failed`
      : (r.detail ?? `exited with ${r.exitCode}`);
  if (json) process.stdout.write(JSON.stringify({ ...r, exitCode: code }) + '\n');
  process.stderr.write(`kwb: ${opts.kernel}: ${what} (${r.instructions} instructions in ${r.seconds.toFixed(2)} s)\n`);
  return code;
}

/** `kwb boot` / `kwb run` */
export async function bootCommand(name: 'boot' | 'run', argv: string[]): Promise<number> {
  const args = parseArgs(name, argv, bootOptions);
  const command = args.rest.length ? args.rest : undefined;
  if (name === 'run' && !command)
    throw new KwbError('kwb run needs a guest command after --, e.g. kwb run -- uname -a');
  const json = args.flags.has('json');
  const quiet = args.flags.has('quiet');
  const note = (s: string) => {
    if (!quiet) process.stderr.write(`kwb: ${s}\n`);
  };
  const opts = bootOptionsFrom(args, command, note);
  if (opts.bios === 'none') return bareMetal(opts, json);
  const interactive = !json && !command && !!process.stdin.isTTY && !!process.stdout.isTTY;
  if (interactive) opts.console = 'terminal';
  const { result, timings } = await runGuest(opts, {
    interactive,
    consoleTo: json ? 'stderr' : 'stdout',
    runMode: name === 'run',
    gdb: one(args, 'gdb'),
    note,
  });
  const code = exitCodeFor(result);
  const message = describeResult(result);
  if (message) process.stderr.write(message + '\n');
  if (json) {
    process.stdout.write(
      JSON.stringify({
        result,
        exitCode: code,
        timings: { startMs: Math.round(timings.startMs), totalMs: Math.round(timings.totalMs) },
      }) + '\n',
    );
  }
  return code;
}

export { ExitCode };
