// CLINT (core-local interruptor) for one hart, at the SiFive/Spike layout: msip at +0, mtimecmp at +0x4000,
// mtime at +0xbff8. mtime advances with retired instructions (deterministic); when the hart idles in WFI the
// machine may jump mtime forward to the next deadline.
import type { MmioDevice } from '../bus.js';
import type { Cpu } from '../cpu/cpu.js';
import type { Stateful } from '../state.js';

export const CLINT_BASE = 0x2000000;
export const CLINT_SIZE = 0x10000;

interface ClintState {
  msip: number;
  cmp: number;
  cmpLo: number;
  skew: number;
}

export class Clint implements MmioDevice, Stateful<ClintState> {
  readonly name = 'clint';
  private msip = 0;
  private cmp = Number.MAX_SAFE_INTEGER;
  private cmpLo = -1;
  private skew = 0;

  /** `timerBit`: the mip bit the timer raises: MTIP (7) under M-mode firmware; STIP (5) when the firmware is kwb's
   *  built-in SBI, which programs the compare register itself (set_timer) on the kernel's behalf. */
  constructor(
    private readonly cpu: Cpu,
    private readonly instructionsPerTick = 10,
    private readonly timerBit = 7,
  ) {
    cpu.timeSource = () => this.mtime();
  }

  save(): ClintState {
    return { msip: this.msip, cmp: this.cmp, cmpLo: this.cmpLo, skew: this.skew };
  }

  restore(s: ClintState): void {
    ({ msip: this.msip, cmp: this.cmp, cmpLo: this.cmpLo, skew: this.skew } = s);
    this.cpu.setInterruptLine(3, this.msip === 1);
    this.tick();
  }

  /** Set mtimecmp (Infinity: never), as a write by M-mode firmware would. */
  setCompare(time: number): void {
    this.cmp = Number.isFinite(time) ? Math.min(time, Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
    this.cmpLo = this.cmp | 0;
    this.deadlineMoved();
  }

  /** The compare register or the time changed: raise or drop the line now, and make the run in progress end at
   *  the new deadline (so the interrupt comes at the same instruction however the machine slices its runs). */
  private deadlineMoved(): void {
    this.tick();
    const n = this.untilDeadline();
    if (n !== Infinity) this.cpu.endRunWithin(n);
  }

  /** Move time forward by `ticks` (an idle hart whose wall-clock wait is over), at most to the deadline. */
  advance(ticks: number): void {
    this.skew += Math.max(0, Math.min(ticks, this.cmp - this.mtime()));
    this.tick();
  }

  mtime(): number {
    return Math.floor(this.cpu.retired() / this.instructionsPerTick) + this.skew;
  }

  /** Update MTIP from mtime/mtimecmp; call between run slices. */
  tick(): void {
    this.cpu.setInterruptLine(this.timerBit, this.mtime() >= this.cmp);
  }

  /** Instructions until the timer fires (mtime reaches mtimecmp); Infinity if it never will, or already has (its
   *  line stays raised until the compare register is written, so there is nothing to wait for). */
  untilDeadline(): number {
    if (this.cmp >= Number.MAX_SAFE_INTEGER || this.cmp <= this.mtime()) return Infinity;
    return (this.cmp - this.skew) * this.instructionsPerTick - this.cpu.retired();
  }

  /** WFI with nothing else to do: move time forward to the deadline. Returns false if no deadline is set. */
  skipToDeadline(): boolean {
    if (this.cmp >= Number.MAX_SAFE_INTEGER) return false;
    const t = this.mtime();
    if (this.cmp > t) this.skew += this.cmp - t;
    this.tick();
    return true;
  }

  load(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return 0;
    if (offset === 0) return this.msip;
    if (offset === 0x4000) return this.cmpLo;
    if (offset === 0x4004) return Math.floor(this.cmp / 4294967296) | 0;
    const t = this.mtime();
    if (offset === 0xbff8) return t | 0;
    if (offset === 0xbffc) return Math.floor(t / 4294967296) | 0;
    return 0;
  }

  store(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4) return;
    if (offset === 0) {
      this.msip = value & 1;
      this.cpu.setInterruptLine(3, this.msip === 1);
    } else if (offset === 0x4000) {
      this.cmpLo = value;
      this.cmp = Math.floor(this.cmp / 4294967296) * 4294967296 + (value >>> 0);
      this.deadlineMoved();
    } else if (offset === 0x4004) {
      const hi = value >>> 0;
      this.cmp = hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 4294967296 + (this.cmpLo >>> 0);
      this.deadlineMoved();
    } else if (offset === 0xbff8 || offset === 0xbffc) {
      const t = this.mtime();
      const nt =
        offset === 0xbff8
          ? Math.floor(t / 4294967296) * 4294967296 + (value >>> 0)
          : (value >>> 0) * 4294967296 + (t % 4294967296);
      this.skew += nt - t;
      this.deadlineMoved();
    }
  }
}
