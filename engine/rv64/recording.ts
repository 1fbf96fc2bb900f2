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
  /** The blocks of those that store instructions wrote (Bus.storedMask's index -> mask): what a write watchpoint
   *  could have seen since the snapshot before. */
  stores: Map<number, number>;
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
  /** Thin when the copies pass this: the cap, or more after a pass that could not get under it (so that the next
   *  snapshots do not each pay for a pass in vain). */
  private thinAt: number;

  constructor(
    private readonly machine: Machine,
    opts: RecordingOptions = {},
  ) {
    this.interval = opts.interval ?? DEFAULT_INTERVAL;
    this.capBytes = opts.capBytes ?? DEFAULT_CAP_BYTES;
    this.thinAt = this.capBytes;
    // the block compiler's code would see a stale instruction count at device accesses: a replay must not differ
    machine.cpu.jitEnabled = false;
    machine.cpu.takeWrittenPages();
    machine.bus.beforeFirstWrite = (page) => this.keepFirstContents(page);
    this.end = this.now;
    this.base = this.add(this.now, 'start', [], new Map());
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
    // snapshots reached: RAM is theirs now (a debugger's write is put back rather than run through). Also the last
    // one, where a replay becomes live again: new snapshots go after the base, which must then be the last one.
    for (let next = this.snapshots[this.base.index + 1]; next && next.at <= now;) {
      if (next.kind === 'write') this.restore(next);
      else this.pass(next);
      next = this.snapshots[this.base.index + 1];
    }
    if (!this.live) {
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

  /** Might a store instruction have written any of `blocks` (Bus.storedMask's index -> mask) between
   *  `snap` and the snapshot after it (after the last one: up to where the machine is)? False only when sure: the
   *  next snapshot's stores are those since the one before it, or more (a snapshot made going back leaves the next
   *  one's whole, thinning hands them on). */
  mayHaveStored(snap: Snapshot, blocks: ReadonlyMap<number, number>): boolean {
    const next = this.following(snap);
    // after the last snapshot, the bus's marks are the stores from the base on (restoring, passing or taking a
    // snapshot clears them)
    if (!next && snap !== this.base) return true;
    for (const [i, mask] of blocks) {
      const stored = next ? (next.stores.get(i) ?? 0) : this.machine.bus.storedMask(i);
      if (stored & mask) return true;
    }
    return false;
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
    this.base = this.add(now, 'start', [], new Map());
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
      this.forgetAfter(this.base);
      this.events.length = this.cursor - this.eventBase;
      this.end = now;
    }
    this.snapshot('write');
  }

  // ---- snapshots and pages ----

  private add(at: number, kind: SnapshotKind, pages: number[], stores: Map<number, number>): Snapshot {
    const index = this.snapshots.length ? this.base.index + 1 : 0;
    const snap: Snapshot = { at, kind, index, state: this.machine.save(), pages, stores, cursor: this.cursor };
    this.snapshots.splice(index, 0, snap);
    this.renumber(index);
    this.bytes += STATE_BYTES;
    return snap;
  }

  /** A snapshot here, after the current base (the pages written since it are copied). */
  private snapshot(kind: SnapshotKind): void {
    const stores = new Map<number, number>();
    const pages = this.machine.cpu.takeWrittenPages(stores);
    const snap = this.add(this.now, kind, pages, stores);
    const ram = this.machine.bus.ram;
    for (const p of pages) {
      const vs = this.versions.get(p) ?? [];
      if (!vs.length) this.versions.set(p, vs);
      // after every copy of a snapshot before it
      vs.splice(firstAfter(vs, snap.index - 1), 0, { snap, data: ram.slice(p * PAGE, (p + 1) * PAGE) });
    }
    this.bytes += pages.length * PAGE;
    this.base = snap;
    if (this.bytes > this.thinAt) this.thin();
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

  /** Drop every snapshot after `last` and its page copies: theirs are the newest copies of each page. */
  private forgetAfter(last: Snapshot): void {
    for (const s of this.snapshots.splice(last.index + 1)) {
      for (const p of s.pages) {
        const vs = this.versions.get(p);
        if (!vs) continue; // emptied already, by a later snapshot's turn
        const keep = firstAfter(vs, last.index);
        this.bytes -= (vs.length - keep) * PAGE;
        vs.length = keep;
        if (!keep) this.versions.delete(p);
      }
      this.bytes -= STATE_BYTES;
    }
  }

  /**
   * Under the cap again: thin out snapshots (those made going back first, then the older the sooner), then let the
   * oldest history go. Never the one RAM is based on, the first or last one, or one holding a debugger's change.
   * One pass costs O(n log n) in the snapshots plus the page copies it moves: a removed snapshot stays in the list
   * (positions, and so `index`, unchanged) until the pass ends, its live neighbours are linked, the next victim comes
   * from a heap of scores (only a removed one's two neighbours change), and copies it drops are swept out at the end.
   */
  private thin(): void {
    const list = this.snapshots;
    const n = list.length;
    const now = this.now;
    const target = this.capBytes * 0.9;
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const next = Int32Array.from({ length: n }, (_, i) => i + 1);
    const gone = new Uint8Array(n);
    const dead = new Set<PageVersion>();
    const touched = new Set<number>();
    const thinnable = (i: number) =>
      prev[i]! >= 0 && next[i]! < n && list[i] !== this.base && list[i]!.kind !== 'write';
    const score = (i: number) =>
      list[i]!.kind === 'near' ? -1 : (list[next[i]!]!.at - list[prev[i]!]!.at) / (now - list[i]!.at + 1);
    const heap = new ScoreHeap();
    const stamp = new Uint32Array(n);
    for (let i = 0; i < n; i++) if (thinnable(i)) heap.push(score(i), i, 0);

    while (this.bytes > target) {
      const top = heap.pop((i, st) => !gone[i] && stamp[i] === st);
      if (top === undefined) break;
      this.mergeInto(list[top]!, list[next[top]!]!, dead, touched);
      gone[top] = 1;
      next[prev[top]!] = next[top]!;
      prev[next[top]!] = prev[top]!;
      for (const j of [prev[top]!, next[top]!]) if (thinnable(j)) heap.push(score(j), j, ++stamp[j]!);
    }
    // then the oldest history: the start moves on to the next live snapshot
    let head = 0;
    while (this.bytes > target && list[head] !== this.base && next[head]! < n) {
      this.becomeStart(list[next[head]!]!, dead, touched);
      gone[head] = 1;
      head = next[head]!;
    }
    if (head > 0) {
      this.events.splice(0, list[head]!.cursor - this.eventBase);
      this.eventBase = list[head]!.cursor;
    }

    for (const p of touched) {
      const vs = this.versions.get(p)!.filter((v) => !dead.has(v));
      if (vs.length) this.versions.set(p, vs);
      else this.versions.delete(p);
    }
    this.snapshots = list.filter((_, i) => !gone[i]);
    this.renumber(0);
    this.thinAt = Math.max(this.capBytes, this.bytes + this.capBytes * 0.1);
  }

  /** Remove `snap` (during thin()): the pages `to`, the live snapshot after it, does not hold are handed to it (they
   *  are its contents too); the others' copies are dropped. */
  private mergeInto(snap: Snapshot, to: Snapshot, dead: Set<PageVersion>, touched: Set<number>): void {
    for (const p of snap.pages) {
      const vs = this.versions.get(p)!;
      const v = vs[firstAfter(vs, snap.index - 1)]!;
      const theirs = vs[firstAfter(vs, to.index - 1)];
      if (theirs?.snap === to) {
        dead.add(v);
        touched.add(p);
        this.bytes -= PAGE;
      } else {
        v.snap = to; // no copy lies between the two: the list of copies stays in snapshot order
        to.pages.push(p);
      }
    }
    for (const [i, mask] of snap.stores) to.stores.set(i, (to.stores.get(i) ?? 0) | mask);
    snap.pages = [];
    snap.stores.clear();
    this.bytes -= STATE_BYTES;
  }

  /** The history begins at `snap` (during thin()): its page copies become the pages' first contents. */
  private becomeStart(snap: Snapshot, dead: Set<PageVersion>, touched: Set<number>): void {
    for (const p of snap.pages) {
      const vs = this.versions.get(p)!;
      const v = vs[firstAfter(vs, snap.index - 1)]!;
      dead.add(v);
      touched.add(p);
      if (this.initial.has(p)) this.bytes -= PAGE;
      this.initial.set(p, v.data);
    }
    snap.pages = [];
    snap.stores.clear();
    snap.kind = 'start';
    this.bytes -= STATE_BYTES;
  }
}

/** The position in a page's copies (in snapshot order) of the first copy of a snapshot after position `index`. */
function firstAfter(vs: readonly PageVersion[], index: number): number {
  let lo = 0,
    hi = vs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (vs[mid]!.snap.index <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A binary min-heap of (score, position), ties to the lower position; entries carry a stamp so that a rescored
 *  position's old entries can be told stale when popped. */
class ScoreHeap {
  private readonly items: { score: number; at: number; stamp: number }[] = [];

  push(score: number, at: number, stamp: number): void {
    const a = this.items;
    a.push({ score, at, stamp });
    for (let i = a.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!this.less(a[i]!, a[up]!)) break;
      [a[i], a[up]] = [a[up]!, a[i]!];
      i = up;
    }
  }

  /** The lowest entry that `valid` accepts (the others are discarded on the way), or undefined. */
  pop(valid: (at: number, stamp: number) => boolean): number | undefined {
    const a = this.items;
    while (a.length) {
      const top = a[0]!;
      const last = a.pop()!;
      if (a.length) {
        a[0] = last;
        for (let i = 0; ;) {
          const l = 2 * i + 1,
            r = l + 1;
          let m = i;
          if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
          if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
          if (m === i) break;
          [a[i], a[m]] = [a[m]!, a[i]!];
          i = m;
        }
      }
      if (valid(top.at, top.stamp)) return top.at;
    }
    return undefined;
  }

  private less(x: { score: number; at: number }, y: { score: number; at: number }): boolean {
    return x.score < y.score || (x.score === y.score && x.at < y.at);
  }
}
