# C runtime for kwb's rv64 test programs: stack, FPU on, bss cleared, main(), result to HTIF tohost.
  .section .text.init
  .globl _start
_start:
  la sp, _stack_top
  li t0, (1 << 13)          # mstatus.FS = initial
  csrs mstatus, t0
  la t0, _end
  la t1, __bss_start
1: bgeu t1, t0, 2f
  sd zero, 0(t1)
  addi t1, t1, 8
  j 1b
2: call main
  slli a0, a0, 1
  ori a0, a0, 1
  la t0, tohost
  sd a0, 0(t0)
3: j 3b

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .type tohost, @object
  .align 6
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8
  .type fromhost, @object
