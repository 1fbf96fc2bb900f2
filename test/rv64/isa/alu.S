# RV64I integer computation, upper immediates, branches and jumps (64-bit and 32-bit W forms).
#include "test.h"
TEST_BEGIN
  li a1, 0x7fffffffffffffff
  li a2, 1
  add a3, a1, a2
  CHECK(1, a3, 0x8000000000000000)
  sub a3, zero, a2
  CHECK(2, a3, -1)
  li a1, 0xffffffff
  addi a3, a1, 1
  CHECK(3, a3, 0x100000000)
  addi a3, zero, -2048
  CHECK(4, a3, -2048)
  li a1, 0x123456789abcdef0
  xori a3, a1, -1
  CHECK(5, a3, 0xedcba9876543210f)
  ori a3, a1, 0x0f
  CHECK(6, a3, 0x123456789abcdeff)
  andi a3, a1, -16
  CHECK(7, a3, 0x123456789abcdef0)
  slli a3, a1, 36
  CHECK(8, a3, 0xabcdef0000000000)
  srli a3, a1, 36
  CHECK(9, a3, 0x0000000001234567)
  li a1, 0x8000000000000000
  srai a3, a1, 63
  CHECK(10, a3, -1)
  srai a3, a1, 31
  CHECK(11, a3, 0xffffffff00000000)
  li a2, 65            # shift amounts use the low 6 bits
  sll a3, a2, a2
  CHECK(12, a3, 130)
  srl a3, a1, a2
  CHECK(13, a3, 0x4000000000000000)
  sra a3, a1, a2
  CHECK(14, a3, 0xc000000000000000)
  li a1, -1
  li a2, 1
  slt a3, a1, a2
  CHECK(15, a3, 1)
  sltu a3, a1, a2
  CHECK(16, a3, 0)
  slti a3, a1, 0
  CHECK(17, a3, 1)
  sltiu a3, a2, -1     # immediate sign-extends, then compares unsigned
  CHECK(18, a3, 1)
  # W forms: 32-bit result, sign-extended
  li a1, 0x7fffffff
  addiw a3, a1, 1
  CHECK(20, a3, 0xffffffff80000000)
  li a1, 0x00000001ffffffff
  addw a3, a1, zero
  CHECK(21, a3, -1)
  subw a3, zero, a1
  CHECK(22, a3, 1)
  li a1, 1
  slliw a3, a1, 31
  CHECK(23, a3, 0xffffffff80000000)
  li a1, 0xffffffff80000000
  srliw a3, a1, 4
  CHECK(24, a3, 0x08000000)
  sraiw a3, a1, 4
  CHECK(25, a3, 0xfffffffff8000000)
  li a2, 33            # W shifts use the low 5 bits
  sllw a3, a1, a2
  CHECK(26, a3, 0)
  srlw a3, a1, a2
  CHECK(27, a3, 0x40000000)
  sraw a3, a1, a2
  CHECK(28, a3, 0xffffffffc0000000)
  # upper immediates
  lui a3, 0x80000
  CHECK(30, a3, 0xffffffff80000000)
1: auipc a3, 0
  la a4, 1b
  li TESTNUM, 31
  bne a3, a4, fail
  # writes to x0 are discarded
  addi zero, zero, 5
  CHECK(32, zero, 0)
  # branches: signed and unsigned, taken and not taken
  li TESTNUM, 40
  li a1, -1
  li a2, 1
  blt a2, a1, fail
  bge a1, a2, fail
  bltu a1, a2, fail
  bgeu a2, a1, fail
  beq a1, a2, fail
  bne a1, a1, fail
  li TESTNUM, 41
  blt a1, a2, 2f
  j fail
2: bgeu a1, a2, 3f
  j fail
3: li a3, 0x100000000
  li a4, 0x200000000
  beq a3, a4, fail     # equal low words, different high words
  # jal / jalr link values and target alignment (bit 0 cleared)
  jal a5, 4f
5: j fail
4: la a6, 5b
  li TESTNUM, 42
  bne a5, a6, fail
  la a6, 6f
  addi a6, a6, 1
  jalr a5, 0(a6)
8: j fail
6: li TESTNUM, 43
  la a6, 8b
  bne a5, a6, fail
  # jalr with rd == rs1 uses the old value
  la a5, 7f
  jalr a5, 0(a5)
  j fail
7: j pass
TEST_END
