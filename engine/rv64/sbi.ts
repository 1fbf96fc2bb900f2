// kwb's built-in SBI firmware: the Supervisor Binary Interface (v1.0) implemented by the host, so a kernel Image
// boots directly in S-mode with no M-mode code in the guest (as semu and TinyEMU do). The CPU offers every trap that
// would enter M-mode to firmware(); S-mode ecalls are answered here, in registers, and execution goes on after the
// ecall. Everything else the kernel can handle itself is delegated to S-mode.
import type { Cpu } from './cpu/cpu.js';

/** What the firmware needs from the machine around it. */
export interface SbiPlatform {
  /** Program the supervisor timer: raise STIP once mtime >= time (Infinity: never) and clear it now. */
  setTimer(time: number): void;
  /** Legacy console (earlycon=sbi). */
  putchar(byte: number): void;
  /** A byte of console input, or -1. */
  getchar(): number;
  /** System reset extension / legacy shutdown. */
  reset(kind: 'shutdown' | 'reboot'): void;
}

const EXT = {
  legacySetTimer: 0x00,
  legacyPutchar: 0x01,
  legacyGetchar: 0x02,
  legacyShutdown: 0x08,
  base: 0x10,
  time: 0x54494d45,
  ipi: 0x735049,
  rfence: 0x52464e43,
  hsm: 0x48534d,
  srst: 0x53525354,
} as const;
const SUPPORTED = new Set<number>([
  EXT.base,
  EXT.time,
  EXT.ipi,
  EXT.rfence,
  EXT.hsm,
  EXT.srst,
  EXT.legacySetTimer,
  EXT.legacyPutchar,
  EXT.legacyGetchar,
  EXT.legacyShutdown,
]);

const SUCCESS = 0;
const ERR_FAILED = -1;
const ERR_NOT_SUPPORTED = -2;
const ERR_INVALID_PARAM = -3;
const ERR_ALREADY_AVAILABLE = -6;

const SPEC_VERSION = 1 << 24; // v1.0
/** Implementation id: not one of the registered ones (0 BBL, 1 OpenSBI, ...); "kwb" in ASCII. */
const IMPL_ID = 0x6b7762;
const IMPL_VERSION = 1;

const ECALL_FROM_S = 9;
/** Exceptions the kernel handles itself: misaligned fetch, access faults, illegal instruction, breakpoint, misaligned
 *  load/store, ecall from U, page faults. (S-mode ecalls stay here: they are the SBI.) */
const DELEGATED_EXCEPTIONS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15].reduce((m, b) => m | (1 << b), 0);
/** Supervisor software, timer and external interrupts. */
const DELEGATED_INTERRUPTS = (1 << 1) | (1 << 5) | (1 << 9);
const SSIP = 1 << 1;

const A0 = 10;

export class Sbi {
  constructor(
    private readonly cpu: Cpu,
    private readonly platform: SbiPlatform,
  ) {}

  /** Take over M-mode: delegate traps and interrupts, open PMP and counters, and answer ecalls from S-mode. */
  install(): void {
    const cpu = this.cpu;
    cpu.medeleg = DELEGATED_EXCEPTIONS;
    cpu.mideleg = DELEGATED_INTERRUPTS;
    cpu.mcounteren = 7; // cycle, time, instret readable from S-mode
    cpu.writeCsr(0x3b0, (1n << 54n) - 1n); // pmpaddr0: all of memory
    cpu.writeCsr(0x3a0, 0x1fn); // pmpcfg0: NAPOT, R W X
    cpu.firmware = (cause, isInterrupt) => !isInterrupt && cause === ECALL_FROM_S && this.ecall();
  }

  /** Enter the kernel in S-mode as OpenSBI would: a0 = hart id, a1 = device tree. */
  enterSupervisor(entry: number, dtb: number): void {
    const cpu = this.cpu;
    cpu.reset(entry);
    cpu.priv = 1;
    cpu.flushTlb();
    cpu.setX(A0, 0n);
    cpu.setX(A0 + 1, BigInt(dtb));
  }

