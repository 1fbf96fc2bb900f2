// Control and status registers: numbers, WARL masks, and the read/write side effects.
// Values are (lo, hi) int32 pairs; reads return through out[0..1].
import type { Cpu } from './cpu.js';

export const CSR = {
  fflags: 0x001,
  frm: 0x002,
  fcsr: 0x003,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  satp: 0x180,
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  mtinst: 0x34a,
  mtval2: 0x34b,
  pmpcfg0: 0x3a0,
  pmpaddr0: 0x3b0,
  mcycle: 0xb00,
  minstret: 0xb02,
  tselect: 0x7a0,
  tdata1: 0x7a1,
  tdata2: 0x7a2,
  tdata3: 0x7a3,
} as const;

// mstatus bits (low word)
export const MS_SIE = 1 << 1,
  MS_MIE = 1 << 3,
  MS_SPIE = 1 << 5,
  MS_MPIE = 1 << 7,
  MS_SPP = 1 << 8;
export const MS_MPP = 3 << 11,
  MS_FS = 3 << 13,
  MS_MPRV = 1 << 17,
  MS_SUM = 1 << 18,
  MS_MXR = 1 << 19;
export const MS_TVM = 1 << 20,
  MS_TW = 1 << 21,
  MS_TSR = 1 << 22;
const MSTATUS_MASK =
  MS_SIE | MS_MIE | MS_SPIE | MS_MPIE | MS_SPP | MS_MPP | MS_FS | MS_MPRV | MS_SUM | MS_MXR | MS_TVM | MS_TW | MS_TSR;
const SSTATUS_MASK = MS_SIE | MS_SPIE | MS_SPP | MS_FS | MS_SUM | MS_MXR;
/** mstatus high word: UXL = SXL = 2 (64-bit). */
const MSTATUS_HI = 0xa;

export const MIP_SSIP = 1 << 1,
  MIP_MSIP = 1 << 3,
  MIP_STIP = 1 << 5,
  MIP_MTIP = 1 << 7,
  MIP_SEIP = 1 << 9,
  MIP_MEIP = 1 << 11;
const MIE_MASK = 0xaaa;
const MIDELEG_MASK = 0x222;
const MEDELEG_MASK = 0xb3ff;

// misa: RV64 (MXL=2), extensions A C D F I M S U
const MISA_LO = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

/** Pair-valued CSRs kept verbatim in cpu.csrs (index = number * 2). */
const PLAIN = new Set<number>([CSR.mscratch, CSR.sscratch, CSR.mtval, CSR.stval, CSR.mcause, CSR.scause]);

function setOut(out: Int32Array, lo: number, hi: number): true {
  out[0] = lo;
  out[1] = hi;
  return true;
}

function counterAllowed(c: Cpu, idx: number): boolean {
  if (c.priv < 3 && ((c.mcounteren >>> idx) & 1) === 0) return false;
  if (c.priv < 1 && ((c.scounteren >>> idx) & 1) === 0) return false;
  return true;
}

function num(out: Int32Array, v: number): true {
  const h = Math.floor(v / 4294967296);
  return setOut(out, (v - h * 4294967296) | 0, h | 0);
}

