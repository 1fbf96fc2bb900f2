# Instruction fetch and the decode cache: a 32-bit instruction straddling a page boundary, self-modifying code made
# visible by fence.i (in another page and in the executing page), and under Sv39 a straddling instruction whose
# second half is unmapped (fetch page fault: mepc = the instruction, mtval = the unmapped half's address).
#include "test.h"
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_A 64
#define PTE_D 128

TEST_BEGIN
  # ---- straddling instruction, bare mode ----
  li a0, 0
  call straddle
  CHECK(1, a0, 0x123)
  # ---- self-modifying code in another page ----
  la t0, patch_me
  call patch_me
  CHECK(2, a0, 1)
  li t1, 0x00200513           # addi a0, zero, 2
  sw t1, 0(t0)
  fence.i
  call patch_me
  CHECK(3, a0, 2)
  li t1, 0x00300513           # addi a0, zero, 3
  sw t1, 0(t0)
  fence.i
  call patch_me
  CHECK(4, a0, 3)
  # ---- self-modifying code in the executing page ----
  la t0, here
  li t1, 0x00700513           # addi a0, zero, 7
  sw t1, 0(t0)
  fence.i
here:
  addi a0, zero, 5
  CHECK(5, a0, 7)
  # ---- Sv39: the straddling instruction's second half is on an unmapped page ----
  # root[2]: identity gigapage for the code; root[1] -> l1 -> l0: VA 0x40000000 -> code page 'xpage', 0x40001000 unmapped
  li t0, (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  la t1, root
  sd t0, 16(t1)
  la t0, l1
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V
  sd t0, 8(t1)
  la t0, l0
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V
  la t1, l1
  sd t0, 0(t1)
  la t0, xpage
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V | PTE_R | PTE_X | PTE_A
  la t1, l0
  sd t0, 0(t1)
  la t0, root
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  li s7, 2                    # the fetch fault continues in M at m1
  la s8, m1
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MPP_S
  csrs mstatus, t0
  li t0, 0x40000000 + 4094    # the straddling instruction in xpage, seen through VA 0x40000000
  csrw mepc, t0
  mret
m1:
  CHECK_TRAP(10, 12)
  CHECK_TVAL(11, 0x40001000)
  li TESTNUM, 12
  li t0, 0x40000000 + 4094
  bne s11, t0, fail
  csrw satp, zero
  j pass
TEST_END

  .text
  .align 12
  .fill 4094 - 2, 1, 0
  .option push
  .option norvc
  .hword 0x0001               # c.nop at offset 4092
straddle:                     # offset 4094: addi a0, a0, 0x123 straddles into the next page
  addi a0, a0, 0x123
  ret
  .align 12
patch_me:
  addi a0, zero, 1
  ret
  .option pop
  .align 12
xpage:
  .fill 4094, 1, 0
  .hword 0x0513               # low half of a 32-bit instruction; the high half would be on the next page
  .data
  .align 12
root: .fill 512, 8, 0
l1: .fill 512, 8, 0
l0: .fill 512, 8, 0
