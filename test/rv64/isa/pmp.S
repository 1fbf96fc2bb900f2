# PMP: NAPOT, NA4 and TOR (with an OFF entry as its base) regions checked in S-mode (first matching entry wins, no match denies S/U), access faults
# with mtval, M-mode unaffected by unlocked entries, and locked entries that bind M-mode and ignore writes.
#include "test.h"
#define PMP_R 1
#define PMP_W 2
#define PMP_X 4
#define PMP_TOR (1 << 3)
#define PMP_NA4 (2 << 3)
#define PMP_NAPOT (3 << 3)
#define PMP_L 0x80

TEST_BEGIN
  # entry 0: NAPOT over 'ropage' (4 KiB), read-only
  la t0, ropage
  srli t0, t0, 2
  ori t0, t0, (4096 / 8 - 1)  # NAPOT: base/4 | (size/8 - 1)
  csrw pmpaddr0, t0
  # entry 1: NA4 over 'word', no permissions
  la t0, word
  srli t0, t0, 2
  csrw pmpaddr1, t0
  # entry 2 (off) and entry 3: TOR [pmpaddr2 = 0, 'limit'): everything below is RWX (code, data, tohost)
  csrw pmpaddr2, zero
  la t0, limit
  srli t0, t0, 2
  csrw pmpaddr3, t0
  li t0, (PMP_NAPOT | PMP_R) | ((PMP_NA4) << 8) | ((PMP_TOR | PMP_R | PMP_W | PMP_X) << 24)
  csrw pmpcfg0, t0
  csrr a0, pmpcfg0
  CHECK(1, a0, (PMP_NAPOT | PMP_R) | ((PMP_NA4) << 8) | ((PMP_TOR | PMP_R | PMP_W | PMP_X) << 24))
  ENTER_MODE(MPP_S, s1)
s1:
  la a1, ropage
  ld a0, 8(a1)                # readable
  CHECK(2, a0, 0x5555)
  addi a1, a1, 16
  EXPECT_TRAP
  sd zero, 0(a1)              # not writable: store access fault
  CHECK_TRAP(3, 7)
  li TESTNUM, 4
  bne s10, a1, fail
  la a1, word
  EXPECT_TRAP
  lw a0, 0(a1)                # NA4, no permissions
  CHECK_TRAP(5, 5)
  lw a0, 4(a1)                # the next word is outside the NA4 region (TOR: fine)
  CHECK(6, a0, 0x77)
  la a1, beyond
  EXPECT_TRAP
  ld a0, 0(a1)                # above the TOR limit: no entry matches, S-mode is denied
  CHECK_TRAP(7, 5)
  BACK_TO_M(m1)
m1:
  # M-mode ignores unlocked entries
  la a1, ropage
  li a0, 0x1234
  sd a0, 16(a1)
  ld a2, 16(a1)
  CHECK(10, a2, 0x1234)
  la a1, beyond
  ld a0, 0(a1)
  CHECK(11, a0, 0x99)
  # lock entry 0: now M-mode is bound by it, and writes to pmpcfg0's byte 0 / pmpaddr0 are ignored
  li t0, PMP_L
  csrs pmpcfg0, t0
  la a1, ropage
  EXPECT_TRAP
  sd zero, 24(a1)
  CHECK_TRAP(12, 7)
  csrr a3, pmpaddr0
  li t0, 0
  csrw pmpaddr0, t0
  csrr a4, pmpaddr0
  li TESTNUM, 13
  bne a3, a4, fail
  li t0, 0xff
  csrc pmpcfg0, t0
  csrr a0, pmpcfg0
  andi a0, a0, 0xff
  CHECK(14, a0, PMP_L | PMP_NAPOT | PMP_R)
  ld a0, 8(a1)                # still readable
  CHECK(15, a0, 0x5555)
  j pass
TEST_END
  .data
  .align 12
ropage:
  .dword 0, 0x5555
  .fill 4096 - 16, 1, 0
  .align 3
word: .word 0x66, 0x77
  .align 12
limit:
beyond: .dword 0x99