/** Read a CSR; false if it does not exist or is not accessible in the current state (illegal instruction). */
export function csrRead(c: Cpu, n: number, out: Int32Array): boolean {
  const s = c.csrs;
  if (PLAIN.has(n)) return setOut(out, s[n * 2]!, s[n * 2 + 1]!);
  switch (n) {
    case CSR.fflags:
      if (!c.fsOn()) return false;
      return setOut(out, c.fpu.flags, 0);
    case CSR.frm:
      if (!c.fsOn()) return false;
      return setOut(out, c.fpu.frm, 0);
    case CSR.fcsr:
      if (!c.fsOn()) return false;
      return setOut(out, (c.fpu.frm << 5) | c.fpu.flags, 0);
    case CSR.cycle:
    case CSR.instret:
      if (!counterAllowed(c, n - CSR.cycle)) return false;
      return num(out, c.retired());
    case CSR.time:
      if (!counterAllowed(c, 1)) return false;
      return num(out, c.timeSource());
    case CSR.mcycle:
    case CSR.minstret:
      return num(out, c.retired());
    case CSR.mstatus:
      return setOut(out, c.mstatus, MSTATUS_HI | (c.sd() ? 0x80000000 : 0) | 0);
    case CSR.sstatus:
      return setOut(out, c.mstatus & (SSTATUS_MASK | (3 << 15)), 0x2 | (c.sd() ? 0x80000000 : 0) | 0);
    case CSR.misa:
      return setOut(out, MISA_LO, 0x80000000 | 0);
    case CSR.medeleg:
      return setOut(out, c.medeleg, 0);
    case CSR.mideleg:
      return setOut(out, c.mideleg, 0);
    case CSR.mie:
      return setOut(out, c.mie, 0);
    case CSR.mip:
      return setOut(out, c.mip(), 0);
    case CSR.sie:
      return setOut(out, c.mie & c.mideleg, 0);
    case CSR.sip:
      return setOut(out, c.mip() & c.mideleg, 0);
    case CSR.mtvec:
    case CSR.stvec:
    case CSR.mepc:
    case CSR.sepc:
      return setOut(out, s[n * 2]!, s[n * 2 + 1]!);
    case CSR.satp:
      if (c.priv === 1 && c.mstatus & MS_TVM) return false;
      return setOut(out, s[n * 2]!, s[n * 2 + 1]!);
    case CSR.mcounteren:
      return setOut(out, c.mcounteren, 0);
    case CSR.scounteren:
      return setOut(out, c.scounteren, 0);
    case CSR.menvcfg:
    case CSR.senvcfg:
      return setOut(out, s[n * 2]!, 0);
    case CSR.mhartid:
      return setOut(out, c.hartId, 0);
    case CSR.mvendorid:
    case CSR.marchid:
    case CSR.mimpid:
    case CSR.mconfigptr:
    case CSR.mcountinhibit:
    case CSR.mtinst:
    case CSR.mtval2:
    case CSR.tselect:
    case CSR.tdata1:
    case CSR.tdata2:
    case CSR.tdata3:
      return setOut(out, 0, 0);
    case CSR.pmpcfg0:
    case CSR.pmpcfg0 + 2: {
      const b = (n - CSR.pmpcfg0) * 4;
      const g = c.pmp.cfg;
      return setOut(
        out,
        g[b]! | (g[b + 1]! << 8) | (g[b + 2]! << 16) | (g[b + 3]! << 24),
        g[b + 4]! | (g[b + 5]! << 8) | (g[b + 6]! << 16) | (g[b + 7]! << 24),
      );
    }
  }
  if (n >= CSR.pmpaddr0 && n < CSR.pmpaddr0 + 16)
    return setOut(out, c.pmp.addrLo[n - CSR.pmpaddr0]!, c.pmp.addrHi[n - CSR.pmpaddr0]!);
  if (n >= CSR.pmpaddr0 + 16 && n < CSR.pmpaddr0 + 64) return setOut(out, 0, 0);
  if (n >= 0xc03 && n <= 0xc1f) return counterAllowed(c, n - 0xc00) ? setOut(out, 0, 0) : false;
  if (n >= 0xb03 && n <= 0xb1f) return setOut(out, 0, 0);
  if (n >= 0x323 && n <= 0x33f) return setOut(out, 0, 0);
  return false;
}

