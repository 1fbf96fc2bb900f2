// Exact IEEE 754 binary32/binary64 arithmetic on integer significands (BigInt): the reference path for everything
// the FPU's fast path does not handle (directed rounding modes, subnormal results, overflow, special operands, FMA).
// Every operation computes the exact result (or the exact result plus a sticky bit) and rounds once.
// Tininess is detected after rounding, as RISC-V requires.

export const RNE = 0,
  RTZ = 1,
  RDN = 2,
  RUP = 3,
  RMM = 4;
export const NX = 1,
  UF = 2,
  OF = 4,
  DZ = 8,
  NV = 16;

export interface Fmt {
  p: number; // precision incl. hidden bit
  bias: number;
  emin: number;
  emax: number;
  ebits: number;
  /** total bits */
  bits: number;
}
export const F32: Fmt = { p: 24, bias: 127, emin: -126, emax: 127, ebits: 8, bits: 32 };
export const F64: Fmt = { p: 53, bias: 1023, emin: -1022, emax: 1023, ebits: 11, bits: 64 };

export const CANON_NAN32 = 0x7fc00000n;
export const CANON_NAN64 = 0x7ff8000000000000n;

export function canonNaN(f: Fmt): bigint {
  return f.bits === 32 ? CANON_NAN32 : CANON_NAN64;
}

/** Result of an operation: the bits and the exception flags it raised. */
export interface SfResult {
  bits: bigint;
  flags: number;
}

const enum Kind {
  Zero,
  Finite,
  Inf,
  QNaN,
  SNaN,
}
interface Unpacked {
  kind: Kind;
  sign: number;
  mant: bigint;
  exp: number;
}

export function unpack(bits: bigint, f: Fmt): Unpacked {
  const fracBits = BigInt(f.p - 1);
  const sign = Number((bits >> BigInt(f.bits - 1)) & 1n);
  const e = Number((bits >> fracBits) & BigInt((1 << f.ebits) - 1));
  const frac = bits & ((1n << fracBits) - 1n);
  if (e === (1 << f.ebits) - 1) {
    if (frac === 0n) return { kind: Kind.Inf, sign, mant: 0n, exp: 0 };
    const quiet = (frac >> (fracBits - 1n)) & 1n;
    return { kind: quiet ? Kind.QNaN : Kind.SNaN, sign, mant: 0n, exp: 0 };
  }
  if (e === 0) {
    if (frac === 0n) return { kind: Kind.Zero, sign, mant: 0n, exp: 0 };
    return { kind: Kind.Finite, sign, mant: frac, exp: f.emin - (f.p - 1) };
  }
  return { kind: Kind.Finite, sign, mant: frac | (1n << fracBits), exp: e - f.bias - (f.p - 1) };
}

export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function signBit(sign: number, f: Fmt): bigint {
  return sign ? 1n << BigInt(f.bits - 1) : 0n;
}

function infBits(sign: number, f: Fmt): bigint {
  return signBit(sign, f) | (BigInt((1 << f.ebits) - 1) << BigInt(f.p - 1));
}

function maxFinite(sign: number, f: Fmt): bigint {
  return signBit(sign, f) | ((BigInt((1 << f.ebits) - 2) << BigInt(f.p - 1)) | ((1n << BigInt(f.p - 1)) - 1n));
}

/** Shift mant*2^exp to quantum 2^q and round per rm; returns the kept integer and whether anything was lost. */
function shiftRound(
  sign: number,
  mant: bigint,
  exp: number,
  sticky: boolean,
  q: number,
  rm: number,
): { kept: bigint; inexact: boolean } {
  const sh = q - exp;
  if (sh <= 0) {
    // exact at this quantum, except for a sticky tail below mant's last bit (callers keep >= 2 extra bits then)
    const kept = mant << BigInt(-sh);
    if (!sticky) return { kept, inexact: false };
    const up = (rm === RDN && sign === 1) || (rm === RUP && sign === 0);
    return { kept: up ? kept + 1n : kept, inexact: true };
  }
  const bsh = BigInt(sh);
  let kept = mant >> bsh;
  const rem = mant & ((1n << bsh) - 1n);
  const half = 1n << (bsh - 1n);
  const inexact = rem !== 0n || sticky;
  let up = false;
  switch (rm) {
    case RNE:
      up = rem > half || (rem === half && (sticky || (kept & 1n) === 1n));
      break;
    case RTZ:
      up = false;
      break;
    case RDN:
      up = sign === 1 && inexact;
      break;
    case RUP:
      up = sign === 0 && inexact;
      break;
    case RMM:
      up = rem >= half;
      break;
  }
  if (up) kept += 1n;
  return { kept, inexact };
}

