// Reverse execution on the rv64 machine, through its recording (recording.ts): a step back restores the snapshot
// before the previous instruction and replays to it; a continue back replays each stretch between snapshots, from
// the newest back, noting where breakpoints and watchpoints hit, and lands on the last hit before where it began.
// When only write watchpoints are set, a stretch with no store to their blocks of RAM is passed over without a replay.
// Positions are instruction counts: "at c" is the machine after c instructions, about to run the next one. A
// watchpoint hit by instruction c+1 lands at c, before the access (the debugger sees the old value), as gdb expects.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { STORE_BLOCK_SHIFT } from './bus.js';
import type { Machine } from './machine.js';
import type { Recording, Snapshot } from './recording.js';

export type ReverseStop =
  /** Arrived where asked (a step back). */
  | { kind: 'step' }
  | { kind: 'breakpoint' }
  | { kind: 'watchpoint'; hit: { addr: number; write: boolean } }
  /** Nothing earlier is recorded: the machine is at the start of the recording. */
  | { kind: 'history-start' }
  /** interrupt() (the machine is somewhere in the past). */
  | { kind: 'halted' };

/** Run this much between turns of the event loop (the console and the debugger's interrupt stay responsive). */
const CHUNK = 2_000_000;
const TURN_MS = 20;
/** A step back that replays more than this keeps a snapshot NEAR instructions before where it lands, so the steps
 *  back that follow replay little. */
const NEAR_AFTER = 1 << 16;
const NEAR = 1 << 12;

interface Hit {
  at: number;
  stop: Exclude<ReverseStop, { kind: 'step' | 'history-start' | 'halted' }>;
}

class Interrupted extends Error {}

export class TimeTravel {
  constructor(
    private readonly machine: Machine,
    private readonly recording: Recording,
  ) {}

  /** Go back one instruction. */
  async stepBack(): Promise<ReverseStop> {
    const now = this.machine.cpu.retired();
    if (now <= this.recording.start) return this.atStart();
    return this.guard(async () => {
      await this.seek(now - 1);
      return { kind: 'step' };
    });
  }

  /** Go to instruction count `at`, anywhere from the start of the recording to its end. */
  async goTo(at: number): Promise<ReverseStop> {
    const { start, end } = this.recording.info();
    if (at < start || at > end) throw new RangeError(`instruction ${at} is outside the recording (${start}-${end})`);
    return this.guard(async () => {
      await this.seek(at);
      return { kind: 'step' };
    });
  }

  /** Go back to the last breakpoint or watchpoint hit before here (the start of the recording when none). */
  async continueBack(): Promise<ReverseStop> {
    const from = this.machine.cpu.retired();
    const watched = this.watchedBlocks();
    return this.guard(async () => {
      let limit = from;
      for (let snap: Snapshot | undefined = this.recording.snapshotBefore(from - 1); snap;) {
        if (snap.at < limit && (!watched || this.recording.mayHaveStored(snap, watched))) {
          this.recording.restore(snap);
          const hits = await this.scan(limit);
          const last = hits[hits.length - 1];
          if (last) return this.land(snap, last);
        }
        limit = Math.min(limit, snap.at);
        snap = this.recording.previous(snap);
      }
      return this.atStart();
    });
  }

  /** The RAM blocks watched (Bus.storedMask's index -> mask), when every stop set is a write watchpoint on plain RAM
   *  (undefined otherwise): a stretch of the run that stored to none of them cannot stop, and need not
   *  be replayed. */
  private watchedBlocks(): Map<number, number> | undefined {
    const { cpu, bus } = this.machine;
    if (cpu.breakpointCount) return undefined;
    const blocks = new Map<number, number>();
    for (const w of cpu.watchpoints) {
      if (w.read) return undefined;
      if (!w.write) continue;
      const first = w.addr - bus.ramBase,
        last = first + w.len - 1;
      if (first < 0 || last >= bus.ram.length) return undefined;
      for (let b = first >>> STORE_BLOCK_SHIFT; b <= last >>> STORE_BLOCK_SHIFT; b++) {
        if (bus.ioPage[b >>> (12 - STORE_BLOCK_SHIFT)]) return undefined; // a store there goes to a device: unmarked
        blocks.set(b >>> 5, (blocks.get(b >>> 5) ?? 0) | (1 << (b & 31)));
      }
    }
    return blocks;
  }

  private atStart(): ReverseStop {
    this.recording.restore(this.recording.snapshotBefore(this.recording.start));
    return { kind: 'history-start' };
  }

  private async guard(op: () => Promise<ReverseStop>): Promise<ReverseStop> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof Interrupted) return { kind: 'halted' };
      throw err;
    } finally {
      this.machine.cpu.setDebugStops(true);
    }
  }

  /** Be at instruction count `at` (at or before the end of the recording), breakpoints and watchpoints ignored. */
  private async seek(at: number): Promise<void> {
    const snap = this.recording.snapshotBefore(at);
    this.recording.restore(snap);
    this.machine.cpu.setDebugStops(false);
    if (at - snap.at > NEAR_AFTER) {
      await this.runTo(at - NEAR);
      this.recording.keepNear();
    }
    await this.runTo(at);
    this.machine.cpu.setDebugStops(true);
  }

  /** Run to instruction count `at` with whatever stops are set; each breakpoint or watchpoint hit is passed to
   *  `hit` and the run goes on. */
  private async runTo(at: number, hit?: (stop: ReturnType<Machine['run']>) => void): Promise<void> {
    const m = this.machine;
    let turn = performance.now();
    while (m.cpu.retired() < at) {
      const stop = m.run(Math.min(at - m.cpu.retired(), CHUNK), true);
      if (stop.kind === 'halted') throw new Interrupted();
      if (stop.kind === 'breakpoint' || stop.kind === 'watchpoint') hit?.(stop);
      else if (stop.kind !== 'budget') {
        throw new Error(`the replay stopped (${stop.kind}) at instruction ${m.cpu.retired()} before ${at}`);
      }
      if (performance.now() - turn > TURN_MS) {
        await nextTurn();
        turn = performance.now();
      }
    }
  }

  /** Replay from the current snapshot to `limit` with the debugger's stops on: every hit, in order. */
  private async scan(limit: number): Promise<Hit[]> {
    const hits: Hit[] = [];
    const cpu = this.machine.cpu;
    await this.runTo(limit, (stop) => {
      if (stop.kind === 'breakpoint') hits.push({ at: cpu.retired(), stop: { kind: 'breakpoint' } });
      else if (cpu.watchHit) hits.push({ at: cpu.retired() - 1, stop: { kind: 'watchpoint', hit: cpu.watchHit } });
    });
    return hits;
  }

  /** Go to a hit the scan from `snap` found: before the instruction that accessed a watched address, or stopped at
   *  the breakpoint (an interrupt taken on the way there included). */
  private async land(snap: Snapshot, hit: Hit): Promise<ReverseStop> {
    this.recording.restore(snap);
    this.machine.cpu.setDebugStops(false);
    await this.runTo(hit.at);
    this.machine.cpu.setDebugStops(true);
    if (hit.stop.kind === 'breakpoint') {
      const stop = this.machine.run(1, true);
      if (stop.kind !== 'breakpoint') return { kind: 'step' };
    }
    return hit.stop;
  }
}
