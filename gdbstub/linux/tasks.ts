// The kernel's task list, walked in guest memory from init_task the way the kernel's own lx-ps does (each process
// on init_task.tasks, then each thread of its group), one memory read per task spanning every field needed.
import type { Offsets } from './offsets.js';

export interface Task {
  /** Address of the task_struct. */
  addr: bigint;
  pid: number;
  tgid: number;
  comm: string;
  /** The one-letter state ps shows (R, S, D, T, t, X, Z, P, I). */
  state: string;
  /** Base of the task's kernel stack (task->stack). */
  stack: bigint;
  /** The registers it saved at its last switch, as they lie in its task_struct (the arch decodes them). */
  switchContext: Buffer;
}

export type ReadMemory = (addr: bigint, len: number) => Promise<Uint8Array>;

/** Fields read from each task_struct: offset and size, so that one read covers them all. */
interface TaskFields {
  tasks: number;
  threadGroup: number;
  pid: number;
  tgid: number;
  comm: number;
  commSize: number;
  state: number;
  stateSize: number;
  exitState: number;
  stack: number;
  context: number;
  contextSize: number;
  /** The span [start, end) of the task_struct that holds all of them. */
  start: number;
  end: number;
}

export const TASK_QUERIES_REQUIRED = [
  'init_task',
  'task.tasks',
  'task.thread_group',
  'task.pid',
  'task.tgid',
  'task.comm',
  'task.comm.size',
  'task.exit_state',
  'task.stack',
];

function taskFields(o: Offsets, context: { offset: number; size: number }): TaskFields {
  const modern = o.has('task.__state');
  const f = {
    tasks: o.n('task.tasks'),
    threadGroup: o.n('task.thread_group'),
    pid: o.n('task.pid'),
    tgid: o.n('task.tgid'),
    comm: o.n('task.comm'),
    commSize: o.n('task.comm.size'),
    state: o.n(modern ? 'task.__state' : 'task.state'),
    stateSize: modern ? 4 : 8,
    exitState: o.n('task.exit_state'),
    stack: o.n('task.stack'),
    context: context.offset,
    contextSize: context.size,
  };
  const spans: [number, number][] = [
    [f.tasks, 16],
    [f.threadGroup, 16],
    [f.pid, 4],
    [f.tgid, 4],
    [f.comm, f.commSize],
    [f.state, f.stateSize],
    [f.exitState, 4],
    [f.stack, 8],
    [f.context, f.contextSize],
  ];
  return { ...f, start: Math.min(...spans.map(([a]) => a)), end: Math.max(...spans.map(([a, n]) => a + n)) };
}

// include/linux/sched.h: the states ps reports, in fls() order; TASK_IDLE (uninterruptible + noload) shows as I
const STATE_LETTERS = 'RSDTtXZPI';
const TASK_REPORT = 0x7f;
const TASK_IDLE = 0x402;
const TASK_REPORT_IDLE = 0x80;

export function stateLetter(state: number, exitState: number): string {
  let report = (state | exitState) & TASK_REPORT;
  if (state === TASK_IDLE) report = TASK_REPORT_IDLE;
  return STATE_LETTERS[report === 0 ? 0 : 32 - Math.clz32(report)] ?? '?';
}

/** A task list longer than this is a corrupt list, not a kernel. */
const MAX_TASKS = 1 << 16;

export class TaskWalker {
  private readonly f: TaskFields;
  private readonly initTask: bigint;

  /** `context`: where the arch keeps a task's saved registers, read along with the rest (one read per task). */
  constructor(
    offsets: Offsets,
    context: { offset: number; size: number },
    private readonly read: ReadMemory,
  ) {
    this.f = taskFields(offsets, context);
    this.initTask = offsets.get('init_task');
  }

  async readTask(addr: bigint): Promise<{ task: Task; nextTask: bigint; nextThread: bigint }> {
    const f = this.f;
    const bytes = Buffer.from(await this.read(addr + BigInt(f.start), f.end - f.start));
    if (bytes.length < f.end - f.start) throw new Error(`task_struct at 0x${addr.toString(16)} is unreadable`);
    const at = (o: number) => o - f.start;
    const state =
      f.stateSize === 4 ? bytes.readUInt32LE(at(f.state)) : Number(bytes.readBigUInt64LE(at(f.state)) & 0xffffffffn);
    const commBytes = bytes.subarray(at(f.comm), at(f.comm) + f.commSize);
    const nul = commBytes.indexOf(0);
    const task: Task = {
      addr,
      pid: bytes.readInt32LE(at(f.pid)),
      tgid: bytes.readInt32LE(at(f.tgid)),
      comm: commBytes.subarray(0, nul < 0 ? commBytes.length : nul).toString('utf8'),
      state: stateLetter(state, bytes.readInt32LE(at(f.exitState))),
      stack: bytes.readBigUInt64LE(at(f.stack)),
      switchContext: bytes.subarray(at(f.context), at(f.context) + f.contextSize),
    };
    return {
      task,
      nextTask: bytes.readBigUInt64LE(at(f.tasks)) - BigInt(f.tasks),
      nextThread: bytes.readBigUInt64LE(at(f.threadGroup)) - BigInt(f.threadGroup),
    };
  }

  /** Every task, in lx-ps order. A list that breaks off (a task freed under us, garbage) ends the walk there. */
  async walk(): Promise<Task[]> {
    const out: Task[] = [];
    const seen = new Set<bigint>();
    let leader = this.initTask;
    try {
      for (;;) {
        let t = leader;
        let nextLeader = 0n;
        for (;;) {
          if (seen.has(t) || out.length >= MAX_TASKS) return out;
          seen.add(t);
          const r = await this.readTask(t);
          out.push(r.task);
          if (t === leader) nextLeader = r.nextTask;
          t = r.nextThread;
          if (t === leader) break;
        }
        leader = nextLeader;
        if (leader === this.initTask) return out;
      }
    } catch {
      return out;
    }
  }
}
