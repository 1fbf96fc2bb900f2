// User-mode Linux on x86-64. The task on the CPU: the one whose kernel stack holds the live rsp (UML keeps
// thread_info at the stack base and derives `current` from the stack pointer), else cpu_tasks[0].task, which
// __switch_to sets (it names the task about to run; the stack test also covers the instants before the switch).
// A task switched out saved its registers with kernel_setjmp into thread.switch_buf (arch/x86/um/setjmp_64.S):
// rbx, rsp, rbp, r12, r13, r14, r15, rip.
import { fillRegisters, readU64, type ArchContext, type LinuxArch } from './types.js';
import type { Task } from '../tasks.js';

const JMP_BUF_REGS = ['rbx', 'rsp', 'rbp', 'r12', 'r13', 'r14', 'r15', 'rip'];

export const umlArch: LinuxArch = {
  queries: {
    'uml.switch_buf': '(unsigned long)&((struct task_struct *)0)->thread.switch_buf',
    cpu_tasks: '(unsigned long)&cpu_tasks',
    'cpu_task.task': '(unsigned long)&((struct cpu_task *)0)->task',
  },
  required: ['uml.switch_buf', 'thread_size'],

  async currentTask(ctx: ArchContext, tasks: Task[]): Promise<bigint | undefined> {
    const rsp = await ctx.liveRegister('rsp');
    const size = BigInt(ctx.offsets.n('thread_size'));
    if (rsp !== undefined) {
      const onStack = tasks.find((t) => t.stack !== 0n && rsp >= t.stack && rsp < t.stack + size);
      if (onStack) return onStack.addr;
    }
    if (!ctx.offsets.has('cpu_tasks') || !ctx.offsets.has('cpu_task.task')) return undefined;
    const slot = ctx.offsets.get('cpu_tasks') + ctx.offsets.get('cpu_task.task');
    const task = readU64(await ctx.readMemory(slot, 8), 0);
    return task === 0n ? undefined : task;
  },

  async savedRegisters(ctx: ArchContext, task: Task, template: Uint8Array): Promise<Uint8Array> {
    const buf = await ctx.readMemory(task.addr + ctx.offsets.get('uml.switch_buf'), 8 * JMP_BUF_REGS.length);
    return fillRegisters(ctx.layout, template, JMP_BUF_REGS.map((name, i) => [name, readU64(buf, 8 * i)]));
  },
};