  /** An ecall from S-mode; the CPU's pc is at the ecall. */
  private ecall(): boolean {
    const cpu = this.cpu;
    const ext = this.arg(7),
      fn = this.arg(6);
    let error = SUCCESS,
      value = 0n; // legacy calls return their value in a0 only
    switch (ext) {
      case EXT.legacySetTimer:
        this.setTimer(this.arg64(0));
        break;
      case EXT.legacyPutchar:
        this.platform.putchar(this.arg(0) & 0xff);
        break;
      case EXT.legacyGetchar:
        error = this.platform.getchar();
        break;
      case EXT.legacyShutdown:
        this.platform.reset('shutdown');
        break;
      case EXT.base:
        [error, value] = this.base(fn);
        break;
      case EXT.time:
        if (fn === 0) this.setTimer(this.arg64(0));
        else error = ERR_NOT_SUPPORTED;
        break;
      case EXT.ipi:
        if (fn === 0) this.sendIpi();
        else error = ERR_NOT_SUPPORTED;
        break;
      case EXT.rfence:
        error = this.remoteFence(fn);
        break;
      case EXT.hsm:
        [error, value] = this.hartState(fn);
        break;
      case EXT.srst:
        error = this.systemReset(fn);
        break;
      default:
        error = ERR_NOT_SUPPORTED;
    }
    cpu.setX(A0, BigInt(error));
    if (ext > EXT.legacyShutdown) cpu.setX(A0 + 1, value);
    cpu.pc += 4;
    return true;
  }

  private base(fn: number): [number, bigint] {
    switch (fn) {
      case 0:
        return [SUCCESS, BigInt(SPEC_VERSION)];
      case 1:
        return [SUCCESS, BigInt(IMPL_ID)];
      case 2:
        return [SUCCESS, BigInt(IMPL_VERSION)];
      case 3:
        return [SUCCESS, SUPPORTED.has(this.arg(0)) ? 1n : 0n];
      case 4:
      case 5:
      case 6:
        return [SUCCESS, 0n]; // mvendorid, marchid, mimpid
      default:
        return [ERR_NOT_SUPPORTED, 0n];
    }
  }

  private setTimer(time: bigint): void {
    this.platform.setTimer(time >= 1n << 53n ? Infinity : Number(time));
  }

  /** One hart: an IPI to hart 0 (or to all harts) makes the supervisor software interrupt pending. */
  private sendIpi(): void {
    if (this.targetsThisHart()) this.cpu.mipSw |= SSIP;
  }

  private remoteFence(fn: number): number {
    if (fn > 6) return ERR_NOT_SUPPORTED;
    if (!this.targetsThisHart()) return SUCCESS;
    if (fn === 0)
      this.cpu.flushDecodeCache(); // remote fence.i
    else this.cpu.flushTlb(); // sfence.vma (all variants: flushing everything is always correct)
    return SUCCESS;
  }

  private hartState(fn: number): [number, bigint] {
    const hart = this.arg64(0);
    switch (fn) {
      case 0:
        return [hart === 0n ? ERR_ALREADY_AVAILABLE : ERR_INVALID_PARAM, 0n]; // hart_start
      case 1:
        return [ERR_FAILED, 0n]; // hart_stop: the only hart keeps running
      case 2:
        return hart === 0n ? [SUCCESS, 0n] : [ERR_INVALID_PARAM, 0n]; // hart_get_status: STARTED
      default:
        return [ERR_NOT_SUPPORTED, 0n];
    }
  }

  private systemReset(fn: number): number {
    if (fn !== 0) return ERR_NOT_SUPPORTED;
    const type = this.arg(0);
    if (type === 0) this.platform.reset('shutdown');
    else if (type === 1 || type === 2) this.platform.reset('reboot');
    else return ERR_INVALID_PARAM;
    return SUCCESS;
  }

  /** hart_mask in a0 with hart_mask_base in a1 (base -1: every hart). */
  private targetsThisHart(): boolean {
    const base = this.arg64(1);
    if (base === (1n << 64n) - 1n) return true;
    return base === 0n && (this.arg64(0) & 1n) === 1n;
  }

  /** Argument register a<n> as a 32-bit value (extension and function ids, small arguments). */
  private arg(n: number): number {
    return this.cpu.x[2 * (A0 + n)]! >>> 0;
  }
  private arg64(n: number): bigint {
    return this.cpu.getX(A0 + n);
  }
}
