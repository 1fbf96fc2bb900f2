// A recording of the rv64 machine's run, for time travel (reverse.ts goes back through it): snapshots of the whole
// machine every `interval` instructions, and every input from outside stamped with its instruction count. The machine
// is deterministic (time is the instruction count), so a snapshot plus the input after it reproduces the run exactly.
//
// RAM is kept as copy-on-write pages: the bus marks the pages written since the last snapshot, a snapshot copies
// just those (its `pages`: their contents at its instruction count), and a page's first contents are copied before
// its first write. A page as of snapshot k is its newest copy at or before k. Snapshots are thinned when the copies
// exceed the cap (older ones first, a thinned snapshot's pages handed to the next one), then the oldest history goes.
//
// Going back restores a snapshot; running on from it replays the recorded input at the recorded instructions (the
// host's input waits until the run is past the end of the recording: then it is live again, and recorded).
import type { HostInput, Machine, MachineState, RunObserver } from './machine.js';

const PAGE = 4096;
/** A saved machine state without RAM, roughly (the CPU's CSR pairs, devices). */
const STATE_BYTES = 2048;

export interface RecordingOptions {
  /** Instructions between snapshots (default 1M: going back one instruction replays at most this many). */
  interval?: number;
  /** Bytes of page copies and states kept (default 1 GiB); older snapshots are thinned past it. */
  capBytes?: number;
  /** A run recorded before (a recording file): the machine, as it starts, replays its input up to its end and is
   *  live after it (snapshots are taken on the way, as when recording). */
  replay?: RecordedRun;
}

/** Host input stamped with the instruction count at which the machine took it. */
export interface StampedInput {
  at: number;
  input: HostInput;
}

/** A run's input from its start, and the instruction count it ended at. */
export interface RecordedRun {
  inputs: StampedInput[];
  end: number;
}

export const DEFAULT_INTERVAL = 1_000_000;
export const DEFAULT_CAP_BYTES = 1 << 30;

type SnapshotKind =
  /** The first one: its RAM is the pages' first contents. */
  | 'start'
  /** Every `interval` instructions. */
  | 'periodic'
  /** Made while going back, close before where the debugger is (dropped first when thinning). */
  | 'near'
  /** After the debugger changed registers or memory: a replay restores it rather than run through (never thinned). */
  | 'write';

export interface Snapshot {
  readonly at: number;
  kind: SnapshotKind;
  /** Position in the list (kept up to date as snapshots come and go). */
  index: number;
  readonly state: MachineState;
  /** RAM pages whose contents at `at` this snapshot holds: those written since the snapshot before it. */
  pages: number[];
  /** Absolute index of the first input event after it. */
  readonly cursor: number;
}

interface PageVersion {
  snap: Snapshot;
  data: Uint8Array;
}

export interface RecordingInfo {
  start: number;
  end: number;
  snapshots: number;
  inputs: number;
  bytes: number;
  capBytes: number;
}

export class Recording implements RunObserver {
  readonly interval: number;
  readonly capBytes: number;
  private snapshots: Snapshot[] = [];
  /** Per RAM page: its copies, in snapshot order. */
  private readonly versions = new Map<number, PageVersion[]>();
  /** Per RAM page written since the recording began: what it held then. */
  private readonly initial = new Map<number, Uint8Array>();
  private events: StampedInput[] = [];
  /** Absolute index of events[0] (old history is dropped). */
  private eventBase = 0;
  /** Absolute index of the next event to replay (or to record, when live). */
  private cursor = 0;
  /** RAM is this snapshot's plus the pages the bus has marked since. */
  private base!: Snapshot;
  /** The furthest instruction count the run has reached: before it, the run is a replay. */
  private end = 0;
  /** Host input that came while replaying: given once the run is live again. */
  private held: HostInput[] = [];
  private bytes = 0;

  constructor(
    private readonly machine: Machine,
    opts: RecordingOptions = {},
  ) {
    this.interval = opts.interval ?? DEFAULT_INTERVAL;
    this.capBytes = opts.capBytes ?? DEFAULT_CAP_BYTES;
    // the block compiler's code would see a stale instruction count at device accesses: a replay must not differ
    machine.cpu.jitEnabled = false;
    machine.cpu.takeWrittenPages();
    machine.bus.beforeFirstWrite = (page) => this.keepFirstContents(page);
    this.end = this.now;
    this.base = this.add(this.now, 'start', []);
    if (opts.replay) {
      this.events = opts.replay.inputs.slice();
      this.end = Math.max(this.end, opts.replay.end);
    }
    machine.observer = this;
  }

  /** Stop recording and forget the history (the machine runs on as it is). */
  dispose(): void {
    if (this.machine.observer === this) this.machine.observer = undefined;
    this.machine.bus.beforeFirstWrite = undefined;
    for (const input of this.held) this.machine.give(input);
    this.held = [];
    this.snapshots = [];
    this.versions.clear();
    this.initial.clear();
    this.events = [];
  }

