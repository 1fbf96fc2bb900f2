// The RV64GC hart: state, the run loop, memory access through the TLB, traps and interrupts.
// Registers are (lo, hi) int32 pairs in x (x[2r] = lo, x[2r+1] = hi); x0 reads as zero and writes to it land in a
// scratch register (see decode.ts). Instructions are decoded once per physical page into a cache that stores
// invalidate; the pc is a JS number (exact for every canonical Sv39/Sv48 address and every physical address).
import * as busMod from '../bus.js';
import type { Bus } from '../bus.js';
import * as csrMod from './csr.js';
import * as decodeMod from './decode.js';
import { type Block, type JitEnv, compileBlock } from './jit.js';
import { Fpu } from './fpu.js';
import * as int64 from './int64.js';
import { Pmp } from './pmp.js';
import * as sf from './softfloat.js';

// Imported bindings copied into module constants once: under per-file transpilation (tsx) every use of an import is
// a getter call, which the huge exec() would otherwise pay on its hot paths.
const {
  CSR,
  MS_FS,
  MS_MIE,
  MS_MPIE,
  MS_MPP,
  MS_MPRV,
  MS_MXR,
  MS_SIE,
  MS_SPIE,
  MS_SPP,
  MS_SUM,
  MS_TSR,
  MS_TVM,
  MS_TW,
  csrRead,
  csrWrite,
} = csrMod;
const { decode } = decodeMod;
const { R, div32, div64, mul64, mulh64, mulhu64 } = int64;
const { RDN, RMM, RNE, RTZ, RUP } = sf;
const { STORE_BLOCK_SHIFT } = busMod;

const TWO32 = 4294967296;

export const enum Stop {
  /** The instruction budget ran out. */
  Budget = 0,
  /** A PC breakpoint was reached (the instruction there has not executed). */
  Breakpoint = 1,
  /** A watched address was accessed (the accessing instruction has completed). */
  Watchpoint = 2,
  /** WFI with no interrupt pending: the caller should advance time (or wait for a device). */
  Idle = 3,
  /** requestStop() was called (e.g. by a device: test finished, power off, or a debugger interrupt). */
  Halted = 4,
}

/** Exception causes. */
export const Cause = {
  FetchMisaligned: 0,
  FetchAccess: 1,
  Illegal: 2,
  Breakpoint: 3,
  LoadMisaligned: 4,
  LoadAccess: 5,
  StoreMisaligned: 6,
  StoreAccess: 7,
  EcallU: 8,
  EcallS: 9,
  EcallM: 11,
  FetchPage: 12,
  LoadPage: 13,
  StorePage: 15,
} as const;

const ACC_R = 0,
  ACC_W = 1,
  ACC_X = 2;
const ACCESS_FAULT = [Cause.LoadAccess, Cause.StoreAccess, Cause.FetchAccess];
const PAGE_FAULT = [Cause.LoadPage, Cause.StorePage, Cause.FetchPage];

/** Thrown (never allocated per trap) to unwind an instruction that raised an exception. */
const TRAP = { trap: true };

/** Interrupt priority: MEI, MSI, MTI, SEI, SSI, STI. */
const IRQ_PRIORITY = [11, 3, 7, 9, 1, 5];

const TLB_SIZE = 256;
const CSR_MIP = 0x344;
const MIP_SEIP_BIT = 1 << 9;
const JIT_MAX_BLOCKS = 50_000;
/** Interpreted executions of an instruction before a block starting there is compiled. */
const JIT_HEAT = 16;
/** Decode-cache slots per 4 KiB page: one per halfword, four int32 each (three used; four makes the index a shift). */
const BLOCK_WORDS = 2048 * 4;

/** Cpu.save(): the hart's state as plain data (arrays are copies). */
export interface CpuState {
  readonly x: Int32Array;
  readonly f: Uint8Array;
  readonly fflags: number;
  readonly frm: number;
  readonly pc: number;
  readonly priv: number;
  readonly mstatus: number;
  readonly medeleg: number;
  readonly mideleg: number;
  readonly mie: number;
  readonly mipSw: number;
  readonly mipHw: number;
  readonly mcounteren: number;
  readonly scounteren: number;
  /** Non-zero CSR words as (index, value) pairs. */
  readonly csrs: Int32Array;
  readonly pmpCfg: Uint8Array;
  readonly pmpLo: Int32Array;
  readonly pmpHi: Int32Array;
  readonly retired: number;
  readonly wfi: boolean;
  readonly resAddr: number;
  readonly stoppedAtBp: boolean;
}

export interface Watchpoint {
  addr: number;
  len: number;
  read: boolean;
  write: boolean;
}

export class Cpu {
  // ---- architectural state ----
  /** Integer registers as int32 pairs; index 32 is the x0 write sink. */
  readonly x = new Int32Array(66);
  readonly fpu = new Fpu();
  pc = 0;
  priv = 3;
  hartId = 0;
  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** Software-writable interrupt-pending bits (SSIP, STIP, SEIP). */
  mipSw = 0;
  /** Interrupt lines driven by devices (MSIP, MTIP, MEIP, SEIP). */
  mipHw = 0;
  mcounteren = 0;
  scounteren = 0;
  /** Other CSRs as (lo, hi) pairs at index 2 * number. */
  readonly csrs = new Int32Array(4096 * 2);
  readonly pmp = new Pmp();
  /** Retired instructions before the current exec() slice (cycle == instret here: one instruction per cycle). */
  private instret = 0;
  private sliceN = 0;
  wfi = false;
  /** LR/SC reservation (physical address) or -1. */
  private resAddr = -1;

  /** Source of the `time` CSR; by default the instruction count (deterministic). The machine replaces it. */
  timeSource: () => number = () => this.retired();
  /** M-mode firmware run by the host (kwb's built-in SBI): offered every trap that would enter M-mode; returning
   *  true means it was handled there and no trap is taken (the handler updates pc and registers itself). */
  firmware: ((cause: number, isInterrupt: boolean) => boolean) | undefined = undefined;

  // ---- translation state ----
  private satpMode = 0;
  private satpRoot = 0;
  private sum = false;
  private mxr = false;
  private readonly tlbTag = [new Int32Array(TLB_SIZE), new Int32Array(TLB_SIZE), new Int32Array(TLB_SIZE)];
  private readonly tlbHi = [new Int32Array(TLB_SIZE), new Int32Array(TLB_SIZE), new Int32Array(TLB_SIZE)];
  private readonly tlbOff = [new Int32Array(TLB_SIZE), new Int32Array(TLB_SIZE), new Int32Array(TLB_SIZE)];
  private rTag: Int32Array;
  private rHi: Int32Array;
  private rOff: Int32Array;
  private wTag: Int32Array;
  private wHi: Int32Array;
  private wOff: Int32Array;
  private readonly xTag: Int32Array;
  private readonly xHi: Int32Array;
  private readonly xOff: Int32Array;
  /** Set by translate(): may this translation be cached (PMP uniform over the page, no watchpoints)? */
  private cacheable = false;
  /** High word of the last 64-bit load. */
  private rhi = 0;

  // ---- decode cache ----
  private readonly blocks: (Int32Array | undefined)[];
  private readonly codeMark: Uint8Array;
  private readonly scratch = new Int32Array(3);
  private fBlk: Int32Array;
  private fBase = NaN;
  private fLim = 0;
  private fRam = 0;
  private fetchFaulted = false;

  // ---- block compiler (jit.ts) ----
  /** Compile hot straight-line code into JS functions (off while breakpoints or watchpoints are set). */
  jitEnabled = true;
  private readonly jitPages: (Array<Block | undefined> | undefined)[];
  private readonly jitHeat: (Uint32Array | undefined)[];
  /** Per RAM page: bumped whenever decoded code in the page is invalidated; blocks remember it. */
  private readonly jitGen: Uint32Array;
  /** Index within the running block of the instruction in a slow path (set by generated code before it may trap). */
  jitK = 0;
  /** Instructions the block just run executed: its length, or fewer when it left early (see jit.ts). */
  jitRan = 0;
  /** Interpreted executions of an instruction before a block starting there is compiled (1: compile everything at
   *  once, as tests of the compiler do). */
  jitThreshold = JIT_HEAT;
  /** Blocks compiled and the time spent compiling them (ms), for benchmarks. */
  readonly jitStats = { blocks: 0, compileMs: 0 };
  private jitEnv: JitEnv | undefined;
  /** Compiled blocks alive; past JIT_MAX_BLOCKS every block is dropped (bounded memory; hot code recompiles). */
  private jitCount = 0;

  // ---- run control ----
  private limit = 0;
  /** Retired count at which the current run() ends (a device may bring it closer: endRunWithin). */
  private runEnd = 0;
  private stopReason = Stop.Budget;
  private haltReq = false;
  private bps = new Set<number>();
  private bpSkip = false;
  /** The last run() stopped at a breakpoint: the next one starts by executing the instruction there. */
  private stoppedAtBp = false;
  private watches: Watchpoint[] = [];
  /** Breakpoints and watchpoints put aside by setDebugStops(false). */
  private parkedStops: { bps: Set<number>; watches: Watchpoint[] } | undefined;
  /** Last watchpoint hit: address and whether it was a write. */
  watchHit: { addr: number; write: boolean } | undefined;
  private trapCause = 0;
  private trapLo = 0;
  private trapHi = 0;
  private readonly csrOut = new Int32Array(2);
  private readonly cvtOut = new Int32Array(2);

