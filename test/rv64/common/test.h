// Macros for kwb's rv64 assembly ISA tests. Each test starts in M-mode at _start, checks its own results and reports
// through HTIF tohost (1 = pass, (n << 1) | 1 = check n failed), the riscv-tests convention kwb and QEMU both read.
//
// Register conventions: gp = number of the current check; s7 = trap expectation (0: a trap fails the test,
// 1: record it and resume, 2: record it and continue in M-mode at s8); s8 = resume address (0: the instruction after
// the trapping one); after a trap, s9 = mcause, s10 = mtval, s11 = mepc.
#define TESTNUM gp

#define MSTATUS_SIE  (1 << 1)
#define MSTATUS_MIE  (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP  (1 << 8)
#define MSTATUS_MPP  (3 << 11)
#define MSTATUS_FS   (3 << 13)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM  (1 << 18)
#define MSTATUS_MXR  (1 << 19)
#define MSTATUS_TVM  (1 << 20)
#define MSTATUS_TW   (1 << 21)
#define MSTATUS_TSR  (1 << 22)
#define MPP_S (1 << 11)
#define MPP_U 0
#define INT_BIT (1 << 63)
#define CLINT_MSIP     0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME    0x200bff8

// check that register \reg holds \val (any 64-bit constant)
#define CHECK(n, reg, val) li TESTNUM, n; li t6, val; bne reg, t6, fail
// check the recorded trap cause and, optionally, its trap value
#define CHECK_TRAP(n, cause) li TESTNUM, n; li t6, cause; bne s9, t6, fail
#define CHECK_TVAL(n, val) li TESTNUM, n; li t6, val; bne s10, t6, fail
// expect the next instruction to trap (resume after it)
#define EXPECT_TRAP li s7, 1; li s9, -1
// run \label in a lower privilege mode (mpp = MPP_S or MPP_U) with the given mstatus bits cleared first
#define ENTER_MODE(mpp, label) li t0, MSTATUS_MPP; csrc mstatus, t0; li t0, mpp; csrs mstatus, t0; la t0, label; csrw mepc, t0; mret
// from any mode: ecall back to M-mode, continuing at \label
#define BACK_TO_M(label) li s7, 2; la s8, label; ecall

#define TEST_BEGIN                     \
  .section .text.init;                 \
  .globl _start;                       \
_start:                                \
  la t0, trap_handler;                 \
  csrw mtvec, t0;                      \
  li t0, MSTATUS_FS;                   \
  csrs mstatus, t0;                    \
  csrwi fcsr, 0;                       \
  /* let S/U-mode touch all of memory (PMP NAPOT, RWX) */ \
  li t0, -1;                           \
  csrw pmpaddr0, t0;                   \
  li t0, 0x1f;                         \
  csrw pmpcfg0, t0;                    \
  la sp, _stack_top;                   \
  li s7, 0;                            \
  li s8, 0;                            \
  li TESTNUM, 0;

#define TEST_END                       \
pass:                                  \
  li a0, 1;                            \
  j report;                            \
fail:                                  \
  slli a0, TESTNUM, 1;                 \
  ori a0, a0, 1;                       \
report:                                \
  la t0, tohost;                       \
  sd a0, 0(t0);                        \
1: j 1b;                               \
  .align 2;                            \
trap_handler:                          \
  csrr s9, mcause;                     \
  csrr s10, mtval;                     \
  csrr s11, mepc;                      \
  beqz s7, fail;                       \
  li t6, 2;                            \
  beq s7, t6, 3f;                      \
  li s7, 0;                            \
  bnez s8, 2f;                         \
  bltz s9, 4f;                         \
  lhu t6, 0(s11);                      \
  andi t6, t6, 3;                      \
  addi t5, s11, 2;                     \
  li t4, 3;                            \
  bne t6, t4, 5f;                      \
  addi t5, t5, 2;                      \
5: csrw mepc, t5;                      \
4: mret;                               \
2: csrw mepc, s8;                      \
  li s8, 0;                            \
  mret;                                \
3: li s7, 0;                           \
  mv t6, s8;                           \
  li s8, 0;                            \
  jr t6;                               \
  .section .tohost, "aw", @progbits;   \
  .align 6;                            \
  .globl tohost;                       \
tohost: .dword 0;                      \
  .size tohost, 8;                     \
  .type tohost, @object;               \
  .align 6;                            \
  .globl fromhost;                     \
fromhost: .dword 0;                    \
  .size fromhost, 8;                   \
  .type fromhost, @object;
