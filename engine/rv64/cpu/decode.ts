// Instruction decoder: one 16- or 32-bit instruction -> three int32 words in a decode cache slot.
//   w0 = op | rd*2 << 8 | rs1*2 << 16 | rs2*2 << 24   (register indices pre-doubled: registers are lo/hi int32 pairs)
//   w1 = immediate (CSR number for CSR ops, the raw instruction for ILLEGAL)
//   w2 = rs3*2 | rm << 8 | length << 12
// An integer destination x0 is decoded as the scratch register 32, so the executor never tests rd == 0.
// Compressed instructions are expanded to their 32-bit equivalents here, once.
import { Op } from './ops.js';

/** Scratch integer register index (doubled) that absorbs writes to x0. */
export const XZERO_SINK = 64;

function put(
  out: Int32Array,
  i: number,
  op: number,
  rd: number,
  rs1: number,
  rs2: number,
  imm: number,
  w2: number,
): void {
  out[i] = op | (rd << 9) | (rs1 << 17) | (rs2 << 25);
  out[i + 1] = imm;
  out[i + 2] = w2;
}

/** Integer destination: doubled index, x0 -> sink. Returned pre-halved for put() (which doubles). */
function xd(rd: number): number {
  return rd === 0 ? 32 : rd;
}

function illegal(out: Int32Array, i: number, inst: number, len: number): void {
  put(out, i, Op.ILLEGAL, 0, 0, 0, inst, len << 12);
}

const LOADS = [Op.LB, Op.LH, Op.LW, Op.LD, Op.LBU, Op.LHU, Op.LWU, Op.ILLEGAL];
const STORES = [Op.SB, Op.SH, Op.SW, Op.SD];
const BRANCHES = [Op.BEQ, Op.BNE, Op.ILLEGAL, Op.ILLEGAL, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU];
const OPIMM = [Op.ADDI, Op.SLLI, Op.SLTI, Op.SLTIU, Op.XORI, Op.SRLI, Op.ORI, Op.ANDI];
const OP0 = [Op.ADD, Op.SLL, Op.SLT, Op.SLTU, Op.XOR, Op.SRL, Op.OR, Op.AND];
const OPM = [Op.MUL, Op.MULH, Op.MULHSU, Op.MULHU, Op.DIV, Op.DIVU, Op.REM, Op.REMU];
const OPMW = [Op.MULW, Op.ILLEGAL, Op.ILLEGAL, Op.ILLEGAL, Op.DIVW, Op.DIVUW, Op.REMW, Op.REMUW];
const CSROPS = [Op.ILLEGAL, Op.CSRRW, Op.CSRRS, Op.CSRRC, Op.ILLEGAL, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI];
// AMO funct5 -> op (W); D variants are +11
const AMO: Record<number, number> = {
  0x02: Op.LR_W,
  0x03: Op.SC_W,
  0x01: Op.AMOSWAP_W,
  0x00: Op.AMOADD_W,
  0x04: Op.AMOXOR_W,
  0x0c: Op.AMOAND_W,
  0x08: Op.AMOOR_W,
  0x10: Op.AMOMIN_W,
  0x14: Op.AMOMAX_W,
  0x18: Op.AMOMINU_W,
  0x1c: Op.AMOMAXU_W,
};

