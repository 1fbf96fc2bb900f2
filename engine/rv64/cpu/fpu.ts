// The F and D extensions: the FP register file (NaN-boxed singles), fflags, and every FP operation.
// Round-to-nearest-even results that are normal and finite take a fast path on host doubles, with the inexact flag
// computed exactly by error-free transformations (TwoSum, Dekker's TwoProduct). Everything else (directed rounding,
// subnormal or overflowing results, NaN/infinity operands, FMA, wide integer conversions) goes to softfloat.ts, which
// computes exactly on integer significands and rounds once.
import * as sf from './softfloat.js';
import type { Fmt, SfResult } from './softfloat.js';

// copied once: a getter call per use otherwise (per-file transpilation)
const { F32, F64, NV, NX, RNE, sfAdd, sfConvert, sfDiv, sfFma, sfFromInt, sfMul, sfSqrt, roundToInt } = sf;
const MIN_NORMAL32 = 1.1754943508222875e-38;
const LO_SAFE = 2 ** -960;
const HI_SAFE = 2 ** 995;
const SPLIT = 134217729; // 2^27 + 1
const TWO32 = 4294967296;
const fround = Math.fround;

function twoProdErr(x: number, y: number, p: number): number {
  let c = SPLIT * x;
  const xh = c - (c - x),
    xl = x - xh;
  c = SPLIT * y;
  const yh = c - (c - y),
    yl = y - yh;
  return xh * yh - p + xh * yl + xl * yh + xl * yl;
}

const HU = new Float64Array(1);
const HUI = new Int32Array(HU.buffer);
/** Half an ulp of a normal double r (|r| >= 2^-969). */
function halfUlp64(r: number): number {
  HU[0] = r;
  const e = (HUI[1]! >>> 20) & 0x7ff;
  HUI[1] = (e - 53) << 20;
  HUI[0] = 0;
  return HU[0]!;
}
/** Is r (a normal number) a power of two? */
function isPow2(r: number): boolean {
  HU[0] = r;
  return (HUI[1]! & 0xfffff) === 0 && HUI[0] === 0;
}
/** Half an ulp of a normal single r, as a double. */
function halfUlp32(r: number): number {
  HU[0] = r;
  const e = (HUI[1]! >>> 20) & 0x7ff; // the double's exponent field; a single has 24 bits of precision
  HUI[1] = (e - 24) << 20;
  HUI[0] = 0;
  return HU[0]!;
}

export class Fpu {
  readonly buf = new ArrayBuffer(32 * 8);
  /** Register r as a double: F[r]. */
  readonly F = new Float64Array(this.buf);
  /** Register r as two int32: lo at I[2r], hi at I[2r+1]. A boxed single has hi === -1. */
  readonly I = new Int32Array(this.buf);
  /** Register r's low 32 bits as a single: S[2r]. */
  readonly S = new Float32Array(this.buf);
  /** Accrued exception flags (fflags). */
  flags = 0;
  /** Dynamic rounding mode (frm). */
  frm = 0;

