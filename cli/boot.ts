// `kwb boot` and `kwb run`: parse the boot options, start the guest, wire its console, map its end to an exit code.
import { createWriteStream } from 'node:fs';
import { bootGuest } from '../engine/boot.js';
import type { BootOptions, EngineName, Guest } from '../engine/guest.js';
import { defaultKernel, kernelInfo } from '../engine/kernel.js';
import { parseShare, parseTimeout } from '../engine/options.js';
import { parseNet } from '../engine/net.js';
import { KwbError, exitCodeFor, type GuestResult } from '../engine/results.js';
import { bootOptionTable, one, type ParsedArgs } from './args.js';
import { dropLines } from './lines.js';
import { linkTerminal } from './terminal.js';
import { attachGdbStub, parseGdbAddress } from './serve-gdb.js';

export const bootOptions = bootOptionTable();

/** BootOptions from parsed arguments shared by boot, run, test and watch (values were checked as they were read);
 *  the kernel is --kernel's, else `kernel` (what kwb watch --build builds), else the tree's here. */
export function bootOptionsFrom(
  args: ParsedArgs,
  command: string[] | undefined,
  note: (s: string) => void,
  kernel = one(args, 'kernel'),
): BootOptions {
  if (!kernel) {
    const found = defaultKernel();
    if ('error' in found) throw new KwbError(found.error);
    note(found.note);
    kernel = found.kernel;
  }
  if (args.flags.has('wait-gdb') && !one(args, 'gdb')) throw new KwbError('--wait-gdb needs --gdb [HOST:]PORT');
  const timeout = one(args, 'timeout');
  return {
    kernel,
    engine: one(args, 'engine') as EngineName | undefined,
    initrd: one(args, 'initrd'),
    rootfs: one(args, 'rootfs'),
    disk: one(args, 'disk'),
    share: (args.options.get('share') ?? []).map(parseShare),
    net: (args.options.get('net') ?? []).map(parseNet),
    pcap: one(args, 'pcap'),
    mem: one(args, 'mem')?.toUpperCase(),
    bios: one(args, 'bios'),
    record: one(args, 'record'),
    append: (args.options.get('append') ?? []).flatMap((a) => a.split(/\s+/).filter(Boolean)),
    command,
    timeoutSec: timeout === undefined ? undefined : parseTimeout(timeout),
    log: one(args, 'log'),
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
    /** A debugger runs in this terminal (kwb kunit --gdb): Ctrl-C is for it, not a reason to stop the guest. */
    debuggerHere?: boolean;
    /** Start the guest (default: boot `opts.kernel`; kwb replay starts a recorded run). */
    start?: () => Promise<Guest>;
  },
): Promise<{ result: GuestResult; timings: Timings }> {
  const t0 = performance.now();
  const gdbAddress = how.gdb ? parseGdbAddress(how.gdb) : undefined;
  // the kernel's facts, decided once per boot (a rebuilt kernel under kwb watch is a new kernel)
  const guest: Guest = await (how.start ?? (() => bootGuest(opts, kernelInfo(opts.kernel))))();
  const startMs = performance.now() - t0;
  const signals: NodeJS.Signals[] = how.debuggerHere ? ['SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
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
      // command as a tty EOF (^D) and `cat` ends. A debugger in this terminal reads our stdin itself.
      if (!how.debuggerHere)
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
      ? await attachGdbStub(
          guest,
          gdbAddress,
          opts.debug?.wait ?? false,
          how.note,
          (opts.share ?? []).map((s) => s.host),
        )
      : undefined;
    how.onStart?.(guest, stub?.port);
    const result = await guest.wait();
    const endNote = guest.endNote?.();
    if (endNote) process.stderr.write(`kwb: ${endNote}\n`);
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
  const kernel = kernelInfo(opts.kernel);
  if (kernel.engine !== 'rv64' || kernel.format !== 'elf')
    throw new KwbError(`--bios none runs a bare-metal RISC-V ELF; ${opts.kernel} is not one`);
  // loaded here: a UML boot never evaluates the RISC-V machine
  const { runBareMetal } = await import('../engine/rv64/baremetal.js');
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
export async function bootCommand(name: 'boot' | 'run', args: ParsedArgs): Promise<number> {
  const command = args.rest.length ? args.rest : undefined;
  if (name === 'run' && !command) throw new KwbError('needs a guest command after --, e.g. kwb run -- uname -a');
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
