// Block compiler: a hot run of straight-line integer instructions (ending at a jump, a branch, the end of the page,
// or the first instruction it does not handle) becomes one JavaScript function with register indices and immediates
// baked in, so V8 compiles it to tight machine code. Loads and stores keep the TLB fast path inline and fall back to
// the CPU's slow paths (which may trap: `cpu.jitK` says which instruction of the block was running). Everything else
// (CSRs, system instructions, atomics) stays in the interpreter; FP instructions call its FP executor.
// A block is exact about time: before a call into the CPU it tells the CPU how many instructions have retired (a
// device access sees the same count as under the interpreter), and when the call ended the run (a device moved a
// deadline, raised an interrupt line, or a store hit decoded code) the block returns right after that instruction,
// as the interpreter's loop would, with `cpu.jitRan` saying how many of its instructions ran.
import { Op } from './ops.js';

/** A compiled block: run(x, pc0, n0) executes its instructions (all `len` unless it set `cpu.jitRan` lower) with n0
 *  instructions retired before it in the current slice, and returns the next pc. */
export interface Block {
  run: (x: Int32Array, pc0: number, n0: number) => number;
  len: number;
  /** Byte offset of each instruction from the block start (for precise traps). */
  offsets: Int32Array;
  /** Decode-cache generation of the page when compiled. */
  gen: number;
}

/** What the generated code reaches in the CPU (its private fields, by name). */
export interface JitEnv {
  dv: DataView;
  ram: Uint8Array;
  rTag: Int32Array;
  rHi: Int32Array;
  rOff: Int32Array;
  wTag: Int32Array;
  wHi: Int32Array;
  wOff: Int32Array;
  codeMark: Uint8Array;
  helpers: Record<string, unknown>;
}

const MAX_LEN = 64;

function addr(a: number, imm: number): string {
  return `const al = x[${a}], lo = (al + ${imm}) | 0, hi = (x[${a + 1}] + ${imm >> 31} + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;`;
}
const W = (d: number, v: string) => `{ const v = ${v}; x[${d}] = v; x[${d + 1}] = v >> 31; }`;