  private readonly ram: Uint8Array;
  private readonly dv: DataView;
  private readonly ramBase: number;
  private readonly ramLen: number;
  /** The bus's written-page marks (see Bus.written): a page the write TLB maps is always marked already. */
  private readonly written: Uint8Array;
  /** The bus's stored-block marks (Bus.stored), set by every store (interpreted: a recording runs without the block
   *  compiler). */
  private readonly stored: Uint8Array;

  constructor(readonly bus: Bus) {
    this.ram = bus.ram;
    this.written = bus.written;
    this.stored = bus.stored;
    this.dv = bus.ramView;
    this.ramBase = bus.ramBase;
    this.ramLen = bus.ram.length;
    this.blocks = new Array<Int32Array | undefined>(this.ramLen / 4096);
    this.codeMark = new Uint8Array(this.ramLen / 4096);
    this.jitPages = new Array<Array<Block | undefined> | undefined>(this.ramLen / 4096);
    this.jitHeat = new Array<Uint32Array | undefined>(this.ramLen / 4096);
    this.jitGen = new Uint32Array(this.ramLen / 4096);
    this.rTag = this.tlbTag[0]!;
    this.rHi = this.tlbHi[0]!;
    this.rOff = this.tlbOff[0]!;
    this.wTag = this.tlbTag[1]!;
    this.wHi = this.tlbHi[1]!;
    this.wOff = this.tlbOff[1]!;
    this.xTag = this.tlbTag[2]!;
    this.xHi = this.tlbHi[2]!;
    this.xOff = this.tlbOff[2]!;
    this.fBlk = this.scratch;
    this.flushTlb();
    this.mstatus = 0;
  }

  // =====================================================================================================
  // Public API
  // =====================================================================================================

  /** Instructions retired so far. */
  retired(): number {
    return this.instret + (this.sliceN > 0 ? this.sliceN - 1 : 0);
  }
  setRetired(v: number): void {
    this.instret = v - this.sliceN;
  }

  /** The hart's architectural state (everything but RAM, caches and the debugger's stops), for time travel. */
  save(): CpuState {
    const csrs: number[] = [];
    for (let i = 0; i < this.csrs.length; i++) if (this.csrs[i] !== 0) csrs.push(i, this.csrs[i]!);
    return {
      x: this.x.slice(),
      f: new Uint8Array(this.fpu.buf.slice(0)),
      fflags: this.fpu.flags,
      frm: this.fpu.frm,
      pc: this.pc,
      priv: this.priv,
      mstatus: this.mstatus,
      medeleg: this.medeleg,
      mideleg: this.mideleg,
      mie: this.mie,
      mipSw: this.mipSw,
      mipHw: this.mipHw,
      mcounteren: this.mcounteren,
      scounteren: this.scounteren,
      csrs: Int32Array.from(csrs),
      pmpCfg: this.pmp.cfg.slice(),
      pmpLo: this.pmp.addrLo.slice(),
      pmpHi: this.pmp.addrHi.slice(),
      retired: this.retired(),
      wfi: this.wfi,
      resAddr: this.resAddr,
      stoppedAtBp: this.stoppedAtBp,
    };
  }

  /** Put back a saved state. RAM is the caller's (and so is invalidatePhys() for the pages it puts back). */
  restore(s: CpuState): void {
    this.x.set(s.x);
    new Uint8Array(this.fpu.buf).set(s.f);
    this.fpu.flags = s.fflags;
    this.fpu.frm = s.frm;
    this.pc = s.pc;
    this.priv = s.priv;
    this.medeleg = s.medeleg;
    this.mideleg = s.mideleg;
    this.mie = s.mie;
    this.mipSw = s.mipSw;
    this.mipHw = s.mipHw;
    this.mcounteren = s.mcounteren;
    this.scounteren = s.scounteren;
    this.csrs.fill(0);
    for (let i = 0; i < s.csrs.length; i += 2) this.csrs[s.csrs[i]!] = s.csrs[i + 1]!;
    this.pmp.restore(s.pmpCfg, s.pmpLo, s.pmpHi);
    this.sliceN = 0;
    this.instret = s.retired;
    this.wfi = s.wfi;
    this.resAddr = s.resAddr;
    this.stoppedAtBp = s.stoppedAtBp;
    this.writeMstatus(s.mstatus);
    this.satpChanged();
  }

  /** Reset to M-mode at pc. */
  reset(pc: number): void {
    this.pc = pc;
    this.priv = 3;
    this.mstatus = 0;
    this.wfi = false;
    this.flushTlb();
  }

  /** Drive a device interrupt line (a mip bit: 3 MSIP, 7 MTIP, 11 MEIP, 9 SEIP). */
  setInterruptLine(bit: number, level: boolean): void {
    if (level) this.mipHw |= 1 << bit;
    else this.mipHw &= ~(1 << bit);
    this.limit = 0; // re-check interrupts after the current instruction
  }

  /** Stop the run loop after the current instruction (safe to call from devices and other callbacks). */
  requestStop(): void {
    this.haltReq = true;
    this.limit = 0;
  }

  addBreakpoint(pc: number): void {
    this.bps.add(pc);
  }
  removeBreakpoint(pc: number): void {
    this.bps.delete(pc);
  }
  addWatchpoint(w: Watchpoint): void {
    this.watches.push(w);
    this.flushTlb();
  }
  removeWatchpoint(addr: number, len: number): void {
    const i = this.watches.findIndex((w) => w.addr === addr && w.len === len);
    if (i >= 0) this.watches.splice(i, 1);
  }
  /** The breakpoints set (those put aside by setDebugStops(false) not counted). */
  get breakpointCount(): number {
    return this.bps.size;
  }
  /** The watchpoints set (those put aside by setDebugStops(false) not included). */
  get watchpoints(): readonly Watchpoint[] {
    return this.watches;
  }

  /** Breakpoints and watchpoints off (false: put aside, as a replay to a given instruction needs) or back on. */
  setDebugStops(on: boolean): void {
    if (!on && !this.parkedStops) {
      this.parkedStops = { bps: this.bps, watches: this.watches };
      this.bps = new Set();
      this.watches = [];
    } else if (on && this.parkedStops) {
      ({ bps: this.bps, watches: this.watches } = this.parkedStops);
      this.parkedStops = undefined;
    }
    this.flushTlb(); // TLB entries are filled only while no watchpoint is set
  }

  /**
   * Run up to maxInstructions. Returns why it stopped. Resuming from a breakpoint stop executes that instruction (so
   * a debugger can continue from it); a breakpoint where a run merely starts stops it. Single-step is run(1).
   */
  run(maxInstructions: number): Stop {
    this.haltReq = false;
    this.watchHit = undefined;
    this.bpSkip = this.stoppedAtBp && this.bps.has(this.pc);
    this.stoppedAtBp = false;
    this.runEnd = this.instret + maxInstructions;
    while (this.instret < this.runEnd) {
      if (this.haltReq) return Stop.Halted;
      const pend = this.mip() & this.mie;
      if (pend !== 0) {
        this.wfi = false;
        this.checkInterrupts(pend);
      }
      if (this.wfi) return Stop.Idle;
      this.stopReason = Stop.Budget;
      this.exec(this.runEnd - this.instret);
      if (this.stopReason !== Stop.Budget) {
        this.stoppedAtBp = this.stopReason === Stop.Breakpoint;
        return this.stopReason;
      }
    }
    return this.haltReq ? Stop.Halted : Stop.Budget;
  }

  /** End the current run() at most `n` instructions from the one executing (a device's deadline moved closer), so
   *  that when devices change state does not depend on how the caller sliced its runs. */
  endRunWithin(n: number): void {
    const end = this.retired() + n;
    if (end < this.runEnd) {
      this.runEnd = end;
      this.limit = 0;
    }
  }

  /** Pages written since the last call (RAM page indices); from here on, their next writes are noticed again. With
   *  `stored`, the blocks of them that stores wrote (see Bus.takeWritten). */
  takeWrittenPages(stored?: Map<number, number>): number[] {
    const pages = this.bus.takeWritten(stored);
    this.wTag.fill(-1); // the write TLB maps only marked pages
    return pages;
  }

  mip(): number {
    return this.mipSw | this.mipHw;
  }
  fsOn(): boolean {
    return (this.mstatus & MS_FS) !== 0;
  }
  setFsDirty(): void {
    this.mstatus |= MS_FS;
  }
  sd(): boolean {
    return (this.mstatus & MS_FS) === MS_FS;
  }

  writeMstatus(v: number): void {
    if ((v & MS_MPP) >>> 11 === 2) v &= ~MS_MPP; // reserved MPP value -> U
    const old = this.mstatus;
    this.mstatus = v;
    this.sum = (v & MS_SUM) !== 0;
    this.mxr = (v & MS_MXR) !== 0;
    if (((old ^ v) & (MS_MPRV | MS_SUM | MS_MXR | MS_MPP)) !== 0) this.flushTlb();
  }
  satpChanged(): void {
    const lo = this.csrs[CSR.satp * 2]!,
      hi = this.csrs[CSR.satp * 2 + 1]!;
    this.satpMode = hi >>> 28;
    this.satpRoot = ((hi & 0xfff) * TWO32 + (lo >>> 0)) * 4096;
    this.flushTlb();
  }
  flushTlb(): void {
    for (const t of this.tlbTag) t.fill(-1);
    this.fBase = NaN;
  }
  /** Devices that write RAM directly (DMA) call this so stale decoded instructions are dropped. */
  invalidatePhys(paddr: number, len: number): void {
    const first = Math.max(0, Math.floor((paddr - this.ramBase) / 4096));
    const last = Math.min(this.codeMark.length - 1, Math.floor((paddr + len - 1 - this.ramBase) / 4096));
    for (let p = first; p <= last; p++)
      if (this.codeMark[p]) {
        this.blocks[p]!.fill(0);
        this.jitGen[p]!++;
      }
  }

