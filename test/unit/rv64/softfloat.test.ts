// FPU rounding: hand-derived vectors for every rounding mode, flags (tininess after rounding), FMA's single rounding,
// and the fast host-double path checked against the exact integer-significand path on many operands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fpu } from '../../../engine/rv64/cpu/fpu';
import {
  F32,
  F64,
  NV,
  NX,
  OF,
  RDN,
  RMM,
  RNE,
  RTZ,
  RUP,
  UF,
  DZ,
  sfAdd,
  sfConvert,
  sfDiv,
  sfFma,
  sfMul,
  sfSqrt,
} from '../../../engine/rv64/cpu/softfloat';

const ONE32 = 0x3f800000n,
  THREE32 = 0x40400000n;
const ONE = 0x3ff0000000000000n,
  DBL_MAX = 0x7fefffffffffffffn,
  MIN_NORMAL = 0x0010000000000000n;

describe('softfloat: exact rounding', () => {
  it('1/3 in single precision, every rounding mode', () => {
    const want: [number, bigint][] = [
      [RNE, 0x3eaaaaabn],
      [RTZ, 0x3eaaaaaan],
      [RDN, 0x3eaaaaaan],
      [RUP, 0x3eaaaaabn],
      [RMM, 0x3eaaaaabn],
    ];
    for (const [rm, bits] of want) assert.deepEqual(sfDiv(ONE32, THREE32, F32, rm), { bits, flags: NX }, `rm ${rm}`);
    // negative: RDN rounds away from zero, RUP toward it
    assert.equal(sfDiv(ONE32 | 0x80000000n, THREE32, F32, RDN).bits, 0xbeaaaaabn);
    assert.equal(sfDiv(ONE32 | 0x80000000n, THREE32, F32, RUP).bits, 0xbeaaaaaan);
  });
  it('sqrt(2) in double precision: the round-to-nearest result lies above the true value', () => {
    const two = 0x4000000000000000n;
    assert.equal(sfSqrt(two, F64, RNE).bits, 0x3ff6a09e667f3bcdn);
    assert.equal(sfSqrt(two, F64, RUP).bits, 0x3ff6a09e667f3bcdn);
    assert.equal(sfSqrt(two, F64, RDN).bits, 0x3ff6a09e667f3bccn);
    assert.equal(sfSqrt(two, F64, RTZ).bits, 0x3ff6a09e667f3bccn);
    assert.equal(sfSqrt(0x4010000000000000n, F64, RNE).flags, 0); // sqrt(4) = 2 exactly
  });
  it('ties: RNE to even, RMM away from zero', () => {
    // 1 + 2^-53 is halfway between 1 and 1 + 2^-52 (exact sum of 1 and 2^-53)
    const tiny = 0x3ca0000000000000n; // 2^-53
    assert.equal(sfAdd(ONE, tiny, F64, RNE).bits, ONE);
    assert.equal(sfAdd(ONE, tiny, F64, RMM).bits, ONE + 1n);
    assert.equal(sfAdd(ONE, tiny, F64, RUP).bits, ONE + 1n);
    assert.equal(sfAdd(ONE, tiny, F64, RTZ).bits, ONE);
  });
  it('overflow: infinity or the largest finite number depending on the mode', () => {
    assert.deepEqual(sfAdd(DBL_MAX, DBL_MAX, F64, RNE), { bits: 0x7ff0000000000000n, flags: OF | NX });
    assert.deepEqual(sfAdd(DBL_MAX, DBL_MAX, F64, RTZ), { bits: DBL_MAX, flags: OF | NX });
    assert.equal(sfAdd(DBL_MAX | (1n << 63n), DBL_MAX | (1n << 63n), F64, RUP).bits, DBL_MAX | (1n << 63n));
    assert.equal(sfAdd(DBL_MAX | (1n << 63n), DBL_MAX | (1n << 63n), F64, RDN).bits, 0xfff0000000000000n);
  });
  it('underflow is signalled only for tiny and inexact results, tininess detected after rounding', () => {
    assert.deepEqual(sfDiv(MIN_NORMAL, 0x4008000000000000n, F64, RNE), { bits: 0x0005555555555555n, flags: UF | NX });
    // (1 - 2^-24) * 2^-126 -> f32: rounds to 2^-126 in the subnormal grid, but is tiny after rounding: UF
    const a = 0x380fffffe0000000n; // double (1 - 2^-24) * 2^-126
    assert.deepEqual(sfConvert(a, F64, F32, RNE), { bits: 0x00800000n, flags: UF | NX });
    // (1 - 2^-25) * 2^-126 rounds (with unbounded exponent) to 2^-126 itself: not tiny, no UF
    const b = 0x380ffffff0000000n;
    assert.deepEqual(sfConvert(b, F64, F32, RNE), { bits: 0x00800000n, flags: NX });
    // exact subnormal result: no flags at all
    assert.deepEqual(sfMul(MIN_NORMAL, 0x3fe0000000000000n, F64, RNE), { bits: 0x0008000000000000n, flags: 0 });
  });
  it('FMA rounds once', () => {
    const a = 0x3ff0000000000001n,
      b = 0x3feffffffffffffen,
      m1 = 0xbff0000000000000n;
    assert.deepEqual(sfFma(a, b, m1, F64, RNE, false, false), { bits: 0xb970000000000000n, flags: 0 });
    // a separate multiply then add would lose it
    const p = sfMul(a, b, F64, RNE).bits;
    assert.equal(sfAdd(p, m1, F64, RNE).bits, 0n);
    assert.deepEqual(sfFma(0x7ff0000000000000n, 0n, 0x7ff8000000000000n, F64, RNE, false, false), {
      bits: 0x7ff8000000000000n,
      flags: NV,
    });
  });
  it('special operands: canonical NaN, signalling NaN, division by zero, zero signs', () => {
    assert.deepEqual(sfAdd(0x7ff0000000000001n, ONE, F64, RNE), { bits: 0x7ff8000000000000n, flags: NV });
    assert.deepEqual(sfAdd(0xfff8000000000123n, ONE, F64, RNE), { bits: 0x7ff8000000000000n, flags: 0 });
    assert.deepEqual(sfDiv(ONE, 0n, F64, RNE), { bits: 0x7ff0000000000000n, flags: DZ });
    assert.deepEqual(sfDiv(0n, 0n, F64, RNE), { bits: 0x7ff8000000000000n, flags: NV });
    assert.equal(sfAdd(ONE, ONE | (1n << 63n), F64, RNE).bits, 0n);
    assert.equal(sfAdd(ONE, ONE | (1n << 63n), F64, RDN).bits, 1n << 63n);
    assert.deepEqual(sfSqrt(0xbff0000000000000n, F64, RNE), { bits: 0x7ff8000000000000n, flags: NV });
  });
});