/** JS for one non-terminating instruction, or undefined if the compiler does not handle it. */
function body(
  op: number,
  d: number,
  a: number,
  b: number,
  imm: number,
  w2: number,
  pcExpr: string,
  k: number,
  nextRel: number,
): string | undefined {
  const ih = imm >> 31;
  // before a call into the CPU: the retired count it sees, and which instruction traps if it does
  const enter = `cpu.sliceN = n0 + ${k + 1}; cpu.jitK = ${k};`;
  // after it: leave the block if the call ended the run (cpu.limit = 0), as the interpreter's loop does
  const leave = `if (cpu.limit === 0) { cpu.jitRan = ${k + 1}; return pc0 + ${nextRel}; }`;
  switch (op) {
    case Op.ADDI:
      return `{ const al = x[${a}], lo = (al + ${imm}) | 0; x[${d + 1}] = (x[${a + 1}] + ${ih} + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; x[${d}] = lo; }`;
    case Op.ADD:
      return `{ const al = x[${a}], lo = (al + x[${b}]) | 0; x[${d + 1}] = (x[${a + 1}] + x[${b + 1}] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; x[${d}] = lo; }`;
    case Op.SUB:
      return `{ const al = x[${a}], bl = x[${b}]; x[${d + 1}] = (x[${a + 1}] - x[${b + 1}] - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0; x[${d}] = (al - bl) | 0; }`;
    case Op.LUI:
      return `x[${d}] = ${imm}; x[${d + 1}] = ${ih};`;
    case Op.AUIPC:
      return `{ const v = ${pcExpr} + ${imm}, h = Math.floor(v / 4294967296); x[${d}] = (v - h * 4294967296) | 0; x[${d + 1}] = h | 0; }`;
    case Op.SLTI:
      return `{ const ah = x[${a + 1}]; x[${d}] = ah < ${ih} || (ah === ${ih} && (x[${a}] >>> 0) < ${imm >>> 0}) ? 1 : 0; x[${d + 1}] = 0; }`;
    case Op.SLTIU:
      return `{ const ah = x[${a + 1}] >>> 0; x[${d}] = ah < ${ih >>> 0} || (ah === ${ih >>> 0} && (x[${a}] >>> 0) < ${imm >>> 0}) ? 1 : 0; x[${d + 1}] = 0; }`;
    case Op.XORI:
      return `x[${d}] = x[${a}] ^ ${imm}; x[${d + 1}] = x[${a + 1}] ^ ${ih};`;
    case Op.ORI:
      return `x[${d}] = x[${a}] | ${imm}; x[${d + 1}] = x[${a + 1}] | ${ih};`;
    case Op.ANDI:
      return `x[${d}] = x[${a}] & ${imm}; x[${d + 1}] = x[${a + 1}] & ${ih};`;
    case Op.SLLI: {
      const s = imm;
      if (s === 0) return `x[${d}] = x[${a}]; x[${d + 1}] = x[${a + 1}];`;
      if (s < 32)
        return `{ const lo = x[${a}]; x[${d + 1}] = (x[${a + 1}] << ${s}) | (lo >>> ${32 - s}); x[${d}] = lo << ${s}; }`;
      return `x[${d + 1}] = x[${a}] << ${s - 32}; x[${d}] = 0;`;
    }
    case Op.SRLI:
    case Op.SRAI: {
      const s = imm,
        ar = op === Op.SRAI;
      if (s === 0) return `x[${d}] = x[${a}]; x[${d + 1}] = x[${a + 1}];`;
      if (s < 32)
        return `{ const hi = x[${a + 1}]; x[${d}] = (x[${a}] >>> ${s}) | (hi << ${32 - s}); x[${d + 1}] = ${ar ? `hi >> ${s}` : `(hi >>> ${s}) | 0`}; }`;
      return `{ const hi = x[${a + 1}]; x[${d}] = ${ar ? `hi >> ${s - 32}` : `(hi >>> ${s - 32}) | 0`}; x[${d + 1}] = ${ar ? 'hi >> 31' : '0'}; }`;
    }
    case Op.SLL:
      return `shl(x, ${d}, x[${a}], x[${a + 1}], x[${b}] & 63);`;
    case Op.SRL:
      return `shr(x, ${d}, x[${a}], x[${a + 1}], x[${b}] & 63, false);`;
    case Op.SRA:
      return `shr(x, ${d}, x[${a}], x[${a + 1}], x[${b}] & 63, true);`;
    case Op.SLT:
      return `{ const ah = x[${a + 1}], bh = x[${b + 1}]; x[${d}] = ah < bh || (ah === bh && (x[${a}] >>> 0) < (x[${b}] >>> 0)) ? 1 : 0; x[${d + 1}] = 0; }`;
    case Op.SLTU:
      return `{ const ah = x[${a + 1}] >>> 0, bh = x[${b + 1}] >>> 0; x[${d}] = ah < bh || (ah === bh && (x[${a}] >>> 0) < (x[${b}] >>> 0)) ? 1 : 0; x[${d + 1}] = 0; }`;
    case Op.XOR:
      return `x[${d}] = x[${a}] ^ x[${b}]; x[${d + 1}] = x[${a + 1}] ^ x[${b + 1}];`;
    case Op.OR:
      return `x[${d}] = x[${a}] | x[${b}]; x[${d + 1}] = x[${a + 1}] | x[${b + 1}];`;
    case Op.AND:
      return `x[${d}] = x[${a}] & x[${b}]; x[${d + 1}] = x[${a + 1}] & x[${b + 1}];`;
    case Op.ADDIW:
      return W(d, `(x[${a}] + ${imm}) | 0`);
    case Op.SLLIW:
      return W(d, `x[${a}] << ${imm}`);
    case Op.SRLIW:
      return W(d, `(x[${a}] >>> ${imm}) | 0`);
    case Op.SRAIW:
      return W(d, `x[${a}] >> ${imm}`);
    case Op.ADDW:
      return W(d, `(x[${a}] + x[${b}]) | 0`);
    case Op.SUBW:
      return W(d, `(x[${a}] - x[${b}]) | 0`);
    case Op.SLLW:
      return W(d, `x[${a}] << (x[${b}] & 31)`);
    case Op.SRLW:
      return W(d, `(x[${a}] >>> (x[${b}] & 31)) | 0`);
    case Op.SRAW:
      return W(d, `x[${a}] >> (x[${b}] & 31)`);
    case Op.MUL:
      return `mul64(x[${a}], x[${a + 1}], x[${b}], x[${b + 1}]); x[${d}] = R[0]; x[${d + 1}] = R[1];`;
    case Op.MULH:
      return `mulh64(x[${a}], x[${a + 1}], x[${b}], x[${b + 1}], false); x[${d}] = R[0]; x[${d + 1}] = R[1];`;
    case Op.MULHSU:
      return `mulh64(x[${a}], x[${a + 1}], x[${b}], x[${b + 1}], true); x[${d}] = R[0]; x[${d + 1}] = R[1];`;
    case Op.MULHU:
      return `mulhu64(x[${a}], x[${a + 1}], x[${b}], x[${b + 1}]); x[${d}] = R[0]; x[${d + 1}] = R[1];`;
    case Op.DIV:
    case Op.DIVU:
    case Op.REM:
    case Op.REMU: {
      const signed = op === Op.DIV || op === Op.REM,
        rem = op === Op.REM || op === Op.REMU;
      return `div64(x[${a}], x[${a + 1}], x[${b}], x[${b + 1}], ${signed}, ${rem}); x[${d}] = R[0]; x[${d + 1}] = R[1];`;
    }
    case Op.MULW:
      return W(d, `Math.imul(x[${a}], x[${b}])`);
    case Op.DIVW:
    case Op.DIVUW:
    case Op.REMW:
    case Op.REMUW: {
      const signed = op === Op.DIVW || op === Op.REMW,
        rem = op === Op.REMW || op === Op.REMUW;
      return `div32(x[${a}], x[${b}], ${signed}, ${rem}); x[${d}] = R[0]; x[${d + 1}] = R[1];`;
    }
    case Op.FENCE:
      return '';
    case Op.LB:
    case Op.LH:
    case Op.LW:
    case Op.LD:
    case Op.LBU:
    case Op.LHU:
    case Op.LWU: {
      const size = op === Op.LD ? 8 : op === Op.LW || op === Op.LWU ? 4 : op === Op.LB || op === Op.LBU ? 1 : 2;
      const read =
        size === 8
          ? 'v = dv.getInt32(o, true); vh = dv.getInt32(o + 4, true);'
          : size === 4
            ? 'v = dv.getInt32(o, true);'
            : size === 1
              ? 'v = ram[o];'
              : 'v = dv.getUint16(o, true);';
      const write =
        op === Op.LD
          ? `x[${d}] = v; x[${d + 1}] = vh;`
          : op === Op.LW
            ? `x[${d}] = v; x[${d + 1}] = v >> 31;`
            : op === Op.LB
              ? `v = (v << 24) >> 24; x[${d}] = v; x[${d + 1}] = v >> 31;`
              : op === Op.LH
                ? `v = (v << 16) >> 16; x[${d}] = v; x[${d + 1}] = v >> 31;`
                : `x[${d}] = v; x[${d + 1}] = 0;`;
      return `{ ${addr(a, imm)} const vpn = lo >>> 12, ti = vpn & 255, po = lo & 4095; let v, vh = 0;
        if (rTag[ti] === vpn && rHi[ti] === hi && po <= ${4096 - size}) { const o = rOff[ti] + po; ${read} ${write} }
        else { ${enter} v = cpu.loadSlow(lo, hi, ${size}); vh = cpu.rhi; ${write} ${leave} } }`;
    }
    case Op.SB:
    case Op.SH:
    case Op.SW:
    case Op.SD: {
      const size = op === Op.SD ? 8 : op === Op.SW ? 4 : op === Op.SB ? 1 : 2;
      const wr =
        size === 8
          ? `dv.setInt32(o, x[${b}], true); dv.setInt32(o + 4, x[${b + 1}], true);`
          : size === 4
            ? `dv.setInt32(o, x[${b}], true);`
            : size === 1
              ? `ram[o] = x[${b}];`
              : `dv.setUint16(o, x[${b}], true);`;
      return `{ ${addr(a, imm)} const vpn = lo >>> 12, ti = vpn & 255, po = lo & 4095;
        if (wTag[ti] === vpn && wHi[ti] === hi && po <= ${4096 - size}) { const o = wOff[ti] + po; ${wr} if (codeMark[o >>> 12]) { cpu.invalidateCode(o, ${size}); ${leave} } }
        else { ${enter} cpu.storeSlow(lo, hi, ${size}, x[${b}], x[${b + 1}]); ${leave} } }`;
    }
  }
  // floating point: a call into the interpreter's FP executor (which checks mstatus.FS and the rounding mode)
  if (op >= Op.FLW && op <= Op.FMV_D_X)
    return `${enter} cpu.fpFromBlock(${op}, ${d}, ${a}, ${b}, ${imm}, ${w2}); ${leave}`;
  return undefined;
}