  // ---- register access helpers (indices are doubled: d = 2*rd) ----
  private bits64(a: number): bigint {
    return (BigInt(this.I[a + 1]! >>> 0) << 32n) | BigInt(this.I[a]! >>> 0);
  }
  private bits32(a: number): bigint {
    return BigInt(this.I[a + 1] === -1 ? this.I[a]! >>> 0 : 0x7fc00000);
  }
  private put64(d: number, r: SfResult): void {
    this.I[d] = Number(r.bits & 0xffffffffn) | 0;
    this.I[d + 1] = Number(r.bits >> 32n) | 0;
    this.flags |= r.flags;
  }
  private put32(d: number, r: SfResult): void {
    this.I[d] = Number(r.bits) | 0;
    this.I[d + 1] = -1;
    this.flags |= r.flags;
  }
  private val32(a: number): number {
    return this.I[a + 1] === -1 ? this.S[a]! : NaN;
  }
  private setS(d: number, v: number): void {
    this.S[d] = v;
    this.I[d + 1] = -1;
  }
  /** Unboxed single bits (canonical NaN if not properly boxed). */
  raw32(a: number): number {
    return this.I[a + 1] === -1 ? this.I[a]! : 0x7fc00000;
  }
  private isSNaN32(bits: number): boolean {
    return (bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0 && (bits & 0x400000) === 0;
  }
  private isSNaN64(a: number): boolean {
    const hi = this.I[a + 1]!,
      lo = this.I[a]!;
    return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0 && (hi & 0x80000) === 0;
  }

  // ---- arithmetic ----
  addD(d: number, a: number, b: number, rm: number, neg: boolean): void {
    if (rm === RNE) {
      const x = this.F[a >> 1]!,
        y = neg ? -this.F[b >> 1]! : this.F[b >> 1]!;
      const s = x + y;
      if (s - s === 0) {
        const bb = s - x;
        if (x - (s - bb) + (y - bb) !== 0) this.flags |= NX;
        this.F[d >> 1] = s;
        return;
      }
    }
    this.put64(d, sfAdd(this.bits64(a), this.bits64(b), F64, rm, neg));
  }
  mulD(d: number, a: number, b: number, rm: number): void {
    if (rm === RNE) {
      const x = this.F[a >> 1]!,
        y = this.F[b >> 1]!;
      const p = x * y;
      if (p - p === 0) {
        const ap = Math.abs(p);
        if (ap >= LO_SAFE && ap < HI_SAFE && Math.abs(x) < HI_SAFE && Math.abs(y) < HI_SAFE) {
          if (twoProdErr(x, y, p) !== 0) this.flags |= NX;
          this.F[d >> 1] = p;
          return;
        }
        if (x === 0 || y === 0) {
          this.F[d >> 1] = p;
          return;
        }
      }
    }
    this.put64(d, sfMul(this.bits64(a), this.bits64(b), F64, rm));
  }
  divD(d: number, a: number, b: number, rm: number): void {
    if (rm === RNE) {
      const x = this.F[a >> 1]!,
        y = this.F[b >> 1]!;
      const q = x / y;
      if (q - q === 0) {
        const aq = Math.abs(q),
          ay = Math.abs(y),
          ax = Math.abs(x);
        if (aq >= LO_SAFE && aq < HI_SAFE && ay >= LO_SAFE && ay < HI_SAFE && ax >= LO_SAFE && ax < HI_SAFE) {
          const p = q * y;
          if (p !== x || twoProdErr(q, y, p) !== 0) this.flags |= NX;
          this.F[d >> 1] = q;
          return;
        }
        if (x === 0 && y !== 0) {
          this.F[d >> 1] = q;
          return;
        }
      }
    }
    this.put64(d, sfDiv(this.bits64(a), this.bits64(b), F64, rm));
  }
  sqrtD(d: number, a: number, rm: number): void {
    if (rm === RNE) {
      const x = this.F[a >> 1]!;
      if (x >= LO_SAFE && x < HI_SAFE) {
        const q = Math.sqrt(x);
        const p = q * q;
        if (p !== x || twoProdErr(q, q, p) !== 0) this.flags |= NX;
        this.F[d >> 1] = q;
        return;
      }
    }
    this.put64(d, sfSqrt(this.bits64(a), F64, rm));
  }
  addS(d: number, a: number, b: number, rm: number, neg: boolean): void {
    if (rm === RNE) {
      const x = this.val32(a),
        y = neg ? -this.val32(b) : this.val32(b);
      const s = x + y;
      const r = fround(s);
      if (r - r === 0) {
        const bb = s - x;
        const exact = r === s && x - (s - bb) + (y - bb) === 0;
        if (Math.abs(r) >= MIN_NORMAL32 || exact) {
          if (!exact) this.flags |= NX;
          this.setS(d, r);
          return;
        }
      }
    }
    this.put32(d, sfAdd(this.bits32(a), this.bits32(b), F32, rm, neg));
  }
  mulS(d: number, a: number, b: number, rm: number): void {
    if (rm === RNE) {
      const x = this.val32(a),
        y = this.val32(b);
      const s = x * y; // exact: 24 x 24 bits
      const r = fround(s);
      if (r - r === 0 && (Math.abs(r) >= MIN_NORMAL32 || s === 0)) {
        if (r !== s) this.flags |= NX;
        this.setS(d, r);
        return;
      }
    }
    this.put32(d, sfMul(this.bits32(a), this.bits32(b), F32, rm));
  }
  divS(d: number, a: number, b: number, rm: number): void {
    if (rm === RNE) {
      const x = this.val32(a),
        y = this.val32(b);
      const r = fround(x / y);
      if (r - r === 0 && y !== 0 && y - y === 0 && (Math.abs(r) >= MIN_NORMAL32 || x === 0)) {
        if (r * y !== x) this.flags |= NX;
        this.setS(d, r);
        return;
      }
    }
    this.put32(d, sfDiv(this.bits32(a), this.bits32(b), F32, rm));
  }
  sqrtS(d: number, a: number, rm: number): void {
    if (rm === RNE) {
      const x = this.val32(a);
      if (x > 0 && x - x === 0) {
        const r = fround(Math.sqrt(x));
        if (r * r !== x) this.flags |= NX;
        this.setS(d, r);
        return;
      }
    }
    this.put32(d, sfSqrt(this.bits32(a), F32, rm));
  }
  /** kind: 0 fmadd, 1 fmsub, 2 fnmsub, 3 fnmadd */
  fma(d: number, a: number, b: number, c: number, rm: number, kind: number, dbl: boolean): void {
    const negProd = kind >= 2,
      negC = kind === 1 || kind === 3;
    if (rm === RNE) {
      if (dbl) {
        const x = negProd ? -this.F[a >> 1]! : this.F[a >> 1]!,
          y = this.F[b >> 1]!,
          z = negC ? -this.F[c >> 1]! : this.F[c >> 1]!;
        if (this.fmaFast64(d, x, y, z)) return;
      } else {
        const x = negProd ? -this.val32(a) : this.val32(a),
          y = this.val32(b),
          z = negC ? -this.val32(c) : this.val32(c);
        if (this.fmaFast32(d, x, y, z)) return;
      }
    }
    if (dbl) this.put64(d, sfFma(this.bits64(a), this.bits64(b), this.bits64(c), F64, rm, negProd, negC));
    else this.put32(d, sfFma(this.bits32(a), this.bits32(b), this.bits32(c), F32, rm, negProd, negC));
  }

  /**
   * Round-to-nearest FMA on doubles with error-free transformations: x*y = p + e (TwoProduct), p + z = s + t and
   * t + e = u + v (TwoSum), r = RN(s + u). The exact value is r + (w + v) where w is RN(s + u)'s own error; r is the
   * correctly rounded result unless w + v reaches half an ulp of r, which (like any range problem) goes to the exact
   * path. Returns false when it cannot decide.
   */
  private fmaFast64(d: number, x: number, y: number, z: number): boolean {
    const p = x * y;
    if (p === 0 && (x === 0 || y === 0) && x - x === 0 && y - y === 0 && z - z === 0) {
      this.F[d >> 1] = p + z; // an exact zero product: z itself (or a correctly signed zero), no flags
      return true;
    }
    const ap = Math.abs(p),
      ax = Math.abs(x),
      ay = Math.abs(y),
      az = Math.abs(z);
    if (!(ap >= LO_SAFE && ap < HI_SAFE && ax < HI_SAFE && ay < HI_SAFE && az < HI_SAFE && (az >= LO_SAFE || z === 0)))
      return false;
    const e = twoProdErr(x, y, p);
    const s = p + z;
    let bb = s - p;
    const t = p - (s - bb) + (z - bb);
    if (e === 0) {
      // exact product: the host's correctly rounded p + z is the answer (ties included)
      if (!(Math.abs(s) >= LO_SAFE && Math.abs(s) < HI_SAFE)) return false;
      if (t !== 0) this.flags |= NX;
      this.F[d >> 1] = s;
      return true;
    }
    const u = t + e;
    bb = u - t;
    const v = t - (u - bb) + (e - bb);
    const r = s + u;
    if (!(Math.abs(r) >= LO_SAFE && Math.abs(r) < HI_SAFE)) return false;
    bb = r - s;
    const w = s - (r - bb) + (u - bb);
    const z1 = w + v;
    if (z1 !== 0) {
      // below a power of two the spacing halves: let the exact path handle that binade edge
      if (isPow2(r) || Math.abs(z1) > halfUlp64(r) * (1 - 2 ** -40)) return false; // at/near the midpoint or past it
      this.flags |= NX;
    }
    this.F[d >> 1] = r;
    return true;
  }

  /** Round-to-nearest single FMA: x*y is exact in a double; one more TwoSum and a midpoint check for the last step. */
  private fmaFast32(d: number, x: number, y: number, z: number): boolean {
    const p = x * y; // exact (24 x 24 bits), no overflow or underflow for finite singles
    if (!(p - p === 0 && z - z === 0)) return false;
    if (p === 0) {
      this.setS(d, p + z);
      return true;
    } // exact zero product: z itself (or a correctly signed zero)
    const s = p + z;
    const bb = s - p;
    const t = p - (s - bb) + (z - bb);
    const r = fround(s);
    if (!(r - r === 0 && Math.abs(r) >= MIN_NORMAL32) || s === 0) return false;
    const dist = Math.abs(s - r); // exact: both are doubles within one single ulp
    if (t !== 0) {
      if (isPow2(r)) return false; // the spacing halves below a power of two: let the exact path decide
      const h = halfUlp32(r);
      if (Math.abs(dist - h) <= Math.abs(s) * 2 ** -50) return false; // near a midpoint: double rounding could bite
    }
    if (dist !== 0 || t !== 0) this.flags |= NX;
    this.setS(d, r);
    return true;
  }

  // ---- sign injection, min/max, compare, classify, moves ----
  sgnj(d: number, a: number, b: number, kind: number, dbl: boolean): void {
    if (dbl) {
      const ha = this.I[a + 1]!,
        hb = this.I[b + 1]!,
        la = this.I[a]!;
      const s = kind === 0 ? hb : kind === 1 ? ~hb : ha ^ hb;
      this.I[d] = la;
      this.I[d + 1] = (ha & 0x7fffffff) | (s & 0x80000000);
    } else {
      const va = this.raw32(a),
        vb = this.raw32(b);
      const s = kind === 0 ? vb : kind === 1 ? ~vb : va ^ vb;
      this.I[d] = (va & 0x7fffffff) | (s & 0x80000000);
      this.I[d + 1] = -1;
    }
  }
  minmax(d: number, a: number, b: number, max: boolean, dbl: boolean): void {
    const x = dbl ? this.F[a >> 1]! : this.val32(a),
      y = dbl ? this.F[b >> 1]! : this.val32(b);
    const sa = dbl ? this.isSNaN64(a) : this.isSNaN32(this.raw32(a));
    const sb = dbl ? this.isSNaN64(b) : this.isSNaN32(this.raw32(b));
    if (sa || sb) this.flags |= NV;
    let pick: number; // 0 = a, 1 = b, 2 = canonical NaN
    if (x !== x && y !== y) pick = 2;
    else if (x !== x) pick = 1;
    else if (y !== y) pick = 0;
    else if (x === y) {
      // equal (incl. +0/-0): min prefers the negative, max the positive
      const na = dbl ? this.I[a + 1]! < 0 : this.raw32(a) < 0;
      pick = max ? (na ? 1 : 0) : na ? 0 : 1;
    } else pick = x < y !== max ? 0 : 1;
    if (pick === 2) {
      if (dbl) {
        this.I[d] = 0;
        this.I[d + 1] = 0x7ff80000;
      } else {
        this.I[d] = 0x7fc00000;
        this.I[d + 1] = -1;
      }
      return;
    }
    const s = pick === 0 ? a : b;
    if (dbl) {
      this.I[d] = this.I[s]!;
      this.I[d + 1] = this.I[s + 1]!;
    } else {
      this.I[d] = this.raw32(s);
      this.I[d + 1] = -1;
    }
  }
  /** kind: 0 feq, 1 flt, 2 fle. Returns 0/1. */
  compare(a: number, b: number, kind: number, dbl: boolean): number {
    const x = dbl ? this.F[a >> 1]! : this.val32(a),
      y = dbl ? this.F[b >> 1]! : this.val32(b);
    if (x !== x || y !== y) {
      if (kind !== 0) this.flags |= NV;
      else if (
        dbl ? this.isSNaN64(a) || this.isSNaN64(b) : this.isSNaN32(this.raw32(a)) || this.isSNaN32(this.raw32(b))
      )
        this.flags |= NV;
      return 0;
    }
    return kind === 0 ? (x === y ? 1 : 0) : kind === 1 ? (x < y ? 1 : 0) : x <= y ? 1 : 0;
  }
  classify(a: number, dbl: boolean): number {
    let sign: boolean, expAll: boolean, expZero: boolean, fracZero: boolean, quiet: boolean;
    if (dbl) {
      const hi = this.I[a + 1]!,
        lo = this.I[a]!;
      sign = hi < 0;
      const e = (hi >>> 20) & 0x7ff;
      expAll = e === 0x7ff;
      expZero = e === 0;
      fracZero = ((hi & 0xfffff) | lo) === 0;
      quiet = (hi & 0x80000) !== 0;
    } else {
      const v = this.raw32(a);
      sign = v < 0;
      const e = (v >>> 23) & 0xff;
      expAll = e === 0xff;
      expZero = e === 0;
      fracZero = (v & 0x7fffff) === 0;
      quiet = (v & 0x400000) !== 0;
    }
    if (expAll) return fracZero ? (sign ? 1 : 1 << 7) : quiet ? 1 << 9 : 1 << 8;
    if (expZero) return fracZero ? (sign ? 1 << 3 : 1 << 4) : sign ? 1 << 2 : 1 << 5;
    return sign ? 1 << 1 : 1 << 6;
  }

  // ---- conversions ----
  /** single <-> double. */
  cvtSD(d: number, a: number, rm: number): void {
    const v = this.F[a >> 1]!;
    if (rm === RNE && v === v) {
      const r = fround(v);
      if (r - r === 0 && (Math.abs(r) >= MIN_NORMAL32 || v === 0)) {
        if (r !== v) this.flags |= NX;
        this.setS(d, r);
        return;
      }
    }
    this.put32(d, sfConvert(this.bits64(a), F64, F32, rm));
  }
  cvtDS(d: number, a: number): void {
    const v = this.val32(a);
    if (v === v) {
      this.F[d >> 1] = v;
      return;
    }
    this.put64(d, sfConvert(this.bits32(a), F32, F64, RNE));
  }
  /**
   * float -> integer. kind: 0 w, 1 wu, 2 l, 3 lu. Result in out[0] (lo), out[1] (hi), already sign-extended
   * as RV64 requires for the 32-bit forms.
   */
  cvtToInt(a: number, dbl: boolean, kind: number, rm: number, out: Int32Array): void {
    const v = dbl ? this.F[a >> 1]! : this.val32(a);
    let lo: number, hi: number;
    // 2^63 - 1 and 2^64 - 1 are not doubles: as limits they round to 2^63 and 2^64
    const maxes = [2147483647, 4294967295, 2 ** 63, 2 ** 64];
    const mins = [-2147483648, 0, -9223372036854775808, 0];
    let r: number;
    let invalid = false;
    if (v !== v) {
      invalid = true;
      r = maxes[kind]!;
    } else {
      r = roundToInt(v, rm);
      if (r > maxes[kind]! || (kind >= 2 && r >= maxes[kind]!)) {
        invalid = true;
        r = maxes[kind]!;
      } else if (r < mins[kind]!) {
        invalid = true;
        r = mins[kind]!;
      } else if (r !== v) this.flags |= NX;
    }
    if (invalid) this.flags |= NV;
    if (kind < 2) {
      lo = r | 0;
      hi = lo >> 31;
    } else if (invalid && r === maxes[kind]) {
      lo = -1;
      hi = kind === 2 ? 0x7fffffff : -1;
    } else if (invalid && kind === 2) {
      lo = 0;
      hi = -0x80000000;
    } else {
      const h = Math.floor(r / TWO32);
      lo = (r - h * TWO32) | 0;
      hi = h | 0;
    }
    out[0] = lo;
    out[1] = hi;
  }
  /** integer (lo, hi pair) -> float. kind: 0 w, 1 wu, 2 l, 3 lu. */
  cvtFromInt(d: number, lo: number, hi: number, kind: number, dbl: boolean, rm: number): void {
    let v: number;
    let big: bigint | undefined;
    if (kind === 0) v = lo | 0;
    else if (kind === 1) v = lo >>> 0;
    else {
      const h = kind === 2 ? hi | 0 : hi >>> 0;
      if (h >= -0x200000 && h < 0x200000) v = h * TWO32 + (lo >>> 0);
      else {
        v = NaN;
        big = (BigInt(h) << 32n) | BigInt(lo >>> 0);
      }
    }
    if (big === undefined) {
      if (dbl) {
        this.F[d >> 1] = v;
        return;
      } // |v| <= 2^53: exact
      if (rm === RNE) {
        const r = fround(v);
        if (r !== v) this.flags |= NX;
        this.setS(d, r);
        return;
      }
      big = BigInt(v);
    }
    if (dbl) this.put64(d, sfFromInt(big, F64, rm));
    else this.put32(d, sfFromInt(big, F32, rm));
  }
}

export type { Fmt };
