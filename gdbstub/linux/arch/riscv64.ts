// riscv64 Linux. The task on the CPU: in S-mode the kernel keeps `current` in tp; in U-mode tp belongs to the user
// program and sscratch holds the task instead (sscratch is 0 while in the kernel: arch/riscv/kernel/entry.S).
// A task switched out saved ra, sp and s0-s11 into thread (__switch_to); it resumes at ra.
import { fillRegisters, readU64, type ArchContext, type LinuxArch } from './types.js';
import type { Task } from '../tasks.js';

/** s0..s11 as target descriptions name them (s0 is "fp" in gdb's riscv core feature). */
const S_REGS = ['fp', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11'];

export const riscv64Arch: LinuxArch = {
  queries: {
    'riscv.thread.ra': '(unsigned long)&((struct task_struct *)0)->thread.ra',
    'riscv.thread.sp': '(unsigned long)&((struct task_struct *)0)->thread.sp',
    'riscv.thread.s': '(unsigned long)&((struct task_struct *)0)->thread.s',
  },
  required: ['riscv.thread.ra', 'riscv.thread.sp', 'riscv.thread.s'],

  async currentTask(ctx: ArchContext): Promise<Task | undefined> {
    const addr = (await ctx.liveRegister('sscratch')) || (await ctx.liveRegister('tp'));
    return addr ? ctx.readTask(addr) : undefined;
  },

  async savedRegisters(ctx: ArchContext, task: Task, template: Uint8Array): Promise<Uint8Array> {
    const o = ctx.offsets;
    const ra = o.n('riscv.thread.ra');
    const s = o.n('riscv.thread.s');
    // ra, sp and s[] are adjacent in thread_struct: one read
    const start = Math.min(ra, o.n('riscv.thread.sp'), s);
    const bytes = await ctx.readMemory(task.addr + BigInt(start), s + 8 * S_REGS.length - start);
    const at = (off: number) => readU64(bytes, off - start);
    const raValue = at(ra);
    return fillRegisters(ctx.layout, template, [
      ['pc', raValue],
      ['ra', raValue],
      ['sp', at(o.n('riscv.thread.sp'))],
      ...S_REGS.map((name, i): [string, bigint] => [name, at(s + 8 * i)]),
    ]);
  },
};
