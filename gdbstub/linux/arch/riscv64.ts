// riscv64 Linux. The task on the CPU: in S-mode the kernel keeps `current` in tp; in U-mode tp belongs to the user
// program and sscratch holds the task instead (sscratch is 0 while in the kernel: arch/riscv/kernel/entry.S).
// A task switched out saved ra, sp and s0-s11 into thread (__switch_to); it resumes at ra.
import { fillRegisters, readU64, type ArchContext, type LinuxArch } from './types.js';
import type { Offsets } from '../offsets.js';
import type { RegisterLayout } from '../../registers.js';
import type { Task } from '../tasks.js';

/** s0..s11 as target descriptions name them (s0 is "fp" in gdb's riscv core feature). */
const S_REGS = ['fp', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11'];

export const riscv64Arch: LinuxArch = {
  stackPointer: 'sp',
  programCounter: 'pc',
  queries: {
    'riscv.thread.ra': '(unsigned long)&((struct task_struct *)0)->thread.ra',
    'riscv.thread.sp': '(unsigned long)&((struct task_struct *)0)->thread.sp',
    'riscv.thread.s': '(unsigned long)&((struct task_struct *)0)->thread.s',
  },
  required: ['riscv.thread.ra', 'riscv.thread.sp', 'riscv.thread.s'],

  async currentTask(ctx: ArchContext, previous?: Task): Promise<Task | undefined> {
    const addr = (await ctx.liveRegister('sscratch')) || (await ctx.liveRegister('tp'));
    if (previous && previous.addr === addr) return previous;
    return addr ? ctx.readTask(addr) : undefined;
  },

  switchContext(o: Offsets) {
    // ra, sp and s[] are adjacent in thread_struct
    const start = Math.min(o.n('riscv.thread.ra'), o.n('riscv.thread.sp'), o.n('riscv.thread.s'));
    return { offset: start, size: o.n('riscv.thread.s') + 8 * S_REGS.length - start };
  },

  savedRegisters(layout: RegisterLayout, o: Offsets, context: Uint8Array, template: Uint8Array): Uint8Array {
    const start = this.switchContext(o).offset;
    const at = (key: string, index = 0) => readU64(context, o.n(key) + 8 * index - start);
    const ra = at('riscv.thread.ra');
    return fillRegisters(layout, template, [
      ['pc', ra],
      ['ra', ra],
      ['sp', at('riscv.thread.sp')],
      ...S_REGS.map((name, i): [string, bigint] => [name, at('riscv.thread.s', i)]),
    ]);
  },
};