  private get now(): number {
    return this.machine.cpu.retired();
  }

  private get eventsEnd(): number {
    return this.eventBase + this.events.length;
  }

  /** Past the end of the recording: the host's input is taken (and recorded) again. */
  get live(): boolean {
    return this.cursor === this.eventsEnd && this.now >= this.end;
  }

  /** The earliest instruction count one can go back to. */
  get start(): number {
    return this.snapshots[0]!.at;
  }

  info(): RecordingInfo {
    if (this.live) this.end = this.now;
    return {
      start: this.start,
      end: this.end,
      snapshots: this.snapshots.length,
      inputs: this.events.length,
      bytes: this.bytes,
      capBytes: this.capBytes,
    };
  }

  // ---- the machine's side (RunObserver) ----

  hostInput(input: HostInput): void {
    this.held.push(input);
  }

  nextStop(): number {
    if (this.live) {
      this.end = this.now;
      if (this.held.length) return this.now;
      return this.snapshots[this.snapshots.length - 1]!.at + this.interval;
    }
    // past the last snapshot (a recording file's run replayed for the first time), the next one is due as when live
    const next = this.snapshots[this.base.index + 1]?.at ?? this.base.at + this.interval;
    const event = this.events[this.cursor - this.eventBase];
    return Math.min(next, event?.at ?? Infinity, this.end);
  }

  atInputPoint(): void {
    const now = this.now;
    if (!this.live) {
      // snapshots reached: RAM is theirs now (a debugger's write is put back rather than run through)
      for (let next = this.snapshots[this.base.index + 1]; next && next.at <= now;) {
        if (next.kind === 'write') this.restore(next);
        else this.pass(next);
        next = this.snapshots[this.base.index + 1];
      }
      for (let e = this.events[this.cursor - this.eventBase]; e && e.at <= now;) {
        this.machine.give(e.input);
        this.cursor++;
        e = this.events[this.cursor - this.eventBase];
      }
      if (!this.live) {
        if (this.base.index === this.snapshots.length - 1 && now >= this.base.at + this.interval)
          this.snapshot('periodic');
        return;
      }
    }
    this.end = now;
    for (const input of this.held) {
      this.events.push({ at: now, input });
      this.cursor++;
      this.machine.give(input);
    }
    this.held = [];
    if (now >= this.snapshots[this.snapshots.length - 1]!.at + this.interval) this.snapshot('periodic');
  }

  // ---- going back (reverse.ts) ----

