# C runtime for S-mode test programs under kwb's built-in SBI: stack, bss, a trap vector that calls trap(scause)
# with the caller-saved registers preserved, main(), then an SBI system reset (shutdown).
  .section .text.init
  .globl _start
_start:
  la sp, _stack_top
  la t0, __bss_start
  la t1, _stack_top
1: bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2: la t0, trap_entry
  csrw stvec, t0
  call main
  li a7, 0x53525354         # SRST: shutdown
  li a6, 0
  li a0, 0
  li a1, 0
  ecall
3: j 3b

  .align 2
trap_entry:
  addi sp, sp, -128
  sd ra, 0(sp)
  sd t0, 8(sp)
  sd t1, 16(sp)
  sd t2, 24(sp)
  sd a0, 32(sp)
  sd a1, 40(sp)
  sd a2, 48(sp)
  sd a3, 56(sp)
  sd a4, 64(sp)
  sd a5, 72(sp)
  sd a6, 80(sp)
  sd a7, 88(sp)
  sd t3, 96(sp)
  sd t4, 104(sp)
  sd t5, 112(sp)
  sd t6, 120(sp)
  csrr a0, scause
  call trap
  ld ra, 0(sp)
  ld t0, 8(sp)
  ld t1, 16(sp)
  ld t2, 24(sp)
  ld a0, 32(sp)
  ld a1, 40(sp)
  ld a2, 48(sp)
  ld a3, 56(sp)
  ld a4, 64(sp)
  ld a5, 72(sp)
  ld a6, 80(sp)
  ld a7, 88(sp)
  ld t3, 96(sp)
  ld t4, 104(sp)
  ld t5, 112(sp)
  ld t6, 120(sp)
  addi sp, sp, 128
  sret