describe('FPU fast path agrees with the exact path', () => {
  let seed = 0x243f6a8885a308d3n;
  function rnd(): bigint {
    seed ^= (seed << 13n) & 0xffffffffffffffffn;
    seed ^= seed >> 7n;
    seed ^= (seed << 17n) & 0xffffffffffffffffn;
    return seed;
  }
  function operand64(): bigint {
    const r = rnd();
    const kind = Number(r & 7n);
    const sign = r & (1n << 63n),
      frac = (r >> 3n) & ((1n << 52n) - 1n);
    const exps = [0n, 1n, 0x7fen, 0x3ffn, 0x3fen, 0x200n, 0x600n, BigInt(Number((r >> 55n) & 0x7ffn))];
    return sign | (exps[kind]! << 52n) | frac;
  }
  function check(
    name: string,
    fast: (f: Fpu) => void,
    slow: (a: bigint, b: bigint, c: bigint) => { bits: bigint; flags: number },
    gen: () => bigint = operand64,
    single = false,
  ): void {
    const f = new Fpu();
    for (let i = 0; i < 20000; i++) {
      const a = gen(),
        b = gen();
      // c: random; the negated rounded product (massive cancellation: the result is the product's rounding error);
      // or a value near 1
      const fmt = single ? F32 : F64,
        signBit = single ? 0x80000000n : 1n << 63n;
      const c =
        i % 3 === 0
          ? gen()
          : i % 3 === 1
            ? sfMul(a, b, fmt, RNE).bits ^ signBit
            : (((a * 7n) ^ b) & (single ? 0x807fffffn : 0x800fffffffffffffn)) |
              (single ? 0x3f000000n : 0x3fe0000000000000n);
      for (const [k, v] of [
        [2, a],
        [4, b],
        [6, c],
      ] as const) {
        f.I[k] = Number(v & 0xffffffffn) | 0;
        f.I[k + 1] = single ? -1 : Number(v >> 32n) | 0;
      }
      f.flags = 0;
      fast(f);
      const got = single ? BigInt(f.I[0]! >>> 0) : (BigInt(f.I[1]! >>> 0) << 32n) | BigInt(f.I[0]! >>> 0);
      const want = slow(a, b, c);
      if (got !== want.bits || f.flags !== want.flags) {
        assert.fail(
          `${name}(${a.toString(16)}, ${b.toString(16)}, ${c.toString(16)}): fast ${got.toString(16)}/${f.flags}, exact ${want.bits.toString(16)}/${want.flags}`,
        );
      }
    }
  }
  function operand32(): bigint {
    const r = rnd();
    const kind = Number(r & 7n);
    const sign = r & 0x80000000n,
      frac = (r >> 8n) & 0x7fffffn;
    const exps = [0n, 1n, 0xfen, 0x7fn, 0x7en, 0x40n, 0xa0n, (r >> 40n) & 0xffn];
    return sign | (exps[kind]! << 23n) | frac;
  }
  it('fadd.d', () =>
    check(
      'add',
      (f) => f.addD(0, 2, 4, RNE, false),
      (a, b) => sfAdd(a, b, F64, RNE),
    ));
  it('fsub.d', () =>
    check(
      'sub',
      (f) => f.addD(0, 2, 4, RNE, true),
      (a, b) => sfAdd(a, b, F64, RNE, true),
    ));
  it('fmul.d', () =>
    check(
      'mul',
      (f) => f.mulD(0, 2, 4, RNE),
      (a, b) => sfMul(a, b, F64, RNE),
    ));
  it('fdiv.d', () =>
    check(
      'div',
      (f) => f.divD(0, 2, 4, RNE),
      (a, b) => sfDiv(a, b, F64, RNE),
    ));
  it('fsqrt.d', () =>
    check(
      'sqrt',
      (f) => f.sqrtD(0, 2, RNE),
      (a) => sfSqrt(a, F64, RNE),
    ));
  it('fmadd.d and fnmsub.d', () => {
    check(
      'fmadd.d',
      (f) => f.fma(0, 2, 4, 6, RNE, 0, true),
      (a, b, c) => sfFma(a, b, c, F64, RNE, false, false),
    );
    check(
      'fnmsub.d',
      (f) => f.fma(0, 2, 4, 6, RNE, 2, true),
      (a, b, c) => sfFma(a, b, c, F64, RNE, true, false),
    );
  });
  it('fmadd.s and fmsub.s', () => {
    check(
      'fmadd.s',
      (f) => f.fma(0, 2, 4, 6, RNE, 0, false),
      (a, b, c) => sfFma(a, b, c, F32, RNE, false, false),
      operand32,
      true,
    );
    check(
      'fmsub.s',
      (f) => f.fma(0, 2, 4, 6, RNE, 1, false),
      (a, b, c) => sfFma(a, b, c, F32, RNE, false, true),
      operand32,
      true,
    );
  });
});
