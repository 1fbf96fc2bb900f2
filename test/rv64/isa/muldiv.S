# RV64M: products (low and high halves, signed/unsigned mixes) and division corner cases.
#include "test.h"
TEST_BEGIN
  li a1, 0x123456789abcdef1
  li a2, 0xfedcba9876543211
  mul a3, a1, a2
  CHECK(1, a3, 0x347e9a0f6729e001)
  mulhu a3, a1, a2
  CHECK(2, a3, 0x121fa00ad77d7423)
  mulh a3, a1, a2
  CHECK(3, a3, 0xffeb49923cc09532)
  mulhsu a3, a2, a1
  CHECK(4, a3, 0xffeb49923cc09532)
  li a1, -1
  mulhu a3, a1, a1
  CHECK(5, a3, 0xfffffffffffffffe)
  mulh a3, a1, a1
  CHECK(6, a3, 0)
  mulhsu a3, a1, a1
  CHECK(7, a3, -1)
  li a1, 0x80000000
  mulw a3, a1, a1
  CHECK(8, a3, 0)
  li a1, 0x10000
  mulw a3, a1, a1
  CHECK(9, a3, 0)
  li a1, 0x7fff
  li a2, 0x10001
  mulw a3, a1, a2
  CHECK(10, a3, 0x7fff7fff)
  # division
  li a1, -7
  li a2, 2
  div a3, a1, a2
  CHECK(20, a3, -3)
  rem a3, a1, a2
  CHECK(21, a3, -1)
  divu a3, a1, a2
  CHECK(22, a3, 0x7ffffffffffffffc)
  remu a3, a1, a2
  CHECK(23, a3, 1)
  div a3, a1, zero
  CHECK(24, a3, -1)
  rem a3, a1, zero
  CHECK(25, a3, -7)
  divu a3, a1, zero
  CHECK(26, a3, -1)
  remu a3, a1, zero
  CHECK(27, a3, -7)
  li a1, 0x8000000000000000
  li a2, -1
  div a3, a1, a2
  CHECK(28, a3, 0x8000000000000000)
  rem a3, a1, a2
  CHECK(29, a3, 0)
  li a1, 0xfffffffffffffff7
  li a2, 0x10000000000000
  divu a3, a1, a2
  CHECK(30, a3, 0xfff)
  remu a3, a1, a2
  CHECK(31, a3, 0xffffffffffff7)
  li a1, 0x7123456789abcdef
  li a2, 0x12345
  div a3, a1, a2
  CHECK(32, a3, 0x63702358dc90)
  rem a3, a1, a2
  CHECK(33, a3, 0xab1f)
  # 32-bit forms use only the low words and sign-extend
  li a1, 0x1ffffffff      # low word -1
  li a2, 0x100000002      # low word 2
  divw a3, a1, a2
  CHECK(40, a3, 0)
  remw a3, a1, a2
  CHECK(41, a3, -1)
  divuw a3, a1, a2
  CHECK(42, a3, 0x7fffffff)
  remuw a3, a1, a2
  CHECK(43, a3, 1)
  li a1, 0x80000000
  li a2, -1
  divw a3, a1, a2
  CHECK(44, a3, 0xffffffff80000000)
  remw a3, a1, a2
  CHECK(45, a3, 0)
  divuw a3, a1, zero
  CHECK(46, a3, -1)
  remuw a3, a1, zero
  CHECK(47, a3, 0xffffffff80000000)
  j pass
TEST_END
