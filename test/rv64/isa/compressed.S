# RVC: every RV64C instruction (explicit c.* mnemonics), checked against its effect, and the reserved/illegal
# encodings, each of which must raise an illegal-instruction exception (mtval 0 or the 16-bit encoding).
#include "test.h"

#define ILLEGAL16(n, enc)          \
  EXPECT_TRAP;                     \
  .hword enc;                      \
  CHECK_TRAP(n, 2);                \
  beqz s10, 9f;                    \
  li t6, enc;                      \
  bne s10, t6, fail;               \
9:

TEST_BEGIN
  c.li a0, -32
  CHECK(1, a0, -32)
  c.addi a0, 31
  CHECK(2, a0, -1)
  li a0, 0x7fffffff
  c.addiw a0, 1
  CHECK(3, a0, 0xffffffff80000000)
  c.lui a1, 0xfffe1
  CHECK(4, a1, 0xfffffffffffe1000)
  mv s1, sp
  c.addi16sp sp, -64
  sub t0, s1, sp
  CHECK(5, t0, 64)
  c.addi4spn a2, sp, 8
  addi t0, sp, 8
  li TESTNUM, 6
  bne a2, t0, fail
  c.addi16sp sp, 64
  li a3, 0x8000000000000001
  mv a4, a3
  c.slli a4, 4
  CHECK(7, a4, 0x10)
  mv a4, a3
  c.srli a4, 63
  CHECK(8, a4, 1)
  mv a4, a3
  c.srai a4, 1
  CHECK(9, a4, 0xc000000000000000)
  mv a4, a3
  c.andi a4, -2
  CHECK(10, a4, 0x8000000000000000)
  c.mv a5, a3
  CHECK(11, a5, 0x8000000000000001)
  c.add a5, a3
  CHECK(12, a5, 2)
  li a4, 3
  c.sub a5, a4
  CHECK(13, a5, -1)
  c.xor a5, a4
  CHECK(14, a5, -4)
  c.or a5, a4
  CHECK(15, a5, -1)
  c.and a5, a4
  CHECK(16, a5, 3)
  li a5, 0x80000000
  c.subw a5, a4
  CHECK(17, a5, 0x7ffffffd)
  li a5, 0x7fffffff
  c.addw a5, a4
  CHECK(18, a5, 0xffffffff80000002)
  # loads and stores
  la a0, data
  li a1, 0x1122334455667788
  c.sd a1, 8(a0)
  c.ld a2, 8(a0)
  CHECK(20, a2, 0x1122334455667788)
  c.sw a1, 4(a0)
  c.lw a2, 4(a0)
  CHECK(21, a2, 0x55667788)
  li a1, 0x80000000
  c.sw a1, 0(a0)
  c.lw a2, 0(a0)
  CHECK(22, a2, 0xffffffff80000000)
  addi sp, sp, -32
  li a1, 0x0102030405060708
  c.sdsp a1, 8(sp)
  c.ldsp a2, 8(sp)
  CHECK(23, a2, 0x0102030405060708)
  c.swsp a1, 20(sp)
  c.lwsp a2, 20(sp)
  CHECK(24, a2, 0x05060708)
  li a1, 0x400921fb54442d18
  fmv.d.x fa0, a1
  c.fsdsp fa0, 16(sp)
  c.fldsp fa1, 16(sp)
  fmv.x.d a2, fa1
  CHECK(25, a2, 0x400921fb54442d18)
  c.fsd fa0, 16(a0)
  c.fld fa2, 16(a0)
  fmv.x.d a2, fa2
  CHECK(26, a2, 0x400921fb54442d18)
  addi sp, sp, 32
  # control transfer
  li a0, 0
  c.beqz a0, 1f
  j fail
1: c.bnez a0, fail
  li a0, 1
  c.bnez a0, 2f
  j fail
2: c.beqz a0, fail
  c.j 3f
  j fail
3: la a0, 4f
  c.jr a0
  j fail
4: la a0, 5f
  c.jalr a0
6: j fail
5: la t0, 6b
  li TESTNUM, 30
  bne ra, t0, fail
  # c.ebreak
  EXPECT_TRAP
  c.ebreak
  CHECK_TRAP(31, 3)
  # reserved and illegal encodings
  ILLEGAL16(40, 0x0000)   # all zeros
  ILLEGAL16(41, 0x0004)   # c.addi4spn, nzuimm = 0
  ILLEGAL16(42, 0x4002)   # c.lwsp rd = 0
  ILLEGAL16(43, 0x6002)   # c.ldsp rd = 0
  ILLEGAL16(44, 0x8002)   # c.jr rs1 = 0
  ILLEGAL16(45, 0x6101)   # c.addi16sp, nzimm = 0
  ILLEGAL16(46, 0x6581)   # c.lui, nzimm = 0
  ILLEGAL16(47, 0x8000)   # reserved (quadrant 0, funct3 100)
  ILLEGAL16(48, 0x9c41)   # reserved (c.subw/c.addw space, funct2 10)
  ILLEGAL16(49, 0x9c61)   # reserved (funct2 11)
  ILLEGAL16(50, 0x2001)   # c.addiw rd = 0
  j pass
TEST_END
  .data
  .align 4
data: .fill 32, 1, 0
