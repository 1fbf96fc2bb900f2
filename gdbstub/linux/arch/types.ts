// What kernel awareness needs from each architecture: which task is on the CPU, and the registers a task saved
// when it was last switched out, laid out in the inner target's g packet.
import type { Offsets, Queries } from '../offsets.js';
import type { RegisterLayout } from '../../registers.js';
import type { ReadMemory, Task } from '../tasks.js';

export interface ArchContext {
  offsets: Offsets;
  layout: RegisterLayout;
  readMemory: ReadMemory;
  /** A live register of the CPU by its target.xml name (undefined when the target has none by that name). */
  liveRegister(name: string): Promise<bigint | undefined>;
  /** The task_struct at an address (throws when it cannot be read). */
  readTask(addr: bigint): Promise<Task>;
}

export interface LinuxArch {
  /** The stack pointer's name in target descriptions. */
  stackPointer: string;
  /** The program counter's. */
  programCounter: string;
  /** Offsets and symbols this architecture needs besides the common ones. */
  queries: Queries;
  /** Those of `queries` without which tasks cannot be shown. */
  required: string[];
  /** The task running on the CPU, if it can be told (without walking the task list: this runs at every stop).
   *  `previous`: after a single step, the task that was on the CPU before it, to be taken again without reading it
   *  when the CPU shows it is still there. */
  currentTask(ctx: ArchContext, previous?: Task): Promise<Task | undefined>;
  /** Where in task_struct a task saves its registers when switched out (read with the task's other fields). */
  switchContext(offsets: Offsets): { offset: number; size: number };
  /** The g packet of a task that is not on the CPU, from its switch context (`context`, as switchContext placed
   *  it): `template` (the live packet, for its length) with the saved registers written in, every other one zero. */
  savedRegisters(layout: RegisterLayout, offsets: Offsets, context: Uint8Array, template: Uint8Array): Uint8Array;
}

/** Write 64-bit little-endian values into a g packet by register name; names the layout lacks are skipped. */
export function fillRegisters(layout: RegisterLayout, template: Uint8Array, values: [string, bigint][]): Uint8Array {
  const out = Buffer.alloc(template.length);
  for (const [name, value] of values) {
    const slot = layout.byName(name);
    if (!slot || slot.size !== 8 || slot.offset + 8 > out.length) continue;
    out.writeBigUInt64LE(value, slot.offset);
  }
  return out;
}

export function readU64(bytes: Uint8Array, offset: number): bigint {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64LE(offset);
}