  /** Forget every decoded instruction (fence.i, or after memory was written behind the CPU's back). */
  flushDecodeCache(): void {
    for (let i = 0; i < this.codeMark.length; i++)
      if (this.codeMark[i]) {
        this.blocks[i]!.fill(0);
        this.jitGen[i]!++;
      }
    this.fBase = NaN;
  }

  /** x register as an unsigned 64-bit BigInt (debugger use; not on the hot path). */
  getX(r: number): bigint {
    if (r === 0) return 0n;
    return BigInt.asUintN(64, (BigInt(this.x[2 * r + 1]!) << 32n) | BigInt(this.x[2 * r]! >>> 0));
  }
  setX(r: number, v: bigint): void {
    if (r === 0) return;
    this.x[2 * r] = Number(BigInt.asIntN(32, v));
    this.x[2 * r + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }
  getPc(): bigint {
    return BigInt.asUintN(64, BigInt(this.pc));
  }
  setPc(v: bigint): void {
    this.pc = Number(BigInt.asIntN(64, v));
  }
  getF(r: number): bigint {
    return (BigInt(this.fpu.I[2 * r + 1]! >>> 0) << 32n) | BigInt(this.fpu.I[2 * r]! >>> 0);
  }
  setF(r: number, v: bigint): void {
    this.fpu.I[2 * r] = Number(BigInt.asIntN(32, v));
    this.fpu.I[2 * r + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }
  /** Read a CSR as a debugger would (no privilege checks); undefined if it does not exist. */
  readCsr(n: number): bigint | undefined {
    const p = this.priv;
    this.priv = 3;
    const fs = this.mstatus;
    this.mstatus |= MS_FS;
    const ok = csrRead(this, n, this.csrOut);
    this.priv = p;
    this.mstatus = fs;
    if (!ok) return undefined;
    return BigInt.asUintN(64, (BigInt(this.csrOut[1]!) << 32n) | BigInt(this.csrOut[0]! >>> 0));
  }
  writeCsr(n: number, v: bigint): boolean {
    const p = this.priv;
    this.priv = 3;
    const ok =
      csrRead(this, n, this.csrOut) &&
      csrWrite(this, n, Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
    this.priv = p;
    return ok;
  }

  /** Physical memory read for debuggers (RAM and devices); undefined where nothing is mapped. */
  readPhys(addr: number, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = addr + i,
        o = a - this.ramBase;
      if (o >= 0 && o < this.ramLen && !this.bus.ioPage[Math.floor(o / 4096)]) out[i] = this.ram[o]!;
      else {
        const v = this.bus.load(a, 1);
        if (v === undefined) return undefined;
        out[i] = v;
      }
    }
    return out;
  }
  /** Write `data` at physical `addr`: the number of bytes written, all of them or those before the first that
   *  cannot be. */
  writePhys(addr: number, data: Uint8Array): number {
    let i = 0;
    for (; i < data.length; i++) {
      const a = addr + i,
        o = a - this.ramBase;
      if (o >= 0 && o < this.ramLen && !this.bus.ioPage[Math.floor(o / 4096)]) {
        if (!this.written[o >>> 12]) this.bus.markWritten(o, 1);
        this.ram[o] = data[i]!;
      } else if (!this.bus.store(a, 1, data[i]!)) break;
    }
    if (i) this.flushDecodeCache();
    return i;
  }
  /** Translate a virtual address as a data access in the current mode, without side effects; undefined on a fault. */
  virtToPhys(addr: bigint, write = false): number | undefined {
    const lo = Number(BigInt.asIntN(32, addr)),
      hi = Number(BigInt.asIntN(32, addr >> 32n));
    try {
      return this.translate(lo, hi, write ? ACC_W : ACC_R, this.dataPriv(), true);
    } catch (e) {
      if (e === TRAP) return undefined;
      throw e;
    }
  }
  readVirt(addr: bigint, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const p = this.virtToPhys(addr + BigInt(i));
      const b = p === undefined ? undefined : this.readPhys(p, 1);
      if (!b) return undefined;
      out[i] = b[0]!;
    }
    return out;
  }
  /** Write `data` at virtual `addr` (as a store in the current mode): the number of bytes written, as writePhys. */
  writeVirt(addr: bigint, data: Uint8Array): number {
    let i = 0;
    for (; i < data.length; i++) {
      const p = this.virtToPhys(addr + BigInt(i), true);
      if (p === undefined || !this.writePhys(p, data.subarray(i, i + 1))) break;
    }
    return i;
  }

  // =====================================================================================================
  // Traps and interrupts
  // =====================================================================================================

  private raise(cause: number, lo: number, hi: number): never {
    this.trapCause = cause;
    this.trapLo = lo;
    this.trapHi = hi;
    throw TRAP;
  }
  private raiseAt(cause: number, addr: number): never {
    const h = Math.floor(addr / TWO32);
    return this.raise(cause, (addr - h * TWO32) | 0, h | 0);
  }

  private checkInterrupts(pend: number): void {
    const ms = this.mstatus;
    const mPend = pend & ~this.mideleg;
    if (mPend !== 0 && (this.priv < 3 || ms & MS_MIE)) {
      this.takeInterrupt(mPend);
      return;
    }
    const sPend = pend & this.mideleg;
    if (sPend !== 0 && this.priv <= 1 && (this.priv === 0 || ms & MS_SIE)) this.takeInterrupt(sPend);
  }
  private takeInterrupt(p: number): void {
    for (const b of IRQ_PRIORITY) {
      if (p & (1 << b)) {
        this.enterTrap(b, true, 0, 0);
        return;
      }
    }
  }

  /** Take a trap at this.pc. */
  enterTrap(cause: number, isInt: boolean, tlo: number, thi: number): void {
    const s = this.csrs;
    const pcH = Math.floor(this.pc / TWO32);
    const epcLo = (this.pc - pcH * TWO32) | 0,
      epcHi = pcH | 0;
    const deleg = this.priv <= 1 && (((isInt ? this.mideleg : this.medeleg) >>> cause) & 1) === 1;
    this.resAddr = -1;
    this.wfi = false;
    if (!deleg && this.firmware !== undefined && this.firmware(cause, isInt)) return;
    let ms = this.mstatus;
    let tv: number;
    if (deleg) {
      s[CSR.scause * 2] = cause;
      s[CSR.scause * 2 + 1] = isInt ? 0x80000000 | 0 : 0;
      s[CSR.sepc * 2] = epcLo;
      s[CSR.sepc * 2 + 1] = epcHi;
      s[CSR.stval * 2] = tlo;
      s[CSR.stval * 2 + 1] = thi;
      ms = (ms & ~(MS_SPIE | MS_SIE | MS_SPP)) | (ms & MS_SIE ? MS_SPIE : 0) | (this.priv === 1 ? MS_SPP : 0);
      this.setPriv(1);
      tv = CSR.stvec;
    } else {
      s[CSR.mcause * 2] = cause;
      s[CSR.mcause * 2 + 1] = isInt ? 0x80000000 | 0 : 0;
      s[CSR.mepc * 2] = epcLo;
      s[CSR.mepc * 2 + 1] = epcHi;
      s[CSR.mtval * 2] = tlo;
      s[CSR.mtval * 2 + 1] = thi;
      ms = (ms & ~(MS_MPIE | MS_MIE | MS_MPP)) | (ms & MS_MIE ? MS_MPIE : 0) | (this.priv << 11);
      this.setPriv(3);
      tv = CSR.mtvec;
    }
    this.mstatus = ms;
    const lo = s[tv * 2]!,
      hi = s[tv * 2 + 1]!;
    let target = hi * TWO32 + ((lo & ~3) >>> 0);
    if (isInt && (lo & 3) === 1) target += 4 * cause;
    this.pc = target;
  }
  private setPriv(p: number): void {
    if (p !== this.priv) {
      this.priv = p;
      this.flushTlb();
    }
  }
  private dataPriv(): number {
    return this.mstatus & MS_MPRV && this.priv === 3 ? (this.mstatus & MS_MPP) >>> 11 : this.priv;
  }

  // =====================================================================================================
  // Address translation (Sv39 / Sv48) and PMP
  // =====================================================================================================

  /** Virtual (lo, hi) -> physical address; raises page/access faults. probe: no A/D updates, for debuggers. */
  private translate(lo: number, hi: number, acc: number, priv: number, probe = false, size = 1): number {
    let pa: number;
    if (priv === 3 || this.satpMode === 0) {
      if (hi < 0 || hi >= 0x1000000) this.raise(ACCESS_FAULT[acc]!, lo, hi);
      pa = hi * TWO32 + (lo >>> 0);
    } else {
      pa = this.walk(lo, hi, acc, priv, probe);
    }
    // PMP
    if (priv !== 3 || this.pmp.anyLocked) {
      if (!this.pmp.check(pa, size, acc, priv)) this.raise(ACCESS_FAULT[acc]!, lo, hi); // all bytes, one entry
      this.cacheable = this.pmp.pageAllowed(pa - (pa % 4096), acc, priv);
    } else this.cacheable = true;
    if (this.watches.length) this.cacheable = false;
    return pa;
  }

  private walk(lo: number, hi: number, acc: number, priv: number, probe: boolean): number {
    const levels = this.satpMode === 8 ? 3 : 4;
    const top = levels === 3 ? hi >> 6 : hi >> 15;
    if (top !== 0 && top !== -1) this.raise(PAGE_FAULT[acc]!, lo, hi);
    let a = this.satpRoot;
    const dv = this.dv;
    for (let i = levels - 1; i >= 0; i--) {
      const vpn =
        i === 0
          ? (lo >>> 12) & 511
          : i === 1
            ? (lo >>> 21) & 511
            : i === 2
              ? ((lo >>> 30) | ((hi & 0x7f) << 2)) & 511
              : (hi >>> 7) & 511;
      const pteAddr = a + vpn * 8;
      const off = pteAddr - this.ramBase;
      if (off < 0 || off + 8 > this.ramLen) this.raise(ACCESS_FAULT[acc]!, lo, hi);
      const pl = dv.getInt32(off, true),
        ph = dv.getInt32(off + 4, true);
      if ((pl & 1) === 0 || (pl & 6) === 4 || ph >>> 22 !== 0) this.raise(PAGE_FAULT[acc]!, lo, hi);
      const ppn = (ph & 0x3fffff) * 4194304 + (pl >>> 10);
      if ((pl & 0xa) === 0) {
        // pointer to the next level
        if (i === 0 || (pl & 0xd0) !== 0) this.raise(PAGE_FAULT[acc]!, lo, hi);
        a = ppn * 4096;
        continue;
      }
      // leaf
      const u = (pl & 0x10) !== 0;
      if (priv === 0 ? !u : u && (acc === ACC_X || !this.sum)) this.raise(PAGE_FAULT[acc]!, lo, hi);
      const ok =
        acc === ACC_R
          ? (pl & 2) !== 0 || (this.mxr && (pl & 8) !== 0)
          : acc === ACC_W
            ? (pl & 4) !== 0
            : (pl & 8) !== 0;
      if (!ok) this.raise(PAGE_FAULT[acc]!, lo, hi);
      const span = i === 0 ? 1 : 2 ** (9 * i);
      if (ppn % span !== 0) this.raise(PAGE_FAULT[acc]!, lo, hi);
      if (!probe) {
        const npl = pl | 0x40 | (acc === ACC_W ? 0x80 : 0);
        if (npl !== pl) {
          if (!this.written[off >>> 12]) this.bus.markWritten(off, 8);
          dv.setInt32(off, npl, true);
        }
      }
      const bits = 12 + 9 * i; // offset bits inside this (super)page
      const voff = bits <= 31 ? (lo & ((1 << bits) - 1)) >>> 0 : (hi & ((1 << (bits - 32)) - 1)) * TWO32 + (lo >>> 0);
      return ppn * 4096 + voff;
    }
    return this.raise(PAGE_FAULT[acc]!, lo, hi);
  }

  // =====================================================================================================
  // Data memory
  // =====================================================================================================

  /** Load size bytes: 1/2 zero-extended, 4 as int32, 8 low word (high word in this.rhi). */
  private load(lo: number, hi: number, size: number): number {
    const vpn = lo >>> 12,
      i = vpn & 255,
      po = lo & 4095;
    if (this.rTag[i] === vpn && this.rHi[i] === hi && po <= 4096 - size) {
      const o = this.rOff[i]! + po;
      if (size === 4) return this.dv.getInt32(o, true);
      if (size === 8) {
        this.rhi = this.dv.getInt32(o + 4, true);
        return this.dv.getInt32(o, true);
      }
      if (size === 1) return this.ram[o]!;
      return this.dv.getUint16(o, true);
    }
    return this.loadSlow(lo, hi, size);
  }

  private store(lo: number, hi: number, size: number, v: number, vhi: number): void {
    const vpn = lo >>> 12,
      i = vpn & 255,
      po = lo & 4095;
    if (this.wTag[i] === vpn && this.wHi[i] === hi && po <= 4096 - size) {
      const o = this.wOff[i]! + po;
      this.stored[o >>> STORE_BLOCK_SHIFT] = 1;
      this.stored[(o + size - 1) >>> STORE_BLOCK_SHIFT] = 1;
      if (size === 4) this.dv.setInt32(o, v, true);
      else if (size === 8) {
        this.dv.setInt32(o, v, true);
        this.dv.setInt32(o + 4, vhi, true);
      } else if (size === 1) this.ram[o] = v;
      else this.dv.setUint16(o, v, true);
      if (this.codeMark[o >>> 12]) this.invalidateCode(o, size);
      return;
    }
    this.storeSlow(lo, hi, size, v, vhi);
  }

  private invalidateCode(o: number, size: number): void {
    this.jitGen[o >>> 12]!++;
    this.limit = 0; // the instructions after this one may have changed: a compiled block must not run on
    const blk = this.blocks[o >>> 12]!;
    const first = Math.max(0, ((o & 4095) >> 1) - 1),
      last = ((o & 4095) + size - 1) >> 1;
    for (let k = first; k <= last && k < 2048; k++) blk[k * 4] = 0;
  }

  private checkWatch(pa: number, size: number, write: boolean): void {
    for (const w of this.watches) {
      if (pa < w.addr + w.len && pa + size > w.addr && (write ? w.write : w.read)) {
        this.watchHit = { addr: pa, write };
        this.stopReason = Stop.Watchpoint;
        this.limit = 0;
      }
    }
  }

  private loadSlow(lo: number, hi: number, size: number): number {
    if ((lo & 4095) > 4096 - size) {
      // crosses a page: byte by byte (each byte translated)
      let v0 = 0,
        v1 = 0;
      for (let k = 0; k < size; k++) {
        const l = (lo + k) | 0;
        const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
        const b = this.loadSlow(l, h, 1);
        if (k < 4) v0 |= b << (8 * k);
        else v1 |= b << (8 * (k - 4));
      }
      this.rhi = v1;
      return size === 2 ? v0 & 0xffff : v0 | 0;
    }
    const pa = this.translate(lo, hi, ACC_R, this.dataPriv(), false, size);
    if (this.watches.length) this.checkWatch(pa, size, false);
    const o = pa - this.ramBase;
    if (o >= 0 && o + size <= this.ramLen && !this.bus.ioPage[Math.floor(o / 4096)]) {
      if (this.cacheable) {
        const i = (lo >>> 12) & 255;
        this.rTag[i] = lo >>> 12;
        this.rHi[i] = hi;
        this.rOff[i] = o - (o % 4096);
      }
      if (size === 4) return this.dv.getInt32(o, true);
      if (size === 8) {
        this.rhi = this.dv.getInt32(o + 4, true);
        return this.dv.getInt32(o, true);
      }
      if (size === 1) return this.ram[o]!;
      return this.dv.getUint16(o, true);
    }
    if (size === 8) {
      const a = this.bus.load(pa, 4),
        b = this.bus.load(pa + 4, 4);
      if (a === undefined || b === undefined) return this.raise(Cause.LoadAccess, lo, hi);
      this.rhi = b | 0;
      return a | 0;
    }
    if ((pa & (size - 1)) !== 0) this.raise(Cause.LoadMisaligned, lo, hi); // misaligned device access
    const v = this.bus.load(pa, size as 1 | 2 | 4);
    if (v === undefined) return this.raise(Cause.LoadAccess, lo, hi);
    return size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff);
  }

