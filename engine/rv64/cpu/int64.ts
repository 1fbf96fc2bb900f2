// 64-bit integer helpers on (lo, hi) int32 pairs: multiplication and division for the M extension.
// Results are written to R (R[0] = lo, R[1] = hi). No allocation; BigInt only for division operands beyond 2^52.

export const R = new Int32Array(2);
const TWO32 = 4294967296;
const P = new Float64Array(2); // unsigned 32x32 -> 64 product: P[0] low 32 (unsigned), P[1] high 32 (unsigned)

function mulu32(a: number, b: number): void {
  const a0 = a & 0xffff,
    a1 = a >>> 16,
    b0 = b & 0xffff,
    b1 = b >>> 16;
  const p00 = a0 * b0,
    p01 = a0 * b1,
    p10 = a1 * b0,
    p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  P[0] = (mid & 0xffff) * 65536 + (p00 & 0xffff);
  P[1] = p11 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 65536);
}

/** Low 64 bits of a*b. */
export function mul64(al: number, ah: number, bl: number, bh: number): void {
  mulu32(al >>> 0, bl >>> 0);
  R[0] = P[0]! | 0;
  R[1] = (P[1]! + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

/** High 64 bits of the unsigned 128-bit product. */
export function mulhu64(al: number, ah: number, bl: number, bh: number): void {
  mulu32(al >>> 0, bl >>> 0);
  const llHi = P[1]!;
  mulu32(al >>> 0, bh >>> 0);
  const lhLo = P[0]!,
    lhHi = P[1]!;
  mulu32(ah >>> 0, bl >>> 0);
  const hlLo = P[0]!,
    hlHi = P[1]!;
  mulu32(ah >>> 0, bh >>> 0);
  const hhLo = P[0]!,
    hhHi = P[1]!;
  const t = llHi + lhLo + hlLo; // < 3 * 2^32, exact
  const carry1 = Math.floor(t / TWO32);
  const u = hhLo + lhHi + hlHi + carry1; // < 4 * 2^32
  const carry2 = Math.floor(u / TWO32);
  R[0] = u | 0;
  R[1] = (hhHi + carry2) | 0;
}

/** High 64 bits of signed x signed (su: signed a x unsigned b). */
export function mulh64(al: number, ah: number, bl: number, bh: number, su: boolean): void {
  mulhu64(al, ah, bl, bh);
  let lo = R[0]!,
    hi = R[1]!;
  if (ah < 0) {
    // subtract b
    const nlo = (lo - bl) | 0;
    hi = (hi - bh - (lo >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  if (!su && bh < 0) {
    // subtract a
    const nlo = (lo - al) | 0;
    hi = (hi - ah - (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  R[0] = lo;
  R[1] = hi;
}

function toBig(lo: number, hi: number, signed: boolean): bigint {
  return ((signed ? BigInt(hi | 0) : BigInt(hi >>> 0)) << 32n) | BigInt(lo >>> 0);
}
function fromBig(v: bigint): void {
  R[0] = Number(BigInt.asIntN(32, v));
  R[1] = Number(BigInt.asIntN(32, v >> 32n));
}
function setNum(v: number): void {
  const h = Math.floor(v / TWO32);
  R[0] = (v - h * TWO32) | 0;
  R[1] = h | 0;
}

/** Signed (or unsigned) 64-bit division; rem selects the remainder. RISC-V semantics for /0 and overflow. */
export function div64(al: number, ah: number, bl: number, bh: number, signed: boolean, rem: boolean): void {
  if (bl === 0 && bh === 0) {
    if (rem) {
      R[0] = al;
      R[1] = ah;
    } else {
      R[0] = -1;
      R[1] = -1;
    }
    return;
  }
  if (signed && ah === -0x80000000 && al === 0 && bl === -1 && bh === -1) {
    if (rem) {
      R[0] = 0;
      R[1] = 0;
    } else {
      R[0] = al;
      R[1] = ah;
    }
    return;
  }
  const fast = signed
    ? ah >= -0x100000 && ah < 0x100000 && bh >= -0x100000 && bh < 0x100000
    : ah >>> 0 < 0x100000 && bh >>> 0 < 0x100000;
  if (fast) {
    const a = (signed ? ah : ah >>> 0) * TWO32 + (al >>> 0);
    const b = (signed ? bh : bh >>> 0) * TWO32 + (bl >>> 0);
    let q = Math.trunc(a / b);
    let r = a - q * b;
    // correct a possible off-by-one from the rounded quotient
    const sq = Math.sign(a) * Math.sign(b);
    if (r !== 0 && Math.sign(r) !== Math.sign(a)) {
      q -= sq;
      r = a - q * b;
    }
    if (Math.abs(r) >= Math.abs(b)) {
      q += sq;
      r = a - q * b;
    }
    setNum(rem ? r : q);
    return;
  }
  const A = toBig(al, ah, signed),
    B = toBig(bl, bh, signed);
  fromBig(rem ? A % B : A / B);
}

/** 32-bit division (DIVW etc.), sign-extended result in R. */
export function div32(a: number, b: number, signed: boolean, rem: boolean): void {
  let v: number;
  if (b === 0) v = rem ? a : -1;
  else if (signed) {
    if (a === -0x80000000 && b === -1) v = rem ? 0 : a;
    else v = rem ? a % b : (a / b) | 0;
  } else {
    const ua = a >>> 0,
      ub = b >>> 0;
    v = rem ? ua % ub : Math.floor(ua / ub);
  }
  R[0] = v | 0;
  R[1] = (v | 0) >> 31;
}
