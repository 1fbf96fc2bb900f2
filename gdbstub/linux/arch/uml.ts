// User-mode Linux on x86-64. The task on the CPU: UML keeps thread_info at the base of each kernel stack and derives
// `current` from the stack pointer, so the live rsp rounded down to THREAD_SIZE leads to it (checked: that task's
// stack must be this one). On another stack (a signal handler's, the host's before start_kernel) cpu_tasks[0].task
// tells instead: __switch_to sets it to the task it switches to.
// A task switched out saved its registers with kernel_setjmp into thread.switch_buf (arch/x86/um/setjmp_64.S):
// rbx, rsp, rbp, r12, r13, r14, r15, rip.
import { fillRegisters, readU64, type ArchContext, type LinuxArch } from './types.js';
import type { Offsets } from '../offsets.js';
import type { RegisterLayout } from '../../registers.js';
import type { Task } from '../tasks.js';

const JMP_BUF_REGS = ['rbx', 'rsp', 'rbp', 'r12', 'r13', 'r14', 'r15', 'rip'];

export const umlArch: LinuxArch = {
  stackPointer: 'rsp',
  programCounter: 'rip',
  queries: {
    'uml.switch_buf': '(unsigned long)&((struct task_struct *)0)->thread.switch_buf',
    cpu_tasks: '(unsigned long)&cpu_tasks',
    'thread_info.task': '(unsigned long)&((struct thread_info *)0)->task',
    'cpu_task.task': '(unsigned long)&((struct cpu_task *)0)->task',
  },
  required: ['uml.switch_buf', 'thread_size', 'thread_info.task'],

  async currentTask(ctx: ArchContext, previous?: Task): Promise<Task | undefined> {
    const o = ctx.offsets;
    const rsp = await ctx.liveRegister('rsp');
    if (rsp !== undefined) {
      const base = rsp & ~(BigInt(o.n('thread_size')) - 1n);
      if (previous && previous.stack === base) return previous;
      const onStack = await ctx
        .readMemory(base + o.get('thread_info.task'), 8)
        .then((b) => ctx.readTask(readU64(b, 0)))
        .catch(() => undefined);
      if (onStack && onStack.stack === base) return onStack;
    }
    if (!o.has('cpu_tasks') || !o.has('cpu_task.task')) return undefined;
    const task = readU64(await ctx.readMemory(o.get('cpu_tasks') + o.get('cpu_task.task'), 8), 0);
    return task === 0n ? undefined : ctx.readTask(task);
  },

  switchContext(offsets: Offsets) {
    return { offset: offsets.n('uml.switch_buf'), size: 8 * JMP_BUF_REGS.length };
  },

  savedRegisters(layout: RegisterLayout, _offsets: Offsets, context: Uint8Array, template: Uint8Array): Uint8Array {
    return fillRegisters(
      layout,
      template,
      JMP_BUF_REGS.map((name, i) => [name, readU64(context, 8 * i)]),
    );
  },
};