  private storeSlow(lo: number, hi: number, size: number, v: number, vhi: number): void {
    if ((lo & 4095) > 4096 - size) {
      // crosses a page: translate both pages first so a fault leaves memory untouched
      const l2 = (lo + size - 1) | 0;
      const h2 = (hi + (l2 >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      this.translate(lo, hi, ACC_W, this.dataPriv());
      this.translate(l2, h2, ACC_W, this.dataPriv());
      for (let k = 0; k < size; k++) {
        const l = (lo + k) | 0;
        const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
        this.storeSlow(l, h, 1, k < 4 ? v >>> (8 * k) : vhi >>> (8 * (k - 4)), 0);
      }
      return;
    }
    const pa = this.translate(lo, hi, ACC_W, this.dataPriv(), false, size);
    if (this.watches.length) this.checkWatch(pa, size, true);
    const o = pa - this.ramBase;
    if (o >= 0 && o + size <= this.ramLen && !this.bus.ioPage[Math.floor(o / 4096)]) {
      if (!this.written[o >>> 12]) this.bus.markWritten(o, size);
      this.stored[o >>> STORE_BLOCK_SHIFT] = 1;
      this.stored[(o + size - 1) >>> STORE_BLOCK_SHIFT] = 1;
      if (this.cacheable) {
        const i = (lo >>> 12) & 255;
        this.wTag[i] = lo >>> 12;
        this.wHi[i] = hi;
        this.wOff[i] = o - (o % 4096);
      }
      if (size === 4) this.dv.setInt32(o, v, true);
      else if (size === 8) {
        this.dv.setInt32(o, v, true);
        this.dv.setInt32(o + 4, vhi, true);
      } else if (size === 1) this.ram[o] = v;
      else this.dv.setUint16(o, v, true);
      if (this.codeMark[o >>> 12]) this.invalidateCode(o, size);
      return;
    }
    if (size === 8) {
      if (!this.bus.store(pa, 4, v | 0) || !this.bus.store(pa + 4, 4, vhi | 0)) this.raise(Cause.StoreAccess, lo, hi);
      return;
    }
    if ((pa & (size - 1)) !== 0) this.raise(Cause.StoreMisaligned, lo, hi);
    if (!this.bus.store(pa, size as 1 | 2 | 4, v)) this.raise(Cause.StoreAccess, lo, hi);
  }

  /** Physical address for an AMO/SC (store permission; misaligned -> store misaligned fault). */
  private amoAddr(lo: number, hi: number, size: number, isLr: boolean): number {
    if ((lo & (size - 1)) !== 0) this.raise(isLr ? Cause.LoadMisaligned : Cause.StoreMisaligned, lo, hi);
    const pa = this.translate(lo, hi, isLr ? ACC_R : ACC_W, this.dataPriv(), false, size);
    if (this.watches.length) this.checkWatch(pa, size, !isLr);
    const o = pa - this.ramBase;
    if (o < 0 || o + size > this.ramLen || this.bus.ioPage[Math.floor(o / 4096)])
      this.raise(isLr ? Cause.LoadAccess : Cause.StoreAccess, lo, hi);
    if (!isLr) {
      if (!this.written[o >>> 12]) this.bus.markWritten(o, size);
      this.stored[o >>> STORE_BLOCK_SHIFT] = 1; // aligned: one block
    }
    return o;
  }

  // =====================================================================================================
  // Instruction fetch
  // =====================================================================================================

  private fetchHalf(lo: number, hi: number): number {
    const pa = this.translate(lo, hi, ACC_X, this.priv);
    const o = pa - this.ramBase;
    if (o >= 0 && o + 2 <= this.ramLen && !this.bus.ioPage[Math.floor(o / 4096)]) return this.dv.getUint16(o, true);
    const v = this.bus.load(pa, 2);
    if (v === undefined) return this.raise(Cause.FetchAccess, lo, hi);
    return v & 0xffff;
  }

  /** Point the fetch window (fBlk/fBase/fLim/fRam) at this.pc's page; raises fetch faults. */
  private fetchPage(): void {
    const pc = this.pc;
    const h = Math.floor(pc / TWO32);
    const lo = (pc - h * TWO32) | 0,
      hi = h | 0;
    const po = lo & 4095;
    if (po >= 4094) {
      const h0 = this.fetchHalf(lo, hi);
      let h1 = 0;
      if ((h0 & 3) === 3) {
        const l2 = (lo + 2) | 0;
        h1 = this.fetchHalf(l2, (hi + (l2 >>> 0 < lo >>> 0 ? 1 : 0)) | 0);
      }
      decode(h0, h1, this.scratch, 0);
      this.fBlk = this.scratch;
      this.fBase = pc;
      this.fLim = 1;
      return;
    }
    // the execute TLB maps a code page straight to its RAM offset (filled only for plain, uniformly allowed RAM)
    const vpn = lo >>> 12,
      ti = vpn & (TLB_SIZE - 1);
    let o: number, plainRam: boolean;
    if (this.xTag[ti] === vpn && this.xHi[ti] === hi) {
      o = this.xOff[ti]! + po;
      plainRam = true;
    } else {
      o = this.translate(lo, hi, ACC_X, this.priv) - this.ramBase;
      plainRam = o >= 0 && o < this.ramLen && !this.bus.ioPage[Math.floor(o / 4096)] && this.cacheable;
      if (plainRam) {
        this.xTag[ti] = vpn;
        this.xHi[ti] = hi;
        this.xOff[ti] = o - po;
      }
    }
    if (plainRam) {
      const page = Math.floor(o / 4096);
      let blk = this.blocks[page];
      if (!blk) {
        blk = new Int32Array(BLOCK_WORDS);
        this.blocks[page] = blk;
      }
      this.codeMark[page] = 1;
      this.fBlk = blk;
      this.fBase = pc - po;
      this.fLim = 4094;
      this.fRam = o - po;
      return;
    }
    // device memory (or a page PMP splits): decode just this instruction, uncached
    const h0 = this.fetchHalf(lo, hi);
    const h1 = (h0 & 3) === 3 ? this.fetchHalf((lo + 2) | 0, hi) : 0;
    decode(h0, h1, this.scratch, 0);
    this.fBlk = this.scratch;
    this.fBase = pc;
    this.fLim = 1;
  }

  // =====================================================================================================
  // The interpreter
  // =====================================================================================================

  private illegal(): never {
    return this.raise(Cause.Illegal, 0, 0);
  }

  private rm(w2: number): number {
    let rm = (w2 >>> 8) & 7;
    if (rm === 7) rm = this.fpu.frm;
    if (rm > 4) this.illegal();
    return rm === 0 ? RNE : rm === 1 ? RTZ : rm === 2 ? RDN : rm === 3 ? RUP : RMM;
  }

  /** Execute up to max instructions; returns how many retired. */
  private exec(max: number): number {
    const x = this.x;
    const fpu = this.fpu;
    const FI = fpu.I;
    let pc = this.pc;
    let n = 0;
    this.sliceN = 0;
    this.limit = max;
    const bpOn = this.bps.size > 0;
    // The fetch window lives in locals; everything that moves it (fetchPage, TLB flushes, traps) either reloads
    // them here or ends the inner loop (limit = 0) first.
    let base = this.fBase,
      lim = this.fLim,
      blk = this.fBlk;
    const jitOn = this.jitEnabled && !bpOn && this.watches.length === 0;
    const jitGen = this.jitGen;
    let jp: Array<Block | undefined> | undefined,
      jh: Uint32Array | undefined,
      jpage = -1;
    let jb: Block | undefined,
      jpc0 = 0;
    if (jitOn && lim === 4094) {
      jpage = this.fRam >>> 12;
      jp = this.jitPage(jpage);
      jh = this.jitHeat[jpage];
    }
    for (;;) {
      try {
        while (n < this.limit) {
          let off = pc - base;
          if (!(off >= 0 && off < lim)) {
            this.pc = pc;
            this.fetchFaulted = true; // until fetchPage returns: a trap from here is not the instruction's
            this.fetchPage();
            this.fetchFaulted = false;
            base = this.fBase;
            lim = this.fLim;
            blk = this.fBlk;
            off = pc - base;
            if (jitOn && lim === 4094) {
              jpage = this.fRam >>> 12;
              jp = this.jitPage(jpage);
              jh = this.jitHeat[jpage];
            } else jp = undefined;
          }
          if (bpOn) {
            if (this.bps.has(pc) && !this.bpSkip) {
              this.stopReason = Stop.Breakpoint;
              break;
            }
            this.bpSkip = false;
          }
          if (jp !== undefined) {
            const slot = off >> 1;
            let bk = jp[slot];
            if (bk === undefined || bk.gen !== jitGen[jpage]) {
              bk = undefined;
              if (++jh![slot]! >= this.jitThreshold) {
                jh![slot] = 0;
                bk = this.jitCompile(blk, slot, jpage);
                jp[slot] = bk;
              }
            }
            if (bk !== undefined && bk.len > 0 && n + bk.len <= this.limit) {
              jb = bk;
              jpc0 = pc;
              this.jitRan = bk.len;
              pc = bk.run(x, pc, n);
              jb = undefined;
              n += this.jitRan;
              continue;
            }
          }
          const si = off << 1;
          let w0 = blk[si]!;
          if (w0 === 0) {
            const o = this.fRam + off;
            decode(this.dv.getUint16(o, true), this.dv.getUint16(o + 2, true), blk, si);
            w0 = blk[si]!;
          }
          const imm = blk[si + 1]!;
          const w2 = blk[si + 2]!;
          const d = (w0 >>> 8) & 0xff,
            a = (w0 >>> 16) & 0xff,
            b = w0 >>> 24;
          let next = pc + (w2 >>> 12);
          n++;
          switch (w0 & 0xff) {
            case 23 /* ADDI */: {
              const al = x[a]!,
                lo = (al + imm) | 0;
              x[d + 1] = (x[a + 1]! + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
              x[d] = lo;
              break;
            }
            case 32 /* ADD */: {
              const al = x[a]!,
                lo = (al + x[b]!) | 0;
              x[d + 1] = (x[a + 1]! + x[b + 1]! + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
              x[d] = lo;
              break;
            }
            case 2 /* LUI */:
              x[d] = imm;
              x[d + 1] = imm >> 31;
              break;
            case 3 /* AUIPC */: {
              const v = pc + imm,
                h = Math.floor(v / TWO32);
              x[d] = (v - h * TWO32) | 0;
              x[d + 1] = h | 0;
              break;
            }
            case 4 /* JAL */: {
              const h = Math.floor(next / TWO32);
              x[d] = (next - h * TWO32) | 0;
              x[d + 1] = h | 0;
              next = pc + imm;
              break;
            }
            case 5 /* JALR */: {
              const al = x[a]!,
                lo = (al + imm) | 0;
              const hi = (x[a + 1]! + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
              const h = Math.floor(next / TWO32);
              x[d] = (next - h * TWO32) | 0;
              x[d + 1] = h | 0;
              next = hi * TWO32 + ((lo & ~1) >>> 0);
              break;
            }
            case 6 /* BEQ */:
              if (x[a] === x[b] && x[a + 1] === x[b + 1]) next = pc + imm;
              break;
            case 7 /* BNE */:
              if (x[a] !== x[b] || x[a + 1] !== x[b + 1]) next = pc + imm;
              break;
            case 8 /* BLT */: {
              const ah = x[a + 1]!,
                bh = x[b + 1]!;
              if (ah < bh || (ah === bh && x[a]! >>> 0 < x[b]! >>> 0)) next = pc + imm;
              break;
            }
            case 9 /* BGE */: {
              const ah = x[a + 1]!,
                bh = x[b + 1]!;
              if (!(ah < bh || (ah === bh && x[a]! >>> 0 < x[b]! >>> 0))) next = pc + imm;
              break;
            }
            case 10 /* BLTU */: {
              const ah = x[a + 1]! >>> 0,
                bh = x[b + 1]! >>> 0;
              if (ah < bh || (ah === bh && x[a]! >>> 0 < x[b]! >>> 0)) next = pc + imm;
              break;
            }
            case 11 /* BGEU */: {
              const ah = x[a + 1]! >>> 0,
                bh = x[b + 1]! >>> 0;
              if (!(ah < bh || (ah === bh && x[a]! >>> 0 < x[b]! >>> 0))) next = pc + imm;
              break;
            }
            case 12 /* LB */:
            case 13 /* LH */:
            case 14 /* LW */:
            case 15 /* LD */:
            case 16 /* LBU */:
            case 17 /* LHU */:
            case 18 /* LWU */: {
              const al = x[a]!,
                lo = (al + imm) | 0;
              const hi = (x[a + 1]! + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
              const op = w0 & 0xff;
              this.sliceN = n; // a device access sees the exact instruction count (retired())
              let v: number;
              switch (op) {
                case 14 /* LW */:
                  v = this.load(lo, hi, 4);
                  x[d] = v;
                  x[d + 1] = v >> 31;
                  break;
                case 15 /* LD */:
                  v = this.load(lo, hi, 8);
                  x[d] = v;
                  x[d + 1] = this.rhi;
                  break;
                case 16 /* LBU */:
                  x[d] = this.load(lo, hi, 1);
                  x[d + 1] = 0;
                  break;
                case 12 /* LB */:
                  v = (this.load(lo, hi, 1) << 24) >> 24;
                  x[d] = v;
                  x[d + 1] = v >> 31;
                  break;
                case 17 /* LHU */:
                  x[d] = this.load(lo, hi, 2);
                  x[d + 1] = 0;
                  break;
                case 13 /* LH */:
                  v = (this.load(lo, hi, 2) << 16) >> 16;
                  x[d] = v;
                  x[d + 1] = v >> 31;
                  break;
                default:
                  x[d] = this.load(lo, hi, 4);
                  x[d + 1] = 0;
                  break;
              }
              break;
            }
            case 19 /* SB */:
            case 20 /* SH */:
            case 21 /* SW */:
            case 22 /* SD */: {
              const al = x[a]!,
                lo = (al + imm) | 0;
              const hi = (x[a + 1]! + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
              const op = w0 & 0xff;
              this.sliceN = n;
              this.store(
                lo,
                hi,
                op === 21 /* SW */ ? 4 : op === 22 /* SD */ ? 8 : op === 19 /* SB */ ? 1 : 2,
                x[b]!,
                x[b + 1]!,
              );
              break;
            }
            case 24 /* SLTI */: {
              const ah = x[a + 1]!,
                bh = imm >> 31;
              x[d] = ah < bh || (ah === bh && x[a]! >>> 0 < imm >>> 0) ? 1 : 0;
              x[d + 1] = 0;
              break;
            }
            case 25 /* SLTIU */: {
              const ah = x[a + 1]! >>> 0,
                bh = (imm >> 31) >>> 0;
              x[d] = ah < bh || (ah === bh && x[a]! >>> 0 < imm >>> 0) ? 1 : 0;
              x[d + 1] = 0;
              break;
            }
            case 26 /* XORI */:
              x[d] = x[a]! ^ imm;
              x[d + 1] = x[a + 1]! ^ (imm >> 31);
              break;
            case 27 /* ORI */:
              x[d] = x[a]! | imm;
              x[d + 1] = x[a + 1]! | (imm >> 31);
              break;
            case 28 /* ANDI */:
              x[d] = x[a]! & imm;
              x[d + 1] = x[a + 1]! & (imm >> 31);
              break;
            case 29 /* SLLI */:
              shl(x, d, x[a]!, x[a + 1]!, imm);
              break;
            case 30 /* SRLI */:
              shr(x, d, x[a]!, x[a + 1]!, imm, false);
              break;
            case 31 /* SRAI */:
              shr(x, d, x[a]!, x[a + 1]!, imm, true);
              break;
            case 33 /* SUB */: {
              const al = x[a]!,
                bl = x[b]!;
              x[d + 1] = (x[a + 1]! - x[b + 1]! - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
              x[d] = (al - bl) | 0;
              break;
            }
            case 34 /* SLL */:
              shl(x, d, x[a]!, x[a + 1]!, x[b]! & 63);
              break;
            case 38 /* SRL */:
              shr(x, d, x[a]!, x[a + 1]!, x[b]! & 63, false);
              break;
            case 39 /* SRA */:
              shr(x, d, x[a]!, x[a + 1]!, x[b]! & 63, true);
              break;
            case 35 /* SLT */: {
              const ah = x[a + 1]!,
                bh = x[b + 1]!;
              x[d] = ah < bh || (ah === bh && x[a]! >>> 0 < x[b]! >>> 0) ? 1 : 0;
              x[d + 1] = 0;
              break;
            }
            case 36 /* SLTU */: {
              const ah = x[a + 1]! >>> 0,
                bh = x[b + 1]! >>> 0;
              x[d] = ah < bh || (ah === bh && x[a]! >>> 0 < x[b]! >>> 0) ? 1 : 0;
              x[d + 1] = 0;
              break;
            }
            case 37 /* XOR */:
              x[d] = x[a]! ^ x[b]!;
              x[d + 1] = x[a + 1]! ^ x[b + 1]!;
              break;
            case 40 /* OR */:
              x[d] = x[a]! | x[b]!;
              x[d + 1] = x[a + 1]! | x[b + 1]!;
              break;
            case 41 /* AND */:
              x[d] = x[a]! & x[b]!;
              x[d + 1] = x[a + 1]! & x[b + 1]!;
              break;
            case 42 /* ADDIW */: {
              const v = (x[a]! + imm) | 0;
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 43 /* SLLIW */: {
              const v = x[a]! << imm;
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 44 /* SRLIW */: {
              const v = (x[a]! >>> imm) | 0;
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 45 /* SRAIW */: {
              const v = x[a]! >> imm;
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 46 /* ADDW */: {
              const v = (x[a]! + x[b]!) | 0;
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 47 /* SUBW */: {
              const v = (x[a]! - x[b]!) | 0;
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 48 /* SLLW */: {
              const v = x[a]! << (x[b]! & 31);
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 49 /* SRLW */: {
              const v = (x[a]! >>> (x[b]! & 31)) | 0;
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 50 /* SRAW */: {
              const v = x[a]! >> (x[b]! & 31);
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 51 /* MUL */:
              mul64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 52 /* MULH */:
              mulh64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!, false);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 53 /* MULHSU */:
              mulh64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!, true);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 54 /* MULHU */:
              mulhu64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 55 /* DIV */:
              div64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!, true, false);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 56 /* DIVU */:
              div64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!, false, false);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 57 /* REM */:
              div64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!, true, true);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 58 /* REMU */:
              div64(x[a]!, x[a + 1]!, x[b]!, x[b + 1]!, false, true);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 59 /* MULW */: {
              const v = Math.imul(x[a]!, x[b]!);
              x[d] = v;
              x[d + 1] = v >> 31;
              break;
            }
            case 60 /* DIVW */:
              div32(x[a]!, x[b]!, true, false);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 61 /* DIVUW */:
              div32(x[a]!, x[b]!, false, false);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 62 /* REMW */:
              div32(x[a]!, x[b]!, true, true);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 63 /* REMUW */:
              div32(x[a]!, x[b]!, false, true);
              x[d] = R[0]!;
              x[d + 1] = R[1]!;
              break;
            case 64 /* FENCE */:
              break;
            case 65 /* FENCE_I */:
            case 66 /* ECALL */:
            case 67 /* EBREAK */:
            case 68 /* MRET */:
            case 69 /* SRET */:
            case 70 /* WFI */:
            case 71 /* SFENCE_VMA */:
            case 72 /* CSRRW */:
            case 73 /* CSRRS */:
            case 74 /* CSRRC */:
            case 75 /* CSRRWI */:
            case 76 /* CSRRSI */:
            case 77 /* CSRRCI */:
            case 78 /* LR_W */:
            case 79 /* SC_W */:
            case 80 /* AMOSWAP_W */:
            case 81 /* AMOADD_W */:
            case 82 /* AMOXOR_W */:
            case 83 /* AMOAND_W */:
            case 84 /* AMOOR_W */:
            case 85 /* AMOMIN_W */:
            case 86 /* AMOMAX_W */:
            case 87 /* AMOMINU_W */:
            case 88 /* AMOMAXU_W */:
            case 89 /* LR_D */:
            case 90 /* SC_D */:
            case 91 /* AMOSWAP_D */:
            case 92 /* AMOADD_D */:
            case 93 /* AMOXOR_D */:
            case 94 /* AMOAND_D */:
            case 95 /* AMOOR_D */:
            case 96 /* AMOMIN_D */:
            case 97 /* AMOMAX_D */:
            case 98 /* AMOMINU_D */:
            case 99 /* AMOMAXU_D */:
              this.sliceN = n;
              next = this.execSystem(w0 & 0xff, d, a, b, imm, pc, next);
              break;
            // ---------------- floating point ----------------
            default: {
              if ((this.mstatus & MS_FS) === 0 || (w0 & 0xff) < 100 /* FLW */) {
                if ((w0 & 0xff) === 1 /* ILLEGAL */) this.raise(Cause.Illegal, imm, 0);
                this.illegal();
              }
              this.sliceN = n;
              this.execFp(w0 & 0xff, d, a, b, imm, w2, FI);
              break;
            }
          }
          pc = next;
        }
        this.pc = pc;
        this.instret += n;
        this.sliceN = 0;
        return n;
      } catch (e) {
        if (e !== TRAP) throw e;
        if (jb !== undefined) {
          // a slow-path memory access inside a compiled block trapped
          pc = jpc0 + jb.offsets[this.jitK]!;
          n += this.jitK;
          this.sliceN = n;
          jb = undefined;
        } else if (this.fetchFaulted) this.fetchFaulted = false;
        else {
          n--;
          this.sliceN = n;
        }
        this.pc = pc;
        this.enterTrap(this.trapCause, false, this.trapLo, this.trapHi);
        pc = this.pc;
        base = this.fBase;
        lim = this.fLim;
        blk = this.fBlk;
        jp = undefined; // re-established on the next fetch-window load
        this.limit = 0; // let run() look at interrupts and stop requests
      }
    }
  }

  private jitPage(page: number): Array<Block | undefined> {
    let jp = this.jitPages[page];
    if (!jp) {
      jp = new Array<Block | undefined>(2048);
      this.jitPages[page] = jp;
      this.jitHeat[page] = new Uint32Array(2048);
    }
    return jp;
  }

  /** Compile the block at `slot` of RAM page `page`; a block with len 0 marks "not compilable" until the page changes. */
  private jitCompile(blk: Int32Array, slot: number, page: number): Block {
    const env = (this.jitEnv ??= {
      dv: this.dv,
      ram: this.ram,
      rTag: this.rTag,
      rHi: this.rHi,
      rOff: this.rOff,
      wTag: this.wTag,
      wHi: this.wHi,
      wOff: this.wOff,
      codeMark: this.codeMark,
      helpers: { cpu: this, R, mul64, mulh64, mulhu64, div64, div32, shl, shr },
    });
    if (++this.jitCount > JIT_MAX_BLOCKS) {
      this.jitCount = 1;
      for (let p = 0; p < this.jitPages.length; p++) if (this.jitPages[p]) this.jitPages[p]!.fill(undefined);
    }
    const pageOff = page * 4096;
    const gen = this.jitGen[page]!;
    const decodeAt = (off: number) =>
      decode(this.dv.getUint16(pageOff + off, true), this.dv.getUint16(pageOff + off + 2, true), blk, off << 1);
    const t0 = performance.now();
    const block = compileBlock(blk, slot, decodeAt, env, gen);
    this.jitStats.compileMs += performance.now() - t0;
    this.jitStats.blocks++;
    return block ?? { run: () => 0, len: 0, offsets: new Int32Array(0), gen };
  }

  /** Rare instructions (fences, environment calls, xRET, WFI, SFENCE.VMA, CSRs, LR/SC, AMOs): kept out of exec() so
   *  the hot loop stays small enough to compile quickly and well. Returns the next pc. */
  private execSystem(op: number, d: number, a: number, b: number, imm: number, pc: number, next: number): number {
    const x = this.x;
    const w0 = op;
    switch (op) {
      case 65 /* FENCE_I */:
        this.flushDecodeCache();
        this.limit = 0;
        break;
      case 66 /* ECALL */:
        this.raise(Cause.EcallU + this.priv, 0, 0);
        break;
      case 67 /* EBREAK */:
        this.raiseAt(Cause.Breakpoint, pc);
        break;
      case 68 /* MRET */: {
        if (this.priv < 3) this.illegal();
        let ms = this.mstatus;
        const mpp = (ms & MS_MPP) >>> 11;
        ms = (ms & ~(MS_MIE | MS_MPP)) | (ms & MS_MPIE ? MS_MIE : 0) | MS_MPIE;
        if (mpp !== 3) ms &= ~MS_MPRV;
        this.writeMstatus(ms);
        this.resAddr = -1;
        next = this.csrs[CSR.mepc * 2 + 1]! * TWO32 + (this.csrs[CSR.mepc * 2]! >>> 0);
        this.setPriv(mpp);
        this.limit = 0;
        break;
      }
      case 69 /* SRET */: {
        if (this.priv < 1 || (this.priv === 1 && this.mstatus & MS_TSR)) this.illegal();
        let ms = this.mstatus;
        const spp = ms & MS_SPP ? 1 : 0;
        ms = (ms & ~(MS_SIE | MS_SPP | MS_MPRV)) | (ms & MS_SPIE ? MS_SIE : 0) | MS_SPIE;
        this.writeMstatus(ms);
        this.resAddr = -1;
        next = this.csrs[CSR.sepc * 2 + 1]! * TWO32 + (this.csrs[CSR.sepc * 2]! >>> 0);
        this.setPriv(spp);
        this.limit = 0;
        break;
      }
      case 70 /* WFI */:
        if (this.priv === 0 || (this.priv === 1 && this.mstatus & MS_TW)) this.illegal();
        if ((this.mip() & this.mie) === 0) this.wfi = true;
        this.limit = 0;
        break;
      case 71 /* SFENCE_VMA */:
        if (this.priv === 0 || (this.priv === 1 && this.mstatus & MS_TVM)) this.illegal();
        this.flushTlb();
        this.limit = 0;
        break;
      case 72 /* CSRRW */:
      case 73 /* CSRRS */:
      case 74 /* CSRRC */:
      case 75 /* CSRRWI */:
      case 76 /* CSRRSI */:
      case 77 /* CSRRCI */: {
        const op = w0 & 0xff;
        const csr = imm & 0xfff;
        const imm5 = a >> 1;
        const isImm = op >= 75; /* CSRRWI */
        const kind = isImm ? op - 75 /* CSRRWI */ : op - 72; /* CSRRW */ // 0 rw, 1 rs, 2 rc
        const writes = kind === 0 || imm5 !== 0;
        if (this.priv < ((csr >>> 8) & 3)) this.illegal();
        if (writes && csr >>> 10 === 3) this.illegal();
        const out = this.csrOut;
        if (!csrRead(this, csr, out)) this.illegal();
        const oldLo = out[0]!,
          oldHi = out[1]!;
        if (writes) {
          const sl = isImm ? imm5 : x[a]!,
            sh = isImm ? 0 : x[a + 1]!;
          // mip's read-modify-write sees only the software-writable SEIP, not the PLIC's line (privileged spec 3.1.9)
          const base = csr === CSR_MIP ? (oldLo & ~MIP_SEIP_BIT) | (this.mipSw & MIP_SEIP_BIT) : oldLo;
          const nl = kind === 0 ? sl : kind === 1 ? base | sl : base & ~sl;
          const nh = kind === 0 ? sh : kind === 1 ? oldHi | sh : oldHi & ~sh;
          if (!csrWrite(this, csr, nl, nh)) this.illegal();
        }
        x[d] = oldLo;
        x[d + 1] = oldHi;
        if (writes) this.limit = 0; // a write may enable an interrupt or change translation: re-enter run()
        break;
      }
      case 78 /* LR_W */:
      case 89 /* LR_D */: {
        const size = (w0 & 0xff) === 78 /* LR_W */ ? 4 : 8;
        const o = this.amoAddr(x[a]!, x[a + 1]!, size, true);
        const v = this.dv.getInt32(o, true);
        x[d + 1] = size === 4 ? v >> 31 : this.dv.getInt32(o + 4, true);
        x[d] = v;
        this.resAddr = o + this.ramBase;
        break;
      }
      case 79 /* SC_W */:
      case 90 /* SC_D */: {
        const size = (w0 & 0xff) === 79 /* SC_W */ ? 4 : 8;
        const o = this.amoAddr(x[a]!, x[a + 1]!, size, false);
        if (this.resAddr === o + this.ramBase) {
          this.dv.setInt32(o, x[b]!, true);
          if (size === 8) this.dv.setInt32(o + 4, x[b + 1]!, true);
          if (this.codeMark[o >>> 12]) this.invalidateCode(o, size);
          x[d] = 0;
        } else x[d] = 1;
        x[d + 1] = 0;
        this.resAddr = -1;
        break;
      }
      case 80 /* AMOSWAP_W */:
      case 81 /* AMOADD_W */:
      case 82 /* AMOXOR_W */:
      case 83 /* AMOAND_W */:
      case 84 /* AMOOR_W */:
      case 85 /* AMOMIN_W */:
      case 86 /* AMOMAX_W */:
      case 87 /* AMOMINU_W */:
      case 88 /* AMOMAXU_W */: {
        const o = this.amoAddr(x[a]!, x[a + 1]!, 4, false);
        const old = this.dv.getInt32(o, true),
          s = x[b]!;
        let v: number;
        switch (w0 & 0xff) {
          case 80 /* AMOSWAP_W */:
            v = s;
            break;
          case 81 /* AMOADD_W */:
            v = (old + s) | 0;
            break;
          case 82 /* AMOXOR_W */:
            v = old ^ s;
            break;
          case 83 /* AMOAND_W */:
            v = old & s;
            break;
          case 84 /* AMOOR_W */:
            v = old | s;
            break;
          case 85 /* AMOMIN_W */:
            v = old < s ? old : s;
            break;
          case 86 /* AMOMAX_W */:
            v = old > s ? old : s;
            break;
          case 87 /* AMOMINU_W */:
            v = old >>> 0 < s >>> 0 ? old : s;
            break;
          default:
            v = old >>> 0 > s >>> 0 ? old : s;
            break;
        }
        this.dv.setInt32(o, v, true);
        if (this.codeMark[o >>> 12]) this.invalidateCode(o, 4);
        x[d] = old;
        x[d + 1] = old >> 31;
        break;
      }
      case 91 /* AMOSWAP_D */:
      case 92 /* AMOADD_D */:
      case 93 /* AMOXOR_D */:
      case 94 /* AMOAND_D */:
      case 95 /* AMOOR_D */:
      case 96 /* AMOMIN_D */:
      case 97 /* AMOMAX_D */:
      case 98 /* AMOMINU_D */:
      case 99 /* AMOMAXU_D */: {
        const o = this.amoAddr(x[a]!, x[a + 1]!, 8, false);
        const ol = this.dv.getInt32(o, true),
          oh = this.dv.getInt32(o + 4, true);
        const sl = x[b]!,
          sh = x[b + 1]!;
        let vl: number, vh: number;
        const op = w0 & 0xff;
        if (op === 91 /* AMOSWAP_D */) {
          vl = sl;
          vh = sh;
        } else if (op === 92 /* AMOADD_D */) {
          vl = (ol + sl) | 0;
          vh = (oh + sh + (vl >>> 0 < ol >>> 0 ? 1 : 0)) | 0;
        } else if (op === 93 /* AMOXOR_D */) {
          vl = ol ^ sl;
          vh = oh ^ sh;
        } else if (op === 94 /* AMOAND_D */) {
          vl = ol & sl;
          vh = oh & sh;
        } else if (op === 95 /* AMOOR_D */) {
          vl = ol | sl;
          vh = oh | sh;
        } else {
          const signed = op === 96 /* AMOMIN_D */ || op === 97; /* AMOMAX_D */
          const oH = signed ? oh : oh >>> 0,
            sH = signed ? sh : sh >>> 0;
          const less = oH < sH || (oH === sH && ol >>> 0 < sl >>> 0);
          const takeOld = op === 96 /* AMOMIN_D */ || op === 98 /* AMOMINU_D */ ? less : !less;
          if (takeOld) {
            vl = ol;
            vh = oh;
          } else {
            vl = sl;
            vh = sh;
          }
        }
        this.dv.setInt32(o, vl, true);
        this.dv.setInt32(o + 4, vh, true);
        if (this.codeMark[o >>> 12]) this.invalidateCode(o, 8);
        x[d] = ol;
        x[d + 1] = oh;
        break;
      }
    }
    return next;
  }

  /** An FP instruction inside a compiled block (same checks as the interpreter's default case). */
  fpFromBlock(op: number, d: number, a: number, b: number, imm: number, w2: number): void {
    if ((this.mstatus & MS_FS) === 0) this.illegal();
    this.execFp(op, d, a, b, imm, w2, this.fpu.I);
  }

  private execFp(op: number, d: number, a: number, b: number, imm: number, w2: number, FI: Int32Array): void {
    const x = this.x;
    const fpu = this.fpu;
    const st = this.mstatus;
    this.mstatus = st | MS_FS; // any FP instruction may dirty the state (conservative, as allowed)
    switch (op) {
      case 100 /* FLW */:
      case 101 /* FLD */: {
        const al = x[a]!,
          lo = (al + imm) | 0;
        const hi = (x[a + 1]! + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
        if (op === 100 /* FLW */) {
          FI[d] = this.load(lo, hi, 4);
          FI[d + 1] = -1;
        } else {
          const v = this.load(lo, hi, 8);
          FI[d] = v;
          FI[d + 1] = this.rhi;
        }
        return;
      }
      case 102 /* FSW */:
      case 103 /* FSD */: {
        const al = x[a]!,
          lo = (al + imm) | 0;
        const hi = (x[a + 1]! + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
        this.mstatus = st;
        if (op === 102 /* FSW */) this.store(lo, hi, 4, FI[b]!, 0);
        else this.store(lo, hi, 8, FI[b]!, FI[b + 1]!);
        return;
      }
      case 104 /* FMADD_S */:
      case 105 /* FMSUB_S */:
      case 106 /* FNMSUB_S */:
      case 107 /* FNMADD_S */:
        fpu.fma(d, a, b, w2 & 0xff, this.rm(w2), op - 104 /* FMADD_S */, false);
        return;
      case 108 /* FMADD_D */:
      case 109 /* FMSUB_D */:
      case 110 /* FNMSUB_D */:
      case 111 /* FNMADD_D */:
        fpu.fma(d, a, b, w2 & 0xff, this.rm(w2), op - 108 /* FMADD_D */, true);
        return;
      case 112 /* FADD_S */:
        fpu.addS(d, a, b, this.rm(w2), false);
        return;
      case 113 /* FSUB_S */:
        fpu.addS(d, a, b, this.rm(w2), true);
        return;
      case 114 /* FMUL_S */:
        fpu.mulS(d, a, b, this.rm(w2));
        return;
      case 115 /* FDIV_S */:
        fpu.divS(d, a, b, this.rm(w2));
        return;
      case 116 /* FSQRT_S */:
        fpu.sqrtS(d, a, this.rm(w2));
        return;
      case 117 /* FADD_D */:
        fpu.addD(d, a, b, this.rm(w2), false);
        return;
      case 118 /* FSUB_D */:
        fpu.addD(d, a, b, this.rm(w2), true);
        return;
      case 119 /* FMUL_D */:
        fpu.mulD(d, a, b, this.rm(w2));
        return;
      case 120 /* FDIV_D */:
        fpu.divD(d, a, b, this.rm(w2));
        return;
      case 121 /* FSQRT_D */:
        fpu.sqrtD(d, a, this.rm(w2));
        return;
      case 122 /* FSGNJ_S */:
      case 123 /* FSGNJN_S */:
      case 124 /* FSGNJX_S */:
        fpu.sgnj(d, a, b, op - 122 /* FSGNJ_S */, false);
        return;
      case 125 /* FSGNJ_D */:
      case 126 /* FSGNJN_D */:
      case 127 /* FSGNJX_D */:
        fpu.sgnj(d, a, b, op - 125 /* FSGNJ_D */, true);
        return;
      case 128 /* FMIN_S */:
      case 129 /* FMAX_S */:
        fpu.minmax(d, a, b, op === 129 /* FMAX_S */, false);
        return;
      case 130 /* FMIN_D */:
      case 131 /* FMAX_D */:
        fpu.minmax(d, a, b, op === 131 /* FMAX_D */, true);
        return;
      case 132 /* FCVT_S_D */:
        fpu.cvtSD(d, a, this.rm(w2));
        return;
      case 133 /* FCVT_D_S */:
        this.rm(w2);
        fpu.cvtDS(d, a);
        return;
      case 134 /* FEQ_S */:
      case 135 /* FLT_S */:
      case 136 /* FLE_S */:
        x[d] = fpu.compare(a, b, op - 134 /* FEQ_S */, false);
        x[d + 1] = 0;
        return;
      case 137 /* FEQ_D */:
      case 138 /* FLT_D */:
      case 139 /* FLE_D */:
        x[d] = fpu.compare(a, b, op - 137 /* FEQ_D */, true);
        x[d + 1] = 0;
        return;
      case 140 /* FCVT_W_S */:
      case 141 /* FCVT_WU_S */:
      case 142 /* FCVT_L_S */:
      case 143 /* FCVT_LU_S */:
      case 144 /* FCVT_W_D */:
      case 145 /* FCVT_WU_D */:
      case 146 /* FCVT_L_D */:
      case 147 /* FCVT_LU_D */: {
        const dbl = op >= 144; /* FCVT_W_D */
        fpu.cvtToInt(a, dbl, op - (dbl ? 144 /* FCVT_W_D */ : 140) /* FCVT_W_S */, this.rm(w2), this.cvtOut);
        x[d] = this.cvtOut[0]!;
        x[d + 1] = this.cvtOut[1]!;
        return;
      }
      case 148 /* FCVT_S_W */:
      case 149 /* FCVT_S_WU */:
      case 150 /* FCVT_S_L */:
      case 151 /* FCVT_S_LU */:
      case 152 /* FCVT_D_W */:
      case 153 /* FCVT_D_WU */:
      case 154 /* FCVT_D_L */:
      case 155 /* FCVT_D_LU */: {
        const dbl = op >= 152; /* FCVT_D_W */
        fpu.cvtFromInt(d, x[a]!, x[a + 1]!, op - (dbl ? 152 /* FCVT_D_W */ : 148) /* FCVT_S_W */, dbl, this.rm(w2));
        return;
      }
      case 156 /* FMV_X_W */:
        this.mstatus = st;
        {
          const v = FI[a]!;
          x[d] = v;
          x[d + 1] = v >> 31;
        }
        return;
      case 158 /* FMV_X_D */:
        this.mstatus = st;
        x[d] = FI[a]!;
        x[d + 1] = FI[a + 1]!;
        return;
      case 157 /* FCLASS_S */:
        this.mstatus = st;
        x[d] = fpu.classify(a, false);
        x[d + 1] = 0;
        return;
      case 159 /* FCLASS_D */:
        this.mstatus = st;
        x[d] = fpu.classify(a, true);
        x[d + 1] = 0;
        return;
      case 160 /* FMV_W_X */:
        FI[d] = x[a]!;
        FI[d + 1] = -1;
        return;
      case 161 /* FMV_D_X */:
        FI[d] = x[a]!;
        FI[d + 1] = x[a + 1]!;
        return;
    }
    this.mstatus = st;
    this.illegal();
  }
}

function shl(x: Int32Array, d: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[d] = lo;
    x[d + 1] = hi;
  } else if (s < 32) {
    x[d + 1] = (hi << s) | (lo >>> (32 - s));
    x[d] = lo << s;
  } else {
    x[d + 1] = lo << (s - 32);
    x[d] = 0;
  }
}

function shr(x: Int32Array, d: number, lo: number, hi: number, s: number, arith: boolean): void {
  if (s === 0) {
    x[d] = lo;
    x[d + 1] = hi;
  } else if (s < 32) {
    x[d] = (lo >>> s) | (hi << (32 - s));
    x[d + 1] = arith ? hi >> s : (hi >>> s) | 0;
  } else {
    x[d] = arith ? hi >> (s - 32) : (hi >>> (s - 32)) | 0;
    x[d + 1] = arith ? hi >> 31 : 0;
  }
}