/** Round (-1)^sign * (mant + sticky) * 2^exp to format f. mant > 0. */
export function roundPack(sign: number, mant: bigint, exp: number, sticky: boolean, f: Fmt, rm: number): SfResult {
  let flags = 0;
  const n = bitLength(mant);
  const E = exp + n - 1;
  const qMin = f.emin - (f.p - 1);
  const q = Math.max(E - (f.p - 1), qMin);
  const r = shiftRound(sign, mant, exp, sticky, q, rm);
  if (r.inexact) {
    flags |= NX;
    // tininess after rounding: round to p bits with an unbounded exponent range and compare with 2^emin
    if (E < f.emin + 1) {
      const u = shiftRound(sign, mant, exp, sticky, E - (f.p - 1), rm);
      const eU = E - (f.p - 1) + bitLength(u.kept) - 1;
      if (eU < f.emin) flags |= UF;
    }
  }
  let kept = r.kept;
  if (kept === 0n) return { bits: signBit(sign, f), flags };
  let nk = bitLength(kept);
  const E2 = q + nk - 1;
  if (E2 > f.emax) {
    flags |= OF | NX;
    const toMax = rm === RTZ || (rm === RDN && sign === 0) || (rm === RUP && sign === 1);
    return { bits: toMax ? maxFinite(sign, f) : infBits(sign, f), flags };
  }
  if (nk > f.p) {
    kept >>= 1n;
    nk--;
  }
  const fracMask = (1n << BigInt(f.p - 1)) - 1n;
  if (nk < f.p) return { bits: signBit(sign, f) | kept, flags }; // subnormal
  return { bits: signBit(sign, f) | (BigInt(E2 + f.bias) << BigInt(f.p - 1)) | (kept & fracMask), flags };
}

function nanResult(f: Fmt, ...ops: Unpacked[]): SfResult | undefined {
  let nan = false,
    snan = false;
  for (const o of ops) {
    if (o.kind === Kind.SNaN) snan = nan = true;
    else if (o.kind === Kind.QNaN) nan = true;
  }
  if (!nan) return undefined;
  return { bits: canonNaN(f), flags: snan ? NV : 0 };
}

/** Exact sum of two finite values (either may be zero), rounded. */
function addExact(
  sa: number,
  ma: bigint,
  ea: number,
  sb: number,
  mb: bigint,
  eb: number,
  f: Fmt,
  rm: number,
): SfResult {
  if (ma === 0n && mb === 0n) {
    const sign = sa === sb ? sa : rm === RDN ? 1 : 0;
    return { bits: signBit(sign, f), flags: 0 };
  }
  if (ma === 0n) return roundPack(sb, mb, eb, false, f, rm);
  if (mb === 0n) return roundPack(sa, ma, ea, false, f, rm);
  const e = Math.min(ea, eb);
  const A = (ma << BigInt(ea - e)) * (sa ? -1n : 1n);
  const B = (mb << BigInt(eb - e)) * (sb ? -1n : 1n);
  const s = A + B;
  if (s === 0n) return { bits: signBit(rm === RDN ? 1 : 0, f), flags: 0 };
  return roundPack(s < 0n ? 1 : 0, s < 0n ? -s : s, e, false, f, rm);
}

export function sfAdd(a: bigint, b: bigint, f: Fmt, rm: number, negB = false): SfResult {
  const A = unpack(a, f),
    B = unpack(b, f);
  const nan = nanResult(f, A, B);
  if (nan) return nan;
  if (negB) B.sign ^= 1;
  if (A.kind === Kind.Inf || B.kind === Kind.Inf) {
    if (A.kind === Kind.Inf && B.kind === Kind.Inf && A.sign !== B.sign) return { bits: canonNaN(f), flags: NV };
    return { bits: infBits(A.kind === Kind.Inf ? A.sign : B.sign, f), flags: 0 };
  }
  return addExact(A.sign, A.mant, A.exp, B.sign, B.mant, B.exp, f, rm);
}

export function sfMul(a: bigint, b: bigint, f: Fmt, rm: number): SfResult {
  const A = unpack(a, f),
    B = unpack(b, f);
  const nan = nanResult(f, A, B);
  if (nan) return nan;
  const sign = A.sign ^ B.sign;
  if (A.kind === Kind.Inf || B.kind === Kind.Inf) {
    if (A.kind === Kind.Zero || B.kind === Kind.Zero) return { bits: canonNaN(f), flags: NV };
    return { bits: infBits(sign, f), flags: 0 };
  }
  if (A.kind === Kind.Zero || B.kind === Kind.Zero) return { bits: signBit(sign, f), flags: 0 };
  return roundPack(sign, A.mant * B.mant, A.exp + B.exp, false, f, rm);
}

