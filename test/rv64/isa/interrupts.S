# Interrupts: CLINT software and timer interrupts, their priority (MSI before MTI), WFI idling until the timer,
# vectored mtvec, S-level interrupts delegated with mideleg (software and timer, taken in S with SIE), S-level
# interrupts not taken in M-mode, and M-level interrupts taken from S-mode even with mstatus.MIE clear.
#include "test.h"

#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)

TEST_BEGIN
  la t0, int_handler
  csrw mtvec, t0
  li s4, 0                    # log of interrupt causes, one byte each, newest in the low byte
  li s5, 0                    # interrupt count
  # ---- MSI and MTI both pending: MSI first ----
  li t0, MIP_MSIP | MIP_MTIP
  csrw mie, t0
  li t1, CLINT_MSIP
  li t0, 1
  sw t0, 0(t1)
  li t1, CLINT_MTIMECMP
  sd zero, 0(t1)              # mtime >= 0: MTIP pending
  csrsi mstatus, MSTATUS_MIE  # both are taken here, one after the other
  nop
  nop
  csrci mstatus, MSTATUS_MIE
  CHECK(1, s5, 2)
  CHECK(2, s4, 0x0307)
  # ---- WFI idles until the timer fires (MIE off: wakes up without a trap) ----
  li s4, 0
  li s5, 0
  li t1, CLINT_MTIME
  ld t2, 0(t1)
  addi t2, t2, 500
  li t1, CLINT_MTIMECMP
  sd t2, 0(t1)
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  CHECK(10, a0, 0)
  li t0, MIP_MTIP
  csrw mie, t0
1: wfi
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  beqz a0, 1b
  li t1, CLINT_MTIME
  ld t3, 0(t1)
  li TESTNUM, 11
  bltu t3, t2, fail           # time really reached mtimecmp
  CHECK(12, s5, 0)
  li t0, -1
  li t1, CLINT_MTIMECMP
  sd t0, 0(t1)
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  CHECK(13, a0, 0)
  # ---- vectored mtvec: cause 3 goes to base + 12 ----
  la t0, vectors
  ori t0, t0, 1
  csrw mtvec, t0
  li t0, MIP_MSIP
  csrw mie, t0
  li t1, CLINT_MSIP
  li t0, 1
  sw t0, 0(t1)
  li s6, 0
  csrsi mstatus, MSTATUS_MIE
  nop
  csrci mstatus, MSTATUS_MIE
  CHECK(20, s6, 1)
  CHECK(21, s5, 1)
  la t0, int_handler
  csrw mtvec, t0
  # ---- S-level software interrupt, delegated: not taken in M, taken in S with SIE ----
  la t0, s_handler
  csrw stvec, t0
  li t0, MIP_SSIP | MIP_STIP
  csrw mideleg, t0
  csrw mie, t0
  li s5, 0
  li s4, 0
  csrsi mip, MIP_SSIP
  csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
  nop                         # in M-mode: S-level interrupts are never taken
  CHECK(30, s5, 0)
  ENTER_MODE(MPP_S, in_s)
in_s:
  nop                         # SSIP is taken here (S-mode, SIE set)
  nop
  CHECK(31, s5, 1)
  CHECK(32, s4, 0x01)
  BACK_TO_M(m1)
m1:
  # STIP set by M, delegated, taken in S; SIE clear in S means it waits
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  li t0, MIP_STIP
  csrs mip, t0
  ENTER_MODE(MPP_S, in_s2)
in_s2:
  nop
  CHECK(40, s5, 1)            # not yet: SIE is clear
  csrsi sstatus, MSTATUS_SIE
  nop
  CHECK(41, s5, 2)
  CHECK(42, s4, 0x0105)
  csrci sstatus, MSTATUS_SIE
  BACK_TO_M(m2)
m2:
  csrw mideleg, zero
  # ---- an M-level interrupt is taken from S-mode even though mstatus.MIE is clear ----
  csrci mstatus, MSTATUS_MIE
  li t0, MIP_MSIP
  csrw mie, t0
  li s5, 0
  li t1, CLINT_MSIP
  li t0, 1
  sw t0, 0(t1)
  ENTER_MODE(MPP_S, in_s3)
in_s3:
  nop
  CHECK(50, s5, 1)
  BACK_TO_M(m3)
m3:
  csrw mie, zero
  j pass

  .align 2
int_handler:                  # M-mode interrupt handler: log the cause, silence its source
  csrr t5, mcause
  bltz t5, 2f
  li t6, 3                    # ecall with s7 = 3: S asks M to clear STIP
  bne s7, t6, trap_handler
  li s7, 0
  li t6, MIP_STIP
  csrc mip, t6
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret
2: andi t5, t5, 0xff
  slli s4, s4, 8
  or s4, s4, t5
  addi s5, s5, 1
  li t6, 3
  bne t5, t6, 1f
  li t6, CLINT_MSIP
  sw zero, 0(t6)
  mret
1: li t6, 7
  bne t5, t6, fail
  li t6, CLINT_MTIMECMP
  li t4, -1
  sd t4, 0(t6)
  mret

  .align 2
s_handler:                    # S-mode handler for delegated interrupts
  csrr t5, scause
  bgez t5, fail
  andi t5, t5, 0xff
  slli s4, s4, 8
  or s4, s4, t5
  addi s5, s5, 1
  li t6, MIP_SSIP | MIP_STIP
  csrc sip, t6                # SSIP is writable here; STIP is cleared by M below
  li t6, 5
  bne t5, t6, 1f
  li s7, 3                    # ask M (ecall from S) to clear STIP
  ecall
1: sret

  .align 6
  .option push
  .option norvc               # vector entries are 4 bytes apart
vectors:
  j fail                      # 0: exceptions
  j fail
  j fail
  j vec_msi                   # 3: machine software interrupt
  j fail
  j fail
  j fail
  j fail
vec_msi:
  li s6, 1
  j int_handler
  .option pop
TEST_END