/** Decode a 32-bit instruction into out[i..i+2]. */
export function decode32(inst: number, out: Int32Array, i: number): void {
  const opc = inst & 0x7f;
  const rd = (inst >>> 7) & 31;
  const f3 = (inst >>> 12) & 7;
  const rs1 = (inst >>> 15) & 31;
  const rs2 = (inst >>> 20) & 31;
  const f7 = inst >>> 25;
  const immI = inst >> 20;
  const L = 4 << 12;
  switch (opc) {
    case 0x37:
      return put(out, i, Op.LUI, xd(rd), 0, 0, inst & 0xfffff000, L);
    case 0x17:
      return put(out, i, Op.AUIPC, xd(rd), 0, 0, inst & 0xfffff000, L);
    case 0x6f: {
      const imm = ((inst >> 31) << 20) | (inst & 0xff000) | (((inst >>> 20) & 1) << 11) | (((inst >>> 21) & 1023) << 1);
      return put(out, i, Op.JAL, xd(rd), 0, 0, imm, L);
    }
    case 0x67:
      if (f3 !== 0) return illegal(out, i, inst, 4);
      return put(out, i, Op.JALR, xd(rd), rs1, 0, immI, L);
    case 0x63: {
      const op = BRANCHES[f3]!;
      if (op === Op.ILLEGAL) return illegal(out, i, inst, 4);
      const imm =
        ((inst >> 31) << 12) | (((inst >>> 7) & 1) << 11) | (((inst >>> 25) & 63) << 5) | (((inst >>> 8) & 15) << 1);
      return put(out, i, op, 0, rs1, rs2, imm, L);
    }
    case 0x03: {
      const op = LOADS[f3]!;
      if (op === Op.ILLEGAL) return illegal(out, i, inst, 4);
      return put(out, i, op, xd(rd), rs1, 0, immI, L);
    }
    case 0x23: {
      if (f3 > 3) return illegal(out, i, inst, 4);
      const imm = ((inst >> 25) << 5) | ((inst >>> 7) & 31);
      return put(out, i, STORES[f3]!, 0, rs1, rs2, imm, L);
    }
    case 0x13: {
      const op = OPIMM[f3]!;
      if (f3 === 1) {
        if (inst >>> 26 !== 0) return illegal(out, i, inst, 4);
        return put(out, i, op, xd(rd), rs1, 0, (inst >>> 20) & 63, L);
      }
      if (f3 === 5) {
        const hi = inst >>> 26;
        if (hi !== 0 && hi !== 0x10) return illegal(out, i, inst, 4);
        return put(out, i, hi ? Op.SRAI : Op.SRLI, xd(rd), rs1, 0, (inst >>> 20) & 63, L);
      }
      return put(out, i, op, xd(rd), rs1, 0, immI, L);
    }
    case 0x1b: {
      if (f3 === 0) return put(out, i, Op.ADDIW, xd(rd), rs1, 0, immI, L);
      if (f3 === 1 && f7 === 0) return put(out, i, Op.SLLIW, xd(rd), rs1, 0, rs2, L);
      if (f3 === 5 && f7 === 0) return put(out, i, Op.SRLIW, xd(rd), rs1, 0, rs2, L);
      if (f3 === 5 && f7 === 0x20) return put(out, i, Op.SRAIW, xd(rd), rs1, 0, rs2, L);
      return illegal(out, i, inst, 4);
    }
    case 0x33: {
      let op: number = Op.ILLEGAL;
      if (f7 === 0) op = OP0[f3]!;
      else if (f7 === 0x20) op = f3 === 0 ? Op.SUB : f3 === 5 ? Op.SRA : Op.ILLEGAL;
      else if (f7 === 1) op = OPM[f3]!;
      if (op === Op.ILLEGAL) return illegal(out, i, inst, 4);
      return put(out, i, op, xd(rd), rs1, rs2, 0, L);
    }
    case 0x3b: {
      let op: number = Op.ILLEGAL;
      if (f7 === 0) op = f3 === 0 ? Op.ADDW : f3 === 1 ? Op.SLLW : f3 === 5 ? Op.SRLW : Op.ILLEGAL;
      else if (f7 === 0x20) op = f3 === 0 ? Op.SUBW : f3 === 5 ? Op.SRAW : Op.ILLEGAL;
      else if (f7 === 1) op = OPMW[f3]!;
      if (op === Op.ILLEGAL) return illegal(out, i, inst, 4);
      return put(out, i, op, xd(rd), rs1, rs2, 0, L);
    }
    case 0x0f:
      if (f3 === 0) return put(out, i, Op.FENCE, 0, 0, 0, 0, L);
      if (f3 === 1) return put(out, i, Op.FENCE_I, 0, 0, 0, 0, L);
      return illegal(out, i, inst, 4);
    case 0x73: {
      if (f3 === 0) {
        if (inst === 0x00000073) return put(out, i, Op.ECALL, 0, 0, 0, 0, L);
        if (inst === 0x00100073) return put(out, i, Op.EBREAK, 0, 0, 0, 0, L);
        if (inst === 0x30200073) return put(out, i, Op.MRET, 0, 0, 0, 0, L);
        if (inst === 0x10200073) return put(out, i, Op.SRET, 0, 0, 0, 0, L);
        if (inst === 0x10500073) return put(out, i, Op.WFI, 0, 0, 0, 0, L);
        if (f7 === 0x09 && rd === 0) return put(out, i, Op.SFENCE_VMA, 0, rs1, rs2, 0, L);
        return illegal(out, i, inst, 4);
      }
      const op = CSROPS[f3]!;
      if (op === Op.ILLEGAL) return illegal(out, i, inst, 4);
      // rs1 field: register (or uimm for the I forms); rs2 slot carries "rd was x0" so CSRRW can skip the read
      return put(out, i, op, xd(rd), rs1, rd === 0 ? 1 : 0, inst >>> 20, L);
    }
    case 0x2f: {
      if (f3 !== 2 && f3 !== 3) return illegal(out, i, inst, 4);
      const f5 = inst >>> 27;
      let op = AMO[f5];
      if (op === undefined) return illegal(out, i, inst, 4);
      if (op === Op.LR_W && rs2 !== 0) return illegal(out, i, inst, 4);
      if (f3 === 3) op += Op.LR_D - Op.LR_W;
      return put(out, i, op, xd(rd), rs1, rs2, 0, L);
    }
    case 0x07:
      if (f3 === 2) return put(out, i, Op.FLW, rd, rs1, 0, immI, L);
      if (f3 === 3) return put(out, i, Op.FLD, rd, rs1, 0, immI, L);
      return illegal(out, i, inst, 4);
    case 0x27: {
      const imm = ((inst >> 25) << 5) | ((inst >>> 7) & 31);
      if (f3 === 2) return put(out, i, Op.FSW, 0, rs1, rs2, imm, L);
      if (f3 === 3) return put(out, i, Op.FSD, 0, rs1, rs2, imm, L);
      return illegal(out, i, inst, 4);
    }
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      const fmt = f7 & 3;
      if (fmt > 1) return illegal(out, i, inst, 4);
      const base = fmt === 0 ? Op.FMADD_S : Op.FMADD_D;
      const op = base + ((opc - 0x43) >> 2);
      return put(out, i, op, rd, rs1, rs2, 0, ((inst >>> 27) * 2) | (f3 << 8) | L);
    }
    case 0x53:
      return decodeOpFp(inst, out, i, rd, f3, rs1, rs2, f7);
  }
  return illegal(out, i, inst, 4);
}