export function sfDiv(a: bigint, b: bigint, f: Fmt, rm: number): SfResult {
  const A = unpack(a, f),
    B = unpack(b, f);
  const nan = nanResult(f, A, B);
  if (nan) return nan;
  const sign = A.sign ^ B.sign;
  if (A.kind === Kind.Inf) {
    if (B.kind === Kind.Inf) return { bits: canonNaN(f), flags: NV };
    return { bits: infBits(sign, f), flags: 0 };
  }
  if (B.kind === Kind.Inf) return { bits: signBit(sign, f), flags: 0 };
  if (B.kind === Kind.Zero) {
    if (A.kind === Kind.Zero) return { bits: canonNaN(f), flags: NV };
    return { bits: infBits(sign, f), flags: DZ };
  }
  if (A.kind === Kind.Zero) return { bits: signBit(sign, f), flags: 0 };
  const k = Math.max(0, f.p + 3 + bitLength(B.mant) - bitLength(A.mant)) + 1;
  const num = A.mant << BigInt(k);
  const qt = num / B.mant;
  const rem = num - qt * B.mant;
  return roundPack(sign, qt, A.exp - B.exp - k, rem !== 0n, f, rm);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sfSqrt(a: bigint, f: Fmt, rm: number): SfResult {
  const A = unpack(a, f);
  const nan = nanResult(f, A);
  if (nan) return nan;
  if (A.kind === Kind.Zero) return { bits: a, flags: 0 };
  if (A.sign) return { bits: canonNaN(f), flags: NV };
  if (A.kind === Kind.Inf) return { bits: a, flags: 0 };
  let m = A.mant,
    e = A.exp;
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  const k = Math.max(0, Math.ceil((2 * (f.p + 3) - bitLength(m)) / 2)) + 1;
  const M = m << BigInt(2 * k);
  const r = isqrt(M);
  return roundPack(0, r, (e - 2 * k) / 2, r * r !== M, f, rm);
}

/** (a*b) + c with one rounding; negProd negates a*b, negC negates c (fmsub/fnmsub/fnmadd). */
export function sfFma(a: bigint, b: bigint, c: bigint, f: Fmt, rm: number, negProd: boolean, negC: boolean): SfResult {
  const A = unpack(a, f),
    B = unpack(b, f),
    C = unpack(c, f);
  const infTimesZero = (A.kind === Kind.Inf && B.kind === Kind.Zero) || (A.kind === Kind.Zero && B.kind === Kind.Inf);
  const nan = nanResult(f, A, B, C);
  if (nan) return infTimesZero ? { bits: nan.bits, flags: NV } : nan;
  if (infTimesZero) return { bits: canonNaN(f), flags: NV };
  const ps = A.sign ^ B.sign ^ (negProd ? 1 : 0);
  const cs = C.sign ^ (negC ? 1 : 0);
  if (A.kind === Kind.Inf || B.kind === Kind.Inf) {
    if (C.kind === Kind.Inf && cs !== ps) return { bits: canonNaN(f), flags: NV };
    return { bits: infBits(ps, f), flags: 0 };
  }
  if (C.kind === Kind.Inf) return { bits: infBits(cs, f), flags: 0 };
  const pm = A.mant * B.mant;
  return addExact(ps, pm, A.exp + B.exp, cs, C.mant, C.exp, f, rm);
}

/** Convert between formats (f32 <-> f64), rounding when narrowing. */
export function sfConvert(a: bigint, from: Fmt, to: Fmt, rm: number): SfResult {
  const A = unpack(a, from);
  const nan = nanResult(to, A);
  if (nan) return nan;
  if (A.kind === Kind.Inf) return { bits: infBits(A.sign, to), flags: 0 };
  if (A.kind === Kind.Zero) return { bits: signBit(A.sign, to), flags: 0 };
  return roundPack(A.sign, A.mant, A.exp, false, to, rm);
}

/** Signed integer value -> format. */
export function sfFromInt(v: bigint, f: Fmt, rm: number): SfResult {
  if (v === 0n) return { bits: 0n, flags: 0 };
  const sign = v < 0n ? 1 : 0;
  return roundPack(sign, sign ? -v : v, 0, false, f, rm);
}

/** Round a finite double to an integer per rm (exact: doubles hold every intermediate here). */
export function roundToInt(v: number, rm: number): number {
  switch (rm) {
    case RTZ:
      return Math.trunc(v);
    case RDN:
      return Math.floor(v);
    case RUP:
      return Math.ceil(v);
    case RMM: {
      const t = Math.trunc(v);
      const d = Math.abs(v - t);
      return d >= 0.5 ? t + Math.sign(v) : t;
    }
    default: {
      const fl = Math.floor(v);
      const d = v - fl;
      if (d > 0.5) return fl + 1;
      if (d < 0.5) return fl;
      return fl % 2 === 0 ? fl : fl + 1;
    }
  }
}

/** Classify bits per RISC-V fclass (one-hot 10-bit result). */
export function fclass(bits: bigint, f: Fmt): number {
  const u = unpack(bits, f);
  const s = u.sign;
  switch (u.kind) {
    case Kind.Inf:
      return s ? 1 << 0 : 1 << 7;
    case Kind.Zero:
      return s ? 1 << 3 : 1 << 4;
    case Kind.SNaN:
      return 1 << 8;
    case Kind.QNaN:
      return 1 << 9;
    default: {
      const sub = u.mant < 1n << BigInt(f.p - 1);
      return s ? (sub ? 1 << 2 : 1 << 1) : sub ? 1 << 5 : 1 << 6;
    }
  }
}
