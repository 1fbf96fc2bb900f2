# F and D: static and dynamic rounding modes, the five fflags, NaN boxing, canonical NaNs, FMA with one rounding,
# fclass, min/max, saturating conversions, reserved rounding modes, and FP instructions with mstatus.FS off.
#include "test.h"

#define LD(freg, bits) li t0, bits; fmv.d.x freg, t0
#define LS(freg, bits) li t0, bits; fmv.w.x freg, t0
#define CHECKD(n, freg, bits) fmv.x.d a0, freg; CHECK(n, a0, bits)
#define CHECKF(n, val) frflags a1; fsflags zero; CHECK(n, a1, val)

#define NX 1
#define UF 2
#define OF 4
#define DZ 8
#define NV 16

TEST_BEGIN
  fsflags zero
  LS(f1, 0x3f800000)          # 1.0f
  LS(f2, 0x40400000)          # 3.0f
  # 1/3 in every static rounding mode (single)
  fdiv.s f3, f1, f2, rne
  CHECKD(1, f3, 0xffffffff3eaaaaab)
  fdiv.s f3, f1, f2, rtz
  CHECKD(2, f3, 0xffffffff3eaaaaaa)
  fdiv.s f3, f1, f2, rdn
  CHECKD(3, f3, 0xffffffff3eaaaaaa)
  fdiv.s f3, f1, f2, rup
  CHECKD(4, f3, 0xffffffff3eaaaaab)
  fdiv.s f3, f1, f2, rmm
  CHECKD(5, f3, 0xffffffff3eaaaaab)
  CHECKF(6, NX)
  fneg.s f4, f1
  fdiv.s f3, f4, f2, rdn
  CHECKD(7, f3, 0xffffffffbeaaaaab)
  fdiv.s f3, f4, f2, rup
  CHECKD(8, f3, 0xffffffffbeaaaaaa)
  # dynamic rounding mode (double)
  LD(f5, 0x3ff0000000000000)
  LD(f6, 0x4008000000000000)
  fsrmi 3                     # RUP
  fdiv.d f7, f5, f6
  CHECKD(10, f7, 0x3fd5555555555556)
  fsrmi 1                     # RTZ
  fdiv.d f7, f5, f6
  CHECKD(11, f7, 0x3fd5555555555555)
  frrm a0
  CHECK(12, a0, 1)
  fsrmi 0
  CHECKF(13, NX)
  # ties in conversions: 2.5 and -2.5
  LD(f8, 0x4004000000000000)  # 2.5
  fcvt.w.d a0, f8, rne
  CHECK(20, a0, 2)
  fcvt.w.d a0, f8, rmm
  CHECK(21, a0, 3)
  fcvt.w.d a0, f8, rup
  CHECK(22, a0, 3)
  fcvt.w.d a0, f8, rdn
  CHECK(23, a0, 2)
  fneg.d f9, f8
  fcvt.w.d a0, f9, rne
  CHECK(24, a0, -2)
  fcvt.w.d a0, f9, rmm
  CHECK(25, a0, -3)
  fcvt.w.d a0, f9, rdn
  CHECK(26, a0, -3)
  fcvt.w.d a0, f9, rtz
  CHECK(27, a0, -2)
  CHECKF(28, NX)
  # exception flags
  LD(f10, 0)
  fdiv.d f11, f5, f10         # 1/0
  CHECKD(30, f11, 0x7ff0000000000000)
  CHECKF(31, DZ)
  fdiv.d f11, f10, f10        # 0/0
  CHECKD(32, f11, 0x7ff8000000000000)
  CHECKF(33, NV)
  LD(f12, 0x7fefffffffffffff) # DBL_MAX
  fadd.d f11, f12, f12
  CHECKD(34, f11, 0x7ff0000000000000)
  CHECKF(35, OF | NX)
  fadd.d f11, f12, f12, rtz   # overflow rounds to DBL_MAX toward zero
  CHECKD(36, f11, 0x7fefffffffffffff)
  CHECKF(37, OF | NX)
  LD(f13, 0x0010000000000000) # smallest normal
  fdiv.d f11, f13, f6         # tiny and inexact
  CHECKD(38, f11, 0x0005555555555555)
  CHECKF(39, UF | NX)
  LD(f14, 0x0000000000000003) # subnormal / 2 ... exact? no: 1.5 * 2^-1074 rounds to even (2)
  LD(f15, 0x4000000000000000)
  fdiv.d f11, f14, f15
  CHECKD(40, f11, 0x0000000000000002)
  CHECKF(41, UF | NX)
  fmul.d f11, f13, f5         # exact tiny result: no flags
  CHECKF(42, 0)
  fneg.d f16, f5
  fsqrt.d f11, f16            # sqrt(-1)
  CHECKD(43, f11, 0x7ff8000000000000)
  CHECKF(44, NV)
  LD(f31, 0x3c30000000000000) # 2^-60
  fadd.d f11, f5, f31         # 1 + 2^-60 rounds to 1: inexact (the common, fast path)
  CHECKD(47, f11, 0x3ff0000000000000)
  CHECKF(48, NX)
  fmul.d f11, f6, f6          # 9: exact
  CHECKF(49, 0)
  fmadd.d f11, f6, f6, f31    # 9 + 2^-60: inexact
  CHECKD(160, f11, 0x4022000000000000)
  CHECKF(161, NX)
  fsqrt.d f11, f6             # sqrt(3) rounded
  CHECKD(45, f11, 0x3ffbb67ae8584caa)
  CHECKF(46, NX)
  # canonical NaNs and signalling NaNs
  LD(f17, 0x7ff0000000000001) # sNaN
  fadd.d f11, f17, f5
  CHECKD(50, f11, 0x7ff8000000000000)
  CHECKF(51, NV)
  LD(f18, 0xfff8000000000123) # qNaN with payload and sign
  fadd.d f11, f18, f5
  CHECKD(52, f11, 0x7ff8000000000000)
  CHECKF(53, 0)
  fcvt.s.d f11, f18
  CHECKD(54, f11, 0xffffffff7fc00000)
  fcvt.d.s f11, f1
  CHECKD(55, f11, 0x3ff0000000000000)
  # NaN boxing
  LD(f19, 0x000000003f800000) # a single 1.0 without the box
  fadd.s f11, f19, f1         # reads as the canonical NaN
  CHECKD(56, f11, 0xffffffff7fc00000)
  CHECKF(57, 0)
  fsgnj.s f11, f19, f4        # unboxed rs1 -> canonical NaN, sign from rs2
  CHECKD(58, f11, 0xffffffffffc00000)
  fmv.x.w a0, f19             # moves the raw low bits, sign-extended
  CHECK(59, a0, 0x3f800000)
  la t1, fdata
  flw f11, 0(t1)
  CHECKD(60, f11, 0xffffffffc0490fdb)
  fsw f19, 8(t1)
  lw a0, 8(t1)
  CHECK(61, a0, 0x3f800000)
  # FMA: one rounding
  LD(f20, 0x3ff0000000000001) # 1 + 2^-52
  LD(f21, 0x3fefffffffffffff) # 1 - 2^-53
  LD(f22, 0xbff0000000000000) # -1
  fmadd.d f11, f20, f21, f22  # (1+2^-52)(1-2^-53) - 1 = 2^-53 - 2^-105: exact, though the product alone is not
  CHECKD(70, f11, 0x3c9ffffffffffffe)
  CHECKF(71, 0)
  LD(f23, 0x3feffffffffffffe) # 1 - 2^-52
  fmadd.d f11, f20, f23, f22  # (1+2^-52)(1-2^-52) - 1 = -2^-104 exactly (two roundings would give 0)
  CHECKD(72, f11, 0xb970000000000000)
  CHECKF(73, 0)
  fnmsub.d f11, f20, f23, f5  # -(a*b) + 1 = 2^-104
  CHECKD(74, f11, 0x3970000000000000)
  fmsub.d f11, f20, f23, f5   # a*b - 1
  CHECKD(75, f11, 0xb970000000000000)
  fnmadd.d f11, f20, f23, f22 # -(a*b) - (-1) = 2^-104
  CHECKD(76, f11, 0x3970000000000000)
  LS(f24, 0x3f800001)         # 1 + 2^-23
  LS(f25, 0x3f7ffffe)         # 1 - 2^-23
  LS(f26, 0xbf800000)
  fmadd.s f11, f24, f25, f26
  CHECKD(77, f11, 0xffffffffa8800000)
  LD(f27, 0x7ff0000000000000)
  LD(f28, 0x7ff8000000000000)
  fmadd.d f11, f27, f10, f28  # inf * 0 + qNaN: invalid
  CHECKD(78, f11, 0x7ff8000000000000)
  CHECKF(79, NV)
  # fclass
  LD(f29, 0xfff0000000000000)
  fclass.d a0, f29
  CHECK(80, a0, 1)
  fclass.d a0, f16
  CHECK(81, a0, 2)
  LD(f29, 0x8000000000000001)
  fclass.d a0, f29
  CHECK(82, a0, 4)
  LD(f29, 0x8000000000000000)
  fclass.d a0, f29
  CHECK(83, a0, 8)
  fclass.d a0, f10
  CHECK(84, a0, 16)
  fclass.d a0, f14
  CHECK(85, a0, 32)
  fclass.d a0, f5
  CHECK(86, a0, 64)
  fclass.d a0, f27
  CHECK(87, a0, 128)
  fclass.d a0, f17
  CHECK(88, a0, 256)
  fclass.d a0, f28
  CHECK(89, a0, 512)
  fclass.s a0, f19            # unboxed: canonical quiet NaN
  CHECK(90, a0, 512)
  LS(f29, 0xff800000)
  fclass.s a0, f29
  CHECK(91, a0, 1)
  # min / max
  LD(f29, 0x8000000000000000)
  fmin.d f11, f10, f29
  CHECKD(100, f11, 0x8000000000000000)
  fmax.d f11, f29, f10
  CHECKD(101, f11, 0)
  fmin.d f11, f28, f5         # one quiet NaN: the other operand, no flags
  CHECKD(102, f11, 0x3ff0000000000000)
  CHECKF(103, 0)
  fmax.d f11, f17, f5         # signalling NaN: the other operand, NV
  CHECKD(104, f11, 0x3ff0000000000000)
  CHECKF(105, NV)
  fmin.d f11, f28, f17        # both NaN: canonical
  CHECKD(106, f11, 0x7ff8000000000000)
  CHECKF(107, NV)
  feq.d a0, f28, f28          # quiet compare of qNaN: no flag
  CHECK(108, a0, 0)
  CHECKF(109, 0)
  flt.d a0, f28, f5           # signalling compare: NV
  CHECK(110, a0, 0)
  CHECKF(111, NV)
  fle.d a0, f29, f10          # -0 <= +0
  CHECK(112, a0, 1)
  # saturating conversions
  LD(f30, 0x4202a05f20000000) # 1e10
  fcvt.w.d a0, f30
  CHECK(120, a0, 0x7fffffff)
  CHECKF(121, NV)
  fneg.d f31, f30
  fcvt.w.d a0, f31
  CHECK(122, a0, 0xffffffff80000000)
  fcvt.wu.d a0, f16           # -1.0 -> 0
  CHECK(123, a0, 0)
  CHECKF(124, NV)
  LD(f31, 0xbfe0000000000000) # -0.5 rounds to -0: in range, inexact only
  fcvt.wu.d a0, f31, rtz
  CHECK(125, a0, 0)
  CHECKF(126, NX)
  LD(f31, 0x41efffffffe00000) # 4294967295.0
  fcvt.wu.d a0, f31           # the 32-bit result is sign-extended
  CHECK(127, a0, -1)
  CHECKF(128, 0)
  fcvt.l.d a0, f28            # NaN -> max
  CHECK(129, a0, 0x7fffffffffffffff)
  fcvt.lu.d a0, f27           # +inf -> max
  CHECK(130, a0, -1)
  fneg.d f31, f27
  fcvt.lu.d a0, f31           # -inf -> 0
  CHECK(131, a0, 0)
  fcvt.l.d a0, f31            # -inf -> min
  CHECK(132, a0, 0x8000000000000000)
  CHECKF(133, NV)
  fcvt.w.s a0, f19            # unboxed (NaN) -> max
  CHECK(134, a0, 0x7fffffff)
  CHECKF(135, NV)
  LD(f31, 0x43e0000000000000) # 2^63: out of range for l, in range for lu
  fcvt.l.d a0, f31
  CHECK(136, a0, 0x7fffffffffffffff)
  fcvt.lu.d a0, f31
  CHECK(137, a0, 0x8000000000000000)
  CHECKF(138, NV)
  li a2, 0x7fffffffffffffff
  fcvt.d.l f11, a2            # rounds up to 2^63
  CHECKD(139, f11, 0x43e0000000000000)
  CHECKF(140, NX)
  fcvt.d.l f11, a2, rtz
  CHECKD(141, f11, 0x43dfffffffffffff)
  li a2, -1
  fcvt.s.lu f11, a2, rtz
  CHECKD(142, f11, 0xffffffff5f7fffff)
  fcvt.s.wu f11, a2           # 0xffffffff rounds up to 2^32
  CHECKD(143, f11, 0xffffffff4f800000)
  CHECKF(144, NX)
  # reserved rounding modes are illegal (static 5, and dynamic with frm = 5)
  EXPECT_TRAP
  .word 0x02005053            # fadd.d f0, f0, f0 with rm = 5
  CHECK_TRAP(150, 2)
  fsrmi 5
  EXPECT_TRAP
  fadd.d f0, f0, f0           # dyn with an invalid frm
  CHECK_TRAP(151, 2)
  fsrmi 0
  # mstatus.FS = Off: FP instructions and FP CSRs are illegal
  li t0, MSTATUS_FS
  csrc mstatus, t0
  EXPECT_TRAP
  fadd.d f0, f1, f2
  CHECK_TRAP(152, 2)
  EXPECT_TRAP
  frflags a0
  CHECK_TRAP(153, 2)
  li t0, MSTATUS_FS
  csrs mstatus, t0
  # writing FP state marks mstatus.FS dirty and sets SD
  li t0, MSTATUS_FS
  csrc mstatus, t0
  li t0, (1 << 13)
  csrs mstatus, t0
  fmv.d.x f0, zero
  csrr a0, mstatus
  srli a1, a0, 13
  andi a1, a1, 3
  CHECK(154, a1, 3)
  bgez a0, fail
  j pass
TEST_END
  .data
  .align 3
fdata: .word 0xc0490fdb, 0, 0, 0