/** JS for a block-ending control transfer (returns the next pc), or undefined. */
function terminator(
  op: number,
  d: number,
  a: number,
  b: number,
  imm: number,
  off: number,
  len: number,
): string | undefined {
  const link = `{ const v = pc0 + ${off + len}, h = Math.floor(v / 4294967296); x[${d}] = (v - h * 4294967296) | 0; x[${d + 1}] = h | 0; }`;
  const taken = `return pc0 + ${off + imm};`,
    fall = `return pc0 + ${off + len};`;
  switch (op) {
    case Op.JAL:
      return `${link} ${taken}`;
    case Op.JALR:
      return `{ const al = x[${a}], lo = (al + ${imm}) | 0, hi = (x[${a + 1}] + ${imm >> 31} + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; ${link} return hi * 4294967296 + ((lo & ~1) >>> 0); }`;
    case Op.BEQ:
      return `if (x[${a}] === x[${b}] && x[${a + 1}] === x[${b + 1}]) ${taken} ${fall}`;
    case Op.BNE:
      return `if (x[${a}] !== x[${b}] || x[${a + 1}] !== x[${b + 1}]) ${taken} ${fall}`;
    case Op.BLT:
    case Op.BGE:
    case Op.BLTU:
    case Op.BGEU: {
      const u = op === Op.BLTU || op === Op.BGEU ? ' >>> 0' : '';
      const lt = `(ah < bh || (ah === bh && (x[${a}] >>> 0) < (x[${b}] >>> 0)))`;
      const cond = op === Op.BLT || op === Op.BLTU ? lt : `!${lt}`;
      return `{ const ah = x[${a + 1}]${u}, bh = x[${b + 1}]${u}; if (${cond}) ${taken} ${fall} }`;
    }
  }
  return undefined;
}