function decodeOpFp(
  inst: number,
  out: Int32Array,
  i: number,
  rd: number,
  f3: number,
  rs1: number,
  rs2: number,
  f7: number,
): void {
  const L = 4 << 12;
  const rm = (f3 << 8) | L;
  const fmtD = f7 & 1;
  if ((f7 & 2) !== 0) return illegal(out, i, inst, 4); // fmt H / Q
  switch (f7 >>> 2) {
    case 0x00:
      return put(out, i, fmtD ? Op.FADD_D : Op.FADD_S, rd, rs1, rs2, 0, rm);
    case 0x01:
      return put(out, i, fmtD ? Op.FSUB_D : Op.FSUB_S, rd, rs1, rs2, 0, rm);
    case 0x02:
      return put(out, i, fmtD ? Op.FMUL_D : Op.FMUL_S, rd, rs1, rs2, 0, rm);
    case 0x03:
      return put(out, i, fmtD ? Op.FDIV_D : Op.FDIV_S, rd, rs1, rs2, 0, rm);
    case 0x0b:
      if (rs2 !== 0) break;
      return put(out, i, fmtD ? Op.FSQRT_D : Op.FSQRT_S, rd, rs1, 0, 0, rm);
    case 0x04:
      if (f3 > 2) break;
      return put(out, i, (fmtD ? Op.FSGNJ_D : Op.FSGNJ_S) + f3, rd, rs1, rs2, 0, L);
    case 0x05:
      if (f3 > 1) break;
      return put(out, i, (fmtD ? Op.FMIN_D : Op.FMIN_S) + f3, rd, rs1, rs2, 0, L);
    case 0x08:
      if (fmtD === 0 && rs2 === 1) return put(out, i, Op.FCVT_S_D, rd, rs1, 0, 0, rm);
      if (fmtD === 1 && rs2 === 0) return put(out, i, Op.FCVT_D_S, rd, rs1, 0, 0, rm);
      break;
    case 0x14:
      if (f3 > 2) break;
      // f3: 0 fle, 1 flt, 2 feq
      return put(out, i, (fmtD ? Op.FEQ_D : Op.FEQ_S) + (f3 === 2 ? 0 : f3 === 1 ? 1 : 2), xd(rd), rs1, rs2, 0, L);
    case 0x18:
      if (rs2 > 3) break;
      return put(out, i, (fmtD ? Op.FCVT_W_D : Op.FCVT_W_S) + rs2, xd(rd), rs1, 0, 0, rm);
    case 0x1a:
      if (rs2 > 3) break;
      return put(out, i, (fmtD ? Op.FCVT_D_W : Op.FCVT_S_W) + rs2, rd, rs1, 0, 0, rm);
    case 0x1c:
      if (rs2 !== 0) break;
      if (f3 === 0) return put(out, i, fmtD ? Op.FMV_X_D : Op.FMV_X_W, xd(rd), rs1, 0, 0, L);
      if (f3 === 1) return put(out, i, fmtD ? Op.FCLASS_D : Op.FCLASS_S, xd(rd), rs1, 0, 0, L);
      break;
    case 0x1e:
      if (rs2 !== 0 || f3 !== 0) break;
      return put(out, i, fmtD ? Op.FMV_D_X : Op.FMV_W_X, rd, rs1, 0, 0, L);
  }
  return illegal(out, i, inst, 4);
}

