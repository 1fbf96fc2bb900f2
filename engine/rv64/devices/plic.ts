// SiFive PLIC as QEMU's virt machine has it for one hart: sources 1..95 with 3-bit priorities, and two contexts,
// 0 = the hart's M-mode (drives mip.MEIP) and 1 = its S-mode (drives mip.SEIP).
// Register map: priority[src] at 4*src, pending bits at 0x1000, enable bits at 0x2000 + 0x80*ctx,
// threshold at 0x200000 + 0x1000*ctx and claim/complete at +4.
// Sources are level-triggered: a line that is still high when its interrupt is completed becomes pending again.
import type { MmioDevice } from '../bus.js';
import type { Stateful } from '../state.js';
import type { InterruptLines, IrqSink } from './irq.js';

export const PLIC_BASE = 0xc000000;
export const PLIC_SIZE = 0x600000;
/** Number of source IDs including the reserved ID 0 (QEMU virt: VIRT_IRQCHIP_NUM_SOURCES); valid sources are 1..95. */
export const PLIC_SOURCES = 96;
/** Highest priority (QEMU virt: 3 priority bits). */
export const PLIC_MAX_PRIORITY = 7;

const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;
const WORDS = PLIC_SOURCES / 32;
/** mip bit each context drives. */
const CONTEXT_LINES = [11, 9];

interface PlicState {
  priority: Uint8Array;
  level: Uint8Array;
  pending: Uint8Array;
  claimed: Uint8Array;
  enable: Uint32Array;
  threshold: Uint8Array;
}

export class Plic implements MmioDevice, IrqSink, Stateful<PlicState> {
  readonly name = 'plic';
  private readonly priority = new Uint8Array(PLIC_SOURCES);
  private readonly level = new Uint8Array(PLIC_SOURCES);
  private readonly pending = new Uint8Array(PLIC_SOURCES);
  private readonly claimed = new Uint8Array(PLIC_SOURCES);
  /** enable[ctx * WORDS + word]: bit i of word w enables source 32w + i. */
  private readonly enable = new Uint32Array(CONTEXT_LINES.length * WORDS);
  private readonly threshold = new Uint8Array(CONTEXT_LINES.length);
  private readonly asserted = new Uint8Array(CONTEXT_LINES.length);

  constructor(private readonly lines: InterruptLines) {}

  save(): PlicState {
    return {
      priority: this.priority.slice(),
      level: this.level.slice(),
      pending: this.pending.slice(),
      claimed: this.claimed.slice(),
      enable: this.enable.slice(),
      threshold: this.threshold.slice(),
    };
  }

  restore(s: PlicState): void {
    this.priority.set(s.priority);
    this.level.set(s.level);
    this.pending.set(s.pending);
    this.claimed.set(s.claimed);
    this.enable.set(s.enable);
    this.threshold.set(s.threshold);
    this.asserted.fill(2); // neither level: update() drives both lines again
    this.update();
  }

  setIrq(irq: number, level: boolean): void {
    if (irq <= 0 || irq >= PLIC_SOURCES) return;
    this.level[irq] = level ? 1 : 0;
    // the gateway forwards one request at a time: while claimed, a high line waits for the completion
    if (!this.claimed[irq]) this.pending[irq] = level ? 1 : 0;
    this.update();
  }

  load(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4 || offset & 3) return 0;
    if (offset < PENDING_BASE) return offset / 4 < PLIC_SOURCES ? this.priority[offset / 4]! : 0;
    if (offset < ENABLE_BASE) {
      const word = (offset - PENDING_BASE) / 4;
      return word < WORDS ? this.pendingWord(word) : 0;
    }
    if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) / 4;
      return ctx < CONTEXT_LINES.length && word < WORDS ? this.enable[ctx * WORDS + word]! | 0 : 0;
    }
    const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
    const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
    if (ctx >= CONTEXT_LINES.length) return 0;
    if (reg === 0) return this.threshold[ctx]!;
    if (reg === 4) return this.claim(ctx);
    return 0;
  }

  store(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || offset & 3) return;
    if (offset < PENDING_BASE) {
      const src = offset / 4;
      if (src > 0 && src < PLIC_SOURCES) this.priority[src] = Math.min(value >>> 0, PLIC_MAX_PRIORITY);
    } else if (offset < ENABLE_BASE) {
      return; // pending bits are read-only
    } else if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) / 4;
      if (ctx >= CONTEXT_LINES.length || word >= WORDS) return;
      this.enable[ctx * WORDS + word] = word === 0 ? value & ~1 : value; // source 0 does not exist
    } else {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (ctx >= CONTEXT_LINES.length) return;
      if (reg === 0) this.threshold[ctx] = Math.min(value >>> 0, PLIC_MAX_PRIORITY);
      else if (reg === 4) this.complete(ctx, value >>> 0);
      else return;
    }
    this.update();
  }

  private pendingWord(word: number): number {
    let bits = 0;
    for (let i = 0; i < 32; i++) if (this.pending[word * 32 + i]) bits |= 1 << i;
    return bits;
  }

  private enabled(ctx: number, src: number): boolean {
    return (this.enable[ctx * WORDS + (src >> 5)]! & (1 << (src & 31))) !== 0;
  }

  /** The enabled pending source with the highest priority (lowest ID on ties), or 0. Priority 0 never interrupts. */
  private best(ctx: number): number {
    let bestSrc = 0;
    let bestPriority = 0;
    for (let src = 1; src < PLIC_SOURCES; src++) {
      if (this.pending[src] && this.priority[src]! > bestPriority && this.enabled(ctx, src)) {
        bestSrc = src;
        bestPriority = this.priority[src]!;
      }
    }
    return bestSrc;
  }

  private claim(ctx: number): number {
    const src = this.best(ctx);
    if (src) {
      this.pending[src] = 0;
      this.claimed[src] = 1;
      this.update();
    }
    return src;
  }

  private complete(ctx: number, src: number): void {
    // as in the SiFive PLIC, a completion for a source not enabled on this context is ignored
    if (src <= 0 || src >= PLIC_SOURCES || !this.enabled(ctx, src) || !this.claimed[src]) return;
    this.claimed[src] = 0;
    if (this.level[src]) this.pending[src] = 1;
  }

  private update(): void {
    for (let ctx = 0; ctx < CONTEXT_LINES.length; ctx++) {
      const src = this.best(ctx);
      const level = src !== 0 && this.priority[src]! > this.threshold[ctx]! ? 1 : 0;
      if (level !== this.asserted[ctx]) {
        this.asserted[ctx] = level;
        this.lines.setInterruptLine(CONTEXT_LINES[ctx]!, level === 1);
      }
    }
  }
}