  /** The latest snapshot at or before instruction count `at` (the start when none is). */
  snapshotBefore(at: number): Snapshot {
    let lo = 0,
      hi = this.snapshots.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.snapshots[mid]!.at <= at) lo = mid;
      else hi = mid - 1;
    }
    return this.snapshots[lo]!;
  }

  /** The snapshot before `snap`, if any. */
  previous(snap: Snapshot): Snapshot | undefined {
    return snap.index > 0 ? this.snapshots[snap.index - 1] : undefined;
  }

  /** The snapshot after `snap`, if any. */
  following(snap: Snapshot): Snapshot | undefined {
    return this.snapshots[snap.index + 1];
  }

  /** Put the whole machine back as it was at `snap`. */
  restore(snap: Snapshot): void {
    const ram = this.machine.bus.ram;
    const changed = new Set(this.machine.cpu.takeWrittenPages());
    const lo = Math.min(this.base.index, snap.index),
      hi = Math.max(this.base.index, snap.index);
    for (let i = lo + 1; i <= hi; i++) for (const p of this.snapshots[i]!.pages) changed.add(p);
    for (const p of changed) {
      const data = this.pageAt(p, snap.index);
      if (!data) continue; // never written: it holds its first contents still
      ram.set(data, p * PAGE);
      this.machine.cpu.invalidatePhys(this.machine.bus.ramBase + p * PAGE, PAGE);
    }
    this.machine.restore(snap.state);
    this.base = snap;
    this.cursor = snap.cursor;
  }

  /** Forget the history: the recording starts again here (in the past, the recorded future is dropped too). */
  clear(): void {
    const now = this.now;
    this.snapshots = [];
    this.versions.clear();
    this.initial.clear();
    this.events = [];
    this.eventBase = this.cursor;
    this.bytes = 0;
    this.end = now;
    this.machine.cpu.takeWrittenPages();
    this.base = this.add(now, 'start', []);
  }

  /** Keep the state here as a snapshot made while going back (so the next step back replays little). */
  keepNear(): void {
    this.snapshot('near');
  }

  /** The debugger changed registers or memory: the recorded future no longer follows, so it is dropped (the run is
   *  live from here), and a snapshot keeps the change for replays. */
  debuggerWrote(): void {
    const now = this.now;
    if (!this.live) {
      for (const s of this.snapshots.splice(this.base.index + 1)) this.forget(s);
      this.events.length = this.cursor - this.eventBase;
      this.end = now;
    }
    this.snapshot('write');
  }

  // ---- snapshots and pages ----

  private add(at: number, kind: SnapshotKind, pages: number[]): Snapshot {
    const index = this.snapshots.length ? this.base.index + 1 : 0;
    const snap: Snapshot = { at, kind, index, state: this.machine.save(), pages, cursor: this.cursor };
    this.snapshots.splice(index, 0, snap);
    this.renumber(index);
    this.bytes += STATE_BYTES;
    return snap;
  }

  /** A snapshot here, after the current base (the pages written since it are copied). */
  private snapshot(kind: SnapshotKind): void {
    const pages = this.machine.cpu.takeWrittenPages();
    const snap = this.add(this.now, kind, pages);
    const ram = this.machine.bus.ram;
    for (const p of pages) {
      const vs = this.versions.get(p) ?? [];
      if (!vs.length) this.versions.set(p, vs);
      // after every copy of a snapshot before it
      let k = vs.length;
      while (k > 0 && vs[k - 1]!.snap.index > snap.index) k--;
      vs.splice(k, 0, { snap, data: ram.slice(p * PAGE, (p + 1) * PAGE) });
    }
    this.bytes += pages.length * PAGE;
    this.base = snap;
    if (this.bytes > this.capBytes) this.thin();
  }

  /** The run reached `snap` again (a replay): RAM is the same as it then was. */
  private pass(snap: Snapshot): void {
    this.machine.cpu.takeWrittenPages();
    this.base = snap;
  }

  private keepFirstContents(page: number): void {
    if (this.initial.has(page)) return;
    this.initial.set(page, this.machine.bus.ram.slice(page * PAGE, (page + 1) * PAGE));
    this.bytes += PAGE;
  }

  /** Page `p` as of snapshot index `index` (undefined: never written since the recording began). */
  private pageAt(p: number, index: number): Uint8Array | undefined {
    const vs = this.versions.get(p);
    if (vs) {
      let lo = 0,
        hi = vs.length - 1,
        found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (vs[mid]!.snap.index <= index) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found >= 0) return vs[found]!.data;
    }
    return this.initial.get(p);
  }

  private renumber(from: number): void {
    for (let i = from; i < this.snapshots.length; i++) this.snapshots[i]!.index = i;
  }

  /** Drop a snapshot's page copies (it is gone from the list). */
  private forget(snap: Snapshot): void {
    for (const p of snap.pages) {
      const vs = this.versions.get(p)!;
      vs.splice(
        vs.findIndex((v) => v.snap === snap),
        1,
      );
      if (!vs.length) this.versions.delete(p);
    }
    this.bytes -= snap.pages.length * PAGE + STATE_BYTES;
  }

  /** Under the cap again: thin out snapshots (those made going back first, then the older the sooner), then let
   *  the oldest history go. Never the one RAM is based on, the last one, or one holding a debugger's change. */
  private thin(): void {
    const target = this.capBytes * 0.9;
    while (this.bytes > target) {
      const now = this.now;
      let victim: Snapshot | undefined;
      let best = Infinity;
      for (let i = 1; i < this.snapshots.length - 1; i++) {
        const s = this.snapshots[i]!;
        if (s === this.base || s.kind === 'write') continue;
        const gap = this.snapshots[i + 1]!.at - this.snapshots[i - 1]!.at;
        const score = s.kind === 'near' ? -1 : gap / (now - s.at + 1);
        if (score < best) {
          best = score;
          victim = s;
        }
      }
      if (victim) this.mergeIntoNext(victim);
      else if (!this.dropStart()) return;
    }
  }

  /** Remove `snap`: the pages the next snapshot does not hold are handed to it (they are its contents too). */
  private mergeIntoNext(snap: Snapshot): void {
    const next = this.snapshots[snap.index + 1]!;
    for (const p of snap.pages) {
      const vs = this.versions.get(p)!;
      const k = vs.findIndex((v) => v.snap === snap);
      if (vs[k + 1]?.snap === next) {
        vs.splice(k, 1);
        this.bytes -= PAGE;
      } else {
        vs[k]!.snap = next;
        next.pages.push(p);
      }
    }
    snap.pages = [];
    this.snapshots.splice(snap.index, 1);
    this.bytes -= STATE_BYTES;
    this.renumber(snap.index);
  }

  /** The history begins at the second snapshot from now on; false when that cannot be (it is the base). */
  private dropStart(): boolean {
    const [first, second] = this.snapshots;
    if (!first || !second || first === this.base) return false;
    for (const p of second.pages) {
      const vs = this.versions.get(p)!;
      const v = vs.shift()!; // the start has no copies: the second's come first
      if (!vs.length) this.versions.delete(p);
      if (this.initial.has(p)) this.bytes -= PAGE;
      this.initial.set(p, v.data);
    }
    second.pages = [];
    second.kind = 'start';
    this.snapshots.shift();
    this.renumber(0);
    this.bytes -= STATE_BYTES;
    this.events.splice(0, second.cursor - this.eventBase);
    this.eventBase = second.cursor;
    return true;
  }
}