/**
 * Compile the block starting at decode-cache slot `slot` of page `blk` (4 words per halfword slot; decode(off)
 * fills an empty slot). Returns undefined when the first instruction is not compilable.
 */
export function compileBlock(
  blk: Int32Array,
  slot: number,
  decodeAt: (off: number) => void,
  env: JitEnv,
  gen: number,
): Block | undefined {
  const parts: string[] = [];
  const offsets: number[] = [];
  let off = slot * 2;
  const start = off;
  for (let k = 0; k < MAX_LEN; k++) {
    if (off >= 4094) {
      parts.push(`return pc0 + ${off - start};`);
      break;
    }
    const si = off << 1;
    if (blk[si] === 0) decodeAt(off);
    const w0 = blk[si]!,
      imm = blk[si + 1]!,
      w2 = blk[si + 2]!;
    const op = w0 & 0xff,
      d = (w0 >>> 8) & 0xff,
      a = (w0 >>> 16) & 0xff,
      b = w0 >>> 24,
      len = w2 >>> 12;
    const rel = off - start;
    const t = terminator(op, d, a, b, imm, rel, len);
    if (t !== undefined) {
      offsets.push(rel);
      parts.push(t);
      break;
    }
    const c = body(op, d, a, b, imm, w2, `(pc0 + ${rel})`, k, rel + len);
    if (c === undefined) {
      parts.push(`return pc0 + ${rel};`);
      break;
    }
    offsets.push(rel);
    parts.push(c);
    off += len;
    if (k === MAX_LEN - 1) parts.push(`return pc0 + ${off - start};`);
  }
  if (offsets.length === 0) return undefined;
  const src = `"use strict"; const { R, mul64, mulh64, mulhu64, div64, div32, shl, shr } = H;
    return function block(x, pc0, n0) { ${parts.join('\n')} };`;
  const factory = new Function(
    'cpu',
    'dv',
    'ram',
    'rTag',
    'rHi',
    'rOff',
    'wTag',
    'wHi',
    'wOff',
    'codeMark',
    'H',
    src,
  ) as (...args: unknown[]) => Block['run'];
  const run = factory(
    env.helpers['cpu'],
    env.dv,
    env.ram,
    env.rTag,
    env.rHi,
    env.rOff,
    env.wTag,
    env.wHi,
    env.wOff,
    env.codeMark,
    env.helpers,
  );
  return { run, len: offsets.length, offsets: Int32Array.from(offsets), gen };
}