/** Write a CSR (after a successful read). Returns false for an illegal write. */
export function csrWrite(c: Cpu, n: number, lo: number, hi: number): boolean {
  const s = c.csrs;
  if (PLAIN.has(n)) {
    s[n * 2] = lo;
    s[n * 2 + 1] = hi;
    return true;
  }
  switch (n) {
    case CSR.fflags:
      c.fpu.flags = lo & 31;
      c.setFsDirty();
      return true;
    case CSR.frm:
      c.fpu.frm = lo & 7;
      c.setFsDirty();
      return true;
    case CSR.fcsr:
      c.fpu.flags = lo & 31;
      c.fpu.frm = (lo >>> 5) & 7;
      c.setFsDirty();
      return true;
    case CSR.mstatus:
      c.writeMstatus((c.mstatus & ~MSTATUS_MASK) | (lo & MSTATUS_MASK));
      return true;
    case CSR.sstatus:
      c.writeMstatus((c.mstatus & ~SSTATUS_MASK) | (lo & SSTATUS_MASK));
      return true;
    case CSR.misa:
      return true;
    case CSR.medeleg:
      c.medeleg = lo & MEDELEG_MASK;
      return true;
    case CSR.mideleg:
      c.mideleg = lo & MIDELEG_MASK;
      return true;
    case CSR.mie:
      c.mie = lo & MIE_MASK;
      return true;
    case CSR.sie:
      c.mie = (c.mie & ~c.mideleg) | (lo & c.mideleg & MIDELEG_MASK);
      return true;
    case CSR.mip:
      c.mipSw = (c.mipSw & ~(MIP_SSIP | MIP_STIP | MIP_SEIP)) | (lo & (MIP_SSIP | MIP_STIP | MIP_SEIP));
      return true;
    case CSR.sip: {
      const m = MIP_SSIP & c.mideleg;
      c.mipSw = (c.mipSw & ~m) | (lo & m);
      return true;
    }
    case CSR.mtvec:
    case CSR.stvec:
      s[n * 2] = (lo & 3) >= 2 ? lo & ~3 : lo;
      s[n * 2 + 1] = hi;
      return true;
    case CSR.mepc:
    case CSR.sepc:
      s[n * 2] = lo & ~1;
      s[n * 2 + 1] = hi;
      return true;
    case CSR.satp: {
      if (c.priv === 1 && c.mstatus & MS_TVM) return false;
      const mode = hi >>> 28;
      if (mode !== 0 && mode !== 8 && mode !== 9) return true; // unsupported mode: the write has no effect
      s[n * 2] = lo;
      s[n * 2 + 1] = (hi & 0xf0000fff) | 0; // no ASID bits
      c.satpChanged();
      return true;
    }
    case CSR.mcounteren:
      c.mcounteren = lo;
      return true;
    case CSR.scounteren:
      c.scounteren = lo;
      return true;
    case CSR.menvcfg:
    case CSR.senvcfg:
      s[n * 2] = lo & 1;
      return true;
    case CSR.mcycle:
    case CSR.minstret:
      c.setRetired((hi >>> 0) * 4294967296 + (lo >>> 0));
      return true;
    case CSR.mcountinhibit:
    case CSR.mtinst:
    case CSR.mtval2:
    case CSR.tselect:
    case CSR.tdata1:
    case CSR.tdata2:
    case CSR.tdata3:
      return true;
    case CSR.pmpcfg0:
    case CSR.pmpcfg0 + 2: {
      const b = (n - CSR.pmpcfg0) * 4;
      for (let k = 0; k < 4; k++) c.pmp.writeCfg(b + k, (lo >>> (8 * k)) & 0xff);
      for (let k = 0; k < 4; k++) c.pmp.writeCfg(b + 4 + k, (hi >>> (8 * k)) & 0xff);
      c.flushTlb();
      return true;
    }
  }
  if (n >= CSR.pmpaddr0 && n < CSR.pmpaddr0 + 16) {
    c.pmp.writeAddr(n - CSR.pmpaddr0, lo, hi);
    c.flushTlb();
    return true;
  }
  if (n >= CSR.pmpaddr0 + 16 && n < CSR.pmpaddr0 + 64) return true;
  if (n >= 0xb03 && n <= 0xb1f) return true;
  if (n >= 0x323 && n <= 0x33f) return true;
  return false;
}
