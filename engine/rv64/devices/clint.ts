// CLINT (core-local interruptor) for one hart, at the SiFive/Spike layout: msip at +0, mtimecmp at +0x4000,
// mtime at +0xbff8. mtime advances with retired instructions (deterministic); when the hart idles in WFI the
// machine may jump mtime forward to the next deadline.
import type { MmioDevice } from '../bus.js';
import type { Cpu } from '../cpu/cpu.js';

export const CLINT_BASE = 0x2000000;
export const CLINT_SIZE = 0x10000;

export class Clint implements MmioDevice {
  readonly name = 'clint';
  private msip = 0;
  private cmp = Number.MAX_SAFE_INTEGER;
  private cmpLo = -1;
  private skew = 0;

  constructor(private readonly cpu: Cpu, private readonly instructionsPerTick = 10) {
    cpu.timeSource = () => this.mtime();
  }

  mtime(): number {
    return Math.floor(this.cpu.retired() / this.instructionsPerTick) + this.skew;
  }

  /** Update MTIP from mtime/mtimecmp; call between run slices. */
  tick(): void {
    this.cpu.setInterruptLine(7, this.mtime() >= this.cmp);
  }

  /** Instructions until the timer fires (Infinity if never). */
  untilDeadline(): number {
    const t = this.cmp - this.mtime();
    return this.cmp >= Number.MAX_SAFE_INTEGER ? Infinity : Math.max(0, t) * this.instructionsPerTick;
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
      this.tick();
    } else if (offset === 0x4004) {
      const hi = value >>> 0;
      this.cmp = hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 4294967296 + (this.cmpLo >>> 0);
      this.tick();
    } else if (offset === 0xbff8 || offset === 0xbffc) {
      const t = this.mtime();
      const nt = offset === 0xbff8 ? Math.floor(t / 4294967296) * 4294967296 + (value >>> 0)
        : (value >>> 0) * 4294967296 + (t % 4294967296);
      this.skew += nt - t;
      this.tick();
    }
  }
}
