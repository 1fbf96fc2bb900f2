# Sv39 (and Sv48): page-table walks, permission faults with the faulting address in mtval/stval, hardware-managed
# A/D bits, SUM and MXR, U/S execute rules, invalid and reserved PTEs, non-canonical addresses, misaligned
# superpages, page faults delegated to S-mode, and the same mappings through a 4-level Sv48 table.
#include "test.h"

#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
#define VA_BASE 0x40000000
#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

# pte(dst, physical label, flags) -> store at table + 8 * index
#define SET_PTE(table, index, target, flags) \
  la t0, target; srli t0, t0, 12; slli t0, t0, 10; ori t0, t0, flags; la t1, table; sd t0, (8 * index)(t1)

TEST_BEGIN
  # ---- build the tables (M-mode, physical addresses) ----
  # root[2]: 1 GiB identity leaf for 0x80000000 (this code, data, tohost)
  li t0, (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  la t1, root
  sd t0, 16(t1)
  # root[3]: a 1 GiB leaf whose PPN is not 1 GiB-aligned (misaligned superpage)
  li t0, (0x80001 << 10) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  sd t0, 24(t1)
  SET_PTE(root, 1, l1, PTE_V)                              # VA 0x40000000.. -> l1
  SET_PTE(l1, 0, l0, PTE_V)                                # -> l0
  SET_PTE(l0, 0, page0, PTE_V | PTE_R | PTE_W)             # A and D clear: hardware sets them
  SET_PTE(l0, 1, page1, PTE_V | PTE_R | PTE_A | PTE_D)     # read-only
  SET_PTE(l0, 2, page2, PTE_V | PTE_X | PTE_A)             # execute-only (holds a ret for fetch tests)
  SET_PTE(l0, 3, page3, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)  # user data
  SET_PTE(l0, 4, page4, 0)                                 # invalid
  SET_PTE(l0, 5, page5, PTE_V | PTE_W | PTE_A | PTE_D)     # W without R: reserved
  SET_PTE(l0, 6, ucode, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)  # user code
  SET_PTE(root48, 0, root, PTE_V)                          # Sv48: level 3 -> the Sv39 root
  # test data
  la t0, page0
  li t1, 0x1111
  sd t1, 0(t0)
  la t0, page2
  li t1, 0x8082               # c.ret
  sh t1, 0(t0)
  la t0, page3
  li t1, 0x3333
  sd t1, 0(t0)
  # ---- turn on Sv39 and go to S-mode ----
  la t0, root
  srli t0, t0, 12
  li t1, SATP_SV39
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  ENTER_MODE(MPP_S, s1)
s1:
  li a1, VA_BASE
  ld a0, 0(a1)                # page 0: A gets set
  CHECK(1, a0, 0x1111)
  BACK_TO_M(m1)
m1:
  la t0, l0
  ld a0, 0(t0)
  andi a1, a0, PTE_A | PTE_D
  CHECK(2, a1, PTE_A)
  ENTER_MODE(MPP_S, s2)
s2:
  li a1, VA_BASE
  li a2, 0x2222
  sd a2, 8(a1)                # store: D gets set
  BACK_TO_M(m2)
m2:
  la t0, l0
  ld a0, 0(t0)
  andi a1, a0, PTE_A | PTE_D
  CHECK(3, a1, PTE_A | PTE_D)
  la t0, page0
  ld a0, 8(t0)
  CHECK(4, a0, 0x2222)
  ENTER_MODE(MPP_S, s3)
s3:
  # store to a read-only page
  li a1, VA_BASE + 0x1008
  EXPECT_TRAP
  sd zero, 0(a1)
  CHECK_TRAP(10, 15)
  li TESTNUM, 11
  bne s10, a1, fail
  # load from an execute-only page: fault without MXR, allowed with MXR
  li a1, VA_BASE + 0x2000
  EXPECT_TRAP
  lhu a0, 0(a1)
  CHECK_TRAP(12, 13)
  li TESTNUM, 13
  bne s10, a1, fail
  BACK_TO_M(m3)
m3:
  li t0, MSTATUS_MXR
  csrs mstatus, t0
  ENTER_MODE(MPP_S, s4)
s4:
  li a1, VA_BASE + 0x2000
  lhu a0, 0(a1)
  CHECK(14, a0, 0x8082)
  # execute from the execute-only page works (c.ret back here)
  jalr a1
  # user page from S: fault without SUM
  li a1, VA_BASE + 0x3000
  EXPECT_TRAP
  ld a0, 0(a1)
  CHECK_TRAP(15, 13)
  BACK_TO_M(m4)
m4:
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  ENTER_MODE(MPP_S, s5)
s5:
  li a1, VA_BASE + 0x3000
  ld a0, 0(a1)                # SUM: allowed
  CHECK(16, a0, 0x3333)
  # S may never execute a user page, even with SUM
  li a1, VA_BASE + 0x6000
  li s7, 1
  la s8, s5_after
  jalr a1
s5_after:
  CHECK_TRAP(17, 12)
  li TESTNUM, 18
  bne s10, a1, fail
  # invalid PTE, reserved W-only PTE, non-canonical address, misaligned superpage
  li a1, VA_BASE + 0x4010
  EXPECT_TRAP
  ld a0, 0(a1)
  CHECK_TRAP(19, 13)
  li TESTNUM, 20
  bne s10, a1, fail
  li a1, VA_BASE + 0x5000
  EXPECT_TRAP
  sd zero, 0(a1)
  CHECK_TRAP(21, 15)
  li a1, 0x0000008000000000   # bit 39 set, bits 63..39 not all equal
  EXPECT_TRAP
  ld a0, 0(a1)
  CHECK_TRAP(22, 13)
  li TESTNUM, 23
  bne s10, a1, fail
  li a1, 0xC0000000
  EXPECT_TRAP
  ld a0, 0(a1)
  CHECK_TRAP(24, 13)
  BACK_TO_M(m5)
m5:
  # ---- U-mode: user code page, user data, no access to S pages ----
  la s2, m6                   # where U returns to M
  li a1, VA_BASE + 0x3000
  li a3, VA_BASE              # an S page
  la t0, u_after
  la t1, ucode
  sub t0, t0, t1
  li s8, VA_BASE + 0x6000
  add s8, s8, t0
  li s7, 1
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, VA_BASE + 0x6000
  csrw mepc, t0
  mret
m6:
  CHECK(30, a0, 0x3333)       # U read its own page
  CHECK(31, s5, 13)           # and took a load page fault on the S page
  # U fetching from an S page faults (mtval = the target)
  li s7, 2
  la s8, m7
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  la t0, m7
  csrw mepc, t0
  mret
m7:
  CHECK_TRAP(32, 12)
  la t0, m7
  li TESTNUM, 33
  bne s10, t0, fail
  # ---- a page fault delegated to S: stval holds the address ----
  la t0, s_handler
  csrw stvec, t0
  li t0, (1 << 13)
  csrw medeleg, t0
  ENTER_MODE(MPP_S, s6)
s6:
  li a1, VA_BASE + 0x4abc
  li s3, 0
  ld a0, 0(a1)
  CHECK(40, s3, 13)
  li TESTNUM, 41
  bne s4, a1, fail
  BACK_TO_M(m8)
m8:
  csrw medeleg, zero
  # ---- MPRV: M-mode loads and stores translated as if in MPP's mode (instruction fetch is not) ----
  li t0, MSTATUS_MPP
  csrc mstatus, t0            # MPP = U
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  li a1, VA_BASE + 0x3000
  ld a0, 0(a1)                # user page as U: fine
  CHECK(45, a0, 0x3333)
  li a1, VA_BASE
  EXPECT_TRAP
  ld a0, 0(a1)                # S page as U: load page fault, taken in M
  CHECK_TRAP(46, 13)
  li TESTNUM, 47
  bne s10, a1, fail
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  li a1, VA_BASE
  EXPECT_TRAP
  ld a0, 0(a1)                # MPRV off: M-mode is untranslated, and nothing is mapped at 0x40000000
  CHECK_TRAP(48, 5)
  # ---- Sv48 with the same mappings one level down ----
  la t0, root48
  srli t0, t0, 12
  li t1, SATP_SV48
  or t0, t0, t1
  csrw satp, t0
  csrr a0, satp
  srli a0, a0, 60
  li t1, 9
  bne a0, t1, skip48           # Sv48 not supported: skip
  sfence.vma
  ENTER_MODE(MPP_S, s7)
s7:
  li a1, VA_BASE + 0x3000
  ld a0, 0(a1)
  CHECK(50, a0, 0x3333)
  li a1, 0x0000800000000000   # bit 47 set: non-canonical in Sv48
  EXPECT_TRAP
  ld a0, 0(a1)
  CHECK_TRAP(51, 13)
  BACK_TO_M(skip48)
skip48:
  csrw satp, zero
  j pass

  .align 2
s_handler:
  csrr s3, scause
  csrr s4, stval
  csrr t6, sepc
  addi t6, t6, 4
  csrw sepc, t6
  sret

  # user code, mapped at VA_BASE + 0x6000 (position independent)
  .align 12
ucode:
  ld a0, 0(a1)                # user data: fine
  ld a2, 0(a3)                # S page: load page fault, resumes at u_after (s8)
u_after:
  mv s5, s9
  li s7, 2
  mv s8, s2
  ecall
  .align 12
TEST_END
  .data
  .align 12
root: .fill 512, 8, 0
l1: .fill 512, 8, 0
l0: .fill 512, 8, 0
root48: .fill 512, 8, 0
page0: .fill 512, 8, 0
page1: .fill 512, 8, 0
page2: .fill 512, 8, 0
page3: .fill 512, 8, 0
page4: .fill 512, 8, 0
page5: .fill 512, 8, 0
