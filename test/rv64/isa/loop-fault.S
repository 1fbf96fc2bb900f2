# A hot loop whose load eventually faults: the trap must be precise (mepc = the load, mtval = its address, earlier
# iterations complete) however the loop is executed (interpreted, or compiled into a block once hot).
#include "test.h"
TEST_BEGIN
  li a0, 0x80000000 + 320     # walks down from 40 doublewords above the start of RAM...
  li t1, 100
  li s7, 2                    # the fault continues in M-mode at 'done'
  la s8, done
loop:
  ld t0, 0(a0)                # ...until it reads 0x7ffffff8, below RAM: load access fault
  addi a0, a0, -8
  addi t1, t1, -1
  bnez t1, loop
  j fail
done:
  CHECK_TRAP(1, 5)
  la t0, loop
  li TESTNUM, 2
  bne s11, t0, fail
  CHECK_TVAL(3, 0x7ffffff8)
  CHECK(4, t1, 59)            # 41 iterations completed
  CHECK(5, a0, 0x7ffffff8)
  j pass
TEST_END