/** Decode a 16-bit compressed instruction (low two bits != 3) into out[i..i+2], expanded to its base op. */
export function decode16(c: number, out: Int32Array, i: number): void {
  const L = 2 << 12;
  const q = c & 3;
  const f3 = (c >>> 13) & 7;
  const rdp = ((c >>> 2) & 7) + 8; // rd' / rs2'
  const rs1p = ((c >>> 7) & 7) + 8;
  const r = (c >>> 7) & 31; // rd / rs1 (full)
  const r2 = (c >>> 2) & 31;
  const imm6 = (((c >>> 12) & 1) << 5) | ((c >>> 2) & 31);
  const simm6 = (imm6 << 26) >> 26;
  if (q === 0) {
    const offD = (((c >>> 10) & 7) << 3) | (((c >>> 5) & 3) << 6);
    const offW = (((c >>> 10) & 7) << 3) | (((c >>> 6) & 1) << 2) | (((c >>> 5) & 1) << 6);
    switch (f3) {
      case 0: {
        const nz = (((c >>> 11) & 3) << 4) | (((c >>> 7) & 15) << 6) | (((c >>> 6) & 1) << 2) | (((c >>> 5) & 1) << 3);
        if (nz === 0) return illegal(out, i, c, 2);
        return put(out, i, Op.ADDI, rdp, 2, 0, nz, L);
      }
      case 1:
        return put(out, i, Op.FLD, rdp, rs1p, 0, offD, L);
      case 2:
        return put(out, i, Op.LW, rdp, rs1p, 0, offW, L);
      case 3:
        return put(out, i, Op.LD, rdp, rs1p, 0, offD, L);
      case 5:
        return put(out, i, Op.FSD, 0, rs1p, rdp, offD, L);
      case 6:
        return put(out, i, Op.SW, 0, rs1p, rdp, offW, L);
      case 7:
        return put(out, i, Op.SD, 0, rs1p, rdp, offD, L);
    }
    return illegal(out, i, c, 2);
  }
  if (q === 1) {
    switch (f3) {
      case 0:
        return put(out, i, Op.ADDI, xd(r), r, 0, simm6, L);
      case 1:
        if (r === 0) return illegal(out, i, c, 2);
        return put(out, i, Op.ADDIW, r, r, 0, simm6, L);
      case 2:
        return put(out, i, Op.ADDI, xd(r), 0, 0, simm6, L);
      case 3: {
        if (r === 2) {
          let nz =
            (((c >>> 12) & 1) << 9) |
            (((c >>> 6) & 1) << 4) |
            (((c >>> 5) & 1) << 6) |
            (((c >>> 3) & 3) << 7) |
            (((c >>> 2) & 1) << 5);
          if (nz === 0) return illegal(out, i, c, 2);
          nz = (nz << 22) >> 22;
          return put(out, i, Op.ADDI, 2, 2, 0, nz, L);
        }
        if (imm6 === 0) return illegal(out, i, c, 2);
        return put(out, i, Op.LUI, xd(r), 0, 0, simm6 << 12, L);
      }
      case 4: {
        const f2 = (c >>> 10) & 3;
        if (f2 === 0) return put(out, i, Op.SRLI, rs1p, rs1p, 0, imm6, L);
        if (f2 === 1) return put(out, i, Op.SRAI, rs1p, rs1p, 0, imm6, L);
        if (f2 === 2) return put(out, i, Op.ANDI, rs1p, rs1p, 0, simm6, L);
        const f = (c >>> 5) & 3;
        if (((c >>> 12) & 1) === 0) {
          const op = [Op.SUB, Op.XOR, Op.OR, Op.AND][f]!;
          return put(out, i, op, rs1p, rs1p, rdp, 0, L);
        }
        if (f === 0) return put(out, i, Op.SUBW, rs1p, rs1p, rdp, 0, L);
        if (f === 1) return put(out, i, Op.ADDW, rs1p, rs1p, rdp, 0, L);
        return illegal(out, i, c, 2);
      }
      case 5: {
        let off =
          (((c >>> 12) & 1) << 11) |
          (((c >>> 11) & 1) << 4) |
          (((c >>> 9) & 3) << 8) |
          (((c >>> 8) & 1) << 10) |
          (((c >>> 7) & 1) << 6) |
          (((c >>> 6) & 1) << 7) |
          (((c >>> 3) & 7) << 1) |
          (((c >>> 2) & 1) << 5);
        off = (off << 20) >> 20;
        return put(out, i, Op.JAL, 32, 0, 0, off, L);
      }
      case 6:
      case 7: {
        let off =
          (((c >>> 12) & 1) << 8) |
          (((c >>> 10) & 3) << 3) |
          (((c >>> 5) & 3) << 6) |
          (((c >>> 3) & 3) << 1) |
          (((c >>> 2) & 1) << 5);
        off = (off << 23) >> 23;
        return put(out, i, f3 === 6 ? Op.BEQ : Op.BNE, 0, rs1p, 0, off, L);
      }
    }
  }
  if (q === 2) {
    const offD = (((c >>> 12) & 1) << 5) | (((c >>> 5) & 3) << 3) | (((c >>> 2) & 7) << 6);
    const offSD = (((c >>> 10) & 7) << 3) | (((c >>> 7) & 7) << 6);
    switch (f3) {
      case 0:
        return put(out, i, Op.SLLI, xd(r), r, 0, imm6, L);
      case 1:
        return put(out, i, Op.FLD, r, 2, 0, offD, L);
      case 2: {
        if (r === 0) return illegal(out, i, c, 2);
        const off = (((c >>> 12) & 1) << 5) | (((c >>> 4) & 7) << 2) | (((c >>> 2) & 3) << 6);
        return put(out, i, Op.LW, r, 2, 0, off, L);
      }
      case 3:
        if (r === 0) return illegal(out, i, c, 2);
        return put(out, i, Op.LD, r, 2, 0, offD, L);
      case 4:
        if (((c >>> 12) & 1) === 0) {
          if (r2 === 0) {
            if (r === 0) return illegal(out, i, c, 2);
            return put(out, i, Op.JALR, 32, r, 0, 0, L);
          }
          return put(out, i, Op.ADD, xd(r), 0, r2, 0, L);
        }
        if (r2 === 0) {
          if (r === 0) return put(out, i, Op.EBREAK, 0, 0, 0, 0, L);
          return put(out, i, Op.JALR, 1, r, 0, 0, L);
        }
        return put(out, i, Op.ADD, xd(r), r, r2, 0, L);
      case 5:
        return put(out, i, Op.FSD, 0, 2, r2, offSD, L);
      case 6: {
        const off = (((c >>> 9) & 15) << 2) | (((c >>> 7) & 3) << 6);
        return put(out, i, Op.SW, 0, 2, r2, off, L);
      }
      case 7:
        return put(out, i, Op.SD, 0, 2, r2, offSD, L);
    }
  }
  return illegal(out, i, c, 2);
}

/** Decode either length; `lo16` is the first halfword, `hi16` the next (ignored when compressed). */
export function decode(lo16: number, hi16: number, out: Int32Array, i: number): void {
  if ((lo16 & 3) !== 3) decode16(lo16 & 0xffff, out, i);
  else decode32(((hi16 & 0xffff) << 16) | (lo16 & 0xffff), out, i);
}
