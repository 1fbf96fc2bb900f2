// `kwb replay FILE`: a recorded boot (record-file.ts) run again from its own kernel, initramfs and firmware, its
// input given at the instructions it came, so it prints the same console at the same instruction counts; under a
// debugger with the recording gdb goes back through from the first instruction. Once the run ends, whether it ended
// as the recorded one did (instructions, result, console) is one line.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { debugInfo, type KernelInfo } from '../kernel.js';
import type { BootOptions } from '../guest.js';
import { ExitCode, KwbError, type GuestResult } from '../results.js';
import { startMachine, type Rv64Guest } from './guest.js';
import { readRecordFile, type RecordedBoot, type RecordedEnd } from './record-file.js';
import { Recording } from './recording.js';

export interface ReplayOptions {
  file: string;
  /** Serve a debugger: the guest waits for it before the first instruction. */
  debug: boolean;
  /** The kernel's symbols (default: the vmlinux the recording names, when it is here and the same build). */
  vmlinux?: string;
  /** The memory cap of the recording a debugger goes back through. */
  capBytes?: number;
  timeoutSec?: number;
  console: BootOptions['console'];
  /** A line for the user (which symbols are used). */
  note: (line: string) => void;
}

export interface Replay {
  guest: Rv64Guest;
  recorded: RecordedEnd;
  /** Settles when the guest has ended: how the replay compares with the recording. */
  outcome: Promise<ReplayOutcome>;
}

export interface ReplayOutcome {
  matches: boolean;
  /** A debugger stopped it before the recorded end, or ran it on live past a recording stopped from outside. */
  stoppedEarly: boolean;
  replayed: RecordedEnd;
  line: string;
}

const stoppedFromOutside = (r: GuestResult) => r.kind === 'timeout' || r.kind === 'killed';

/** Whether the replay ended as the recorded run did: a run stopped from outside (timeout, Ctrl-C) is replayed up to
 *  that instruction and stopped there. */
function sameEnding(recorded: GuestResult, replayed: GuestResult): boolean {
  if (stoppedFromOutside(recorded)) return stoppedFromOutside(replayed);
  return recorded.kind === replayed.kind && (recorded.code ?? 0) === (replayed.code ?? 0);
}

function describe(end: RecordedEnd): string {
  const how = end.result.kind === 'exited' ? `exited with ${end.result.code ?? 0}` : end.result.kind;
  return `${end.instructions} instructions, ${how}, ${end.console.bytes} console bytes`;
}

function compare(recorded: RecordedEnd, replayed: RecordedEnd, debug: boolean): ReplayOutcome {
  const matches =
    replayed.instructions === recorded.instructions &&
    sameEnding(recorded.result, replayed.result) &&
    replayed.console.sha256 === recorded.console.sha256;
  // under a debugger the run may be stopped early, or run on live past a recording stopped from outside
  const stoppedEarly = debug && !matches && replayed.instructions < recorded.instructions;
  const ranOn =
    debug && !matches && replayed.instructions > recorded.instructions && stoppedFromOutside(recorded.result);
  const line = matches
    ? `the replay ended as the recording did: ${describe(replayed)}`
    : stoppedEarly
      ? `the replay was stopped at instruction ${replayed.instructions}, before the recording's end (${recorded.instructions})`
      : ranOn
        ? `the replay ran on live past the recording's end (instruction ${recorded.instructions})`
        : `the replay differs from the recording: ${describe(replayed)}; recorded: ${describe(recorded)}`;
  return { matches, stoppedEarly: stoppedEarly || ranOn, replayed, line };
}

/** The kernel's facts for the replay: the recording file stands for the kernel; symbols from --vmlinux, or the
 *  vmlinux the recording names when it is here and of the same build. */
function replayKernelInfo(rec: RecordedBoot, opts: ReplayOptions): KernelInfo {
  const wanted = rec.symbols?.buildId;
  let vmlinux: string | undefined;
  if (opts.vmlinux) {
    const given = debugInfo(opts.vmlinux);
    if (wanted && given.buildId && given.buildId !== wanted)
      throw new KwbError(
        `--vmlinux ${opts.vmlinux} is another build (build-id ${given.buildId}) than the recorded kernel's (${wanted}); give the vmlinux of that build`,
      );
    vmlinux = opts.vmlinux;
  } else if (rec.symbols && existsSync(rec.symbols.vmlinux)) {
    const found = debugInfo(rec.symbols.vmlinux);
    if (!wanted || found.buildId === wanted) vmlinux = rec.symbols.vmlinux;
    else opts.note(`${rec.symbols.vmlinux} is no longer the recorded build; pass --vmlinux FILE for symbols`);
  } else if (opts.debug) {
    opts.note(
      `no symbols for the recorded kernel here${rec.symbols ? ` (${rec.symbols.vmlinux})` : ''}; pass --vmlinux FILE`,
    );
  }
  const debug = debugInfo(vmlinux);
  const bytes = rec.media.kernel.bytes;
  const elf = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  return {
    ...debug,
    gdb: 'gdb-multiarch',
    kernel: resolve(opts.file),
    engine: 'rv64',
    arch: 'riscv',
    format: elf ? 'elf' : 'image',
    dynamic: false,
  };
}

export function startReplay(opts: ReplayOptions): Replay {
  const rec = readRecordFile(opts.file);
  const info = replayKernelInfo(rec, opts);
  const bootOpts: BootOptions = {
    kernel: info.kernel,
    console: opts.console,
    timeoutSec: opts.timeoutSec,
    debug: opts.debug ? { wait: true } : undefined,
  };
  let settle!: (o: ReplayOutcome) => void;
  const outcome = new Promise<ReplayOutcome>((r) => (settle = r));
  let guest: Rv64Guest;
  try {
    guest = startMachine(info, rec.media, bootOpts, (machine) => ({
      recording: new Recording(machine, {
        capBytes: opts.capBytes,
        replay: { inputs: rec.inputs, end: rec.end.instructions },
      }),
      // a run that ended by itself (poweroff) ends by itself again; one stopped from outside, or ended by kwb after
      // a panic (after some bursts of wall time), ends where the recording does, unless a debugger runs on live
      endAt: opts.debug || rec.end.result.kind === 'exited' ? undefined : rec.end.instructions,
      ended: (replayed) => {
        const o = compare(rec.end, replayed, opts.debug);
        settle(o);
        return o.line;
      },
    }));
  } catch (err) {
    if (err instanceof KwbError && err.exitCode === ExitCode.couldNotTest)
      throw new KwbError(`cannot replay ${opts.file}: ${err.message}`, ExitCode.couldNotTest);
    throw err;
  }
  return { guest, recorded: rec.end, outcome };
}
