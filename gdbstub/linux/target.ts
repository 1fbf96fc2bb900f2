// LinuxTarget: a Target wrapped around any other (a gdbserver relay for UML, QEMU's stub, kwb's own rv64 machine)
// that shows the kernel's tasks as threads. The task on the CPU gets the live registers, every other task those it
// saved at its last switch, so `thread N` + `bt` shows where it sleeps. Thread ids are pids (stable across stops);
// the idle task (pid 0) and, when no task can be told to be on the CPU, the CPU itself get ids above any pid.
import {
  readOneRegister,
  Unsupported,
  type AddressSpace,
  type BreakpointType,
  type ResumeAction,
  type StopReason,
  type Target,
  type ThreadInfo,
} from '../target.js';
import type { ArchContext, LinuxArch } from './arch/types.js';
import { readDmesg, DMESG_REQUIRED } from './dmesg.js';
import { libraryStop, ModuleLibraries, type LibraryFormat, type ModuleFinder } from './libraries.js';
import { formatModules, MODULES_REQUIRED, readModules } from './modules.js';
import type { Offsets } from './offsets.js';
import type { RegisterLayout } from '../registers.js';
import { TaskWalker, type Task } from './tasks.js';

/** Above PID_MAX_LIMIT (4M on 64-bit): the idle task, and the CPU when no task is known to run on it. */
export const IDLE_THREAD_ID = 0x40000000;
export const CPU_THREAD_ID = 0x40000001;

/** The CPU at one stop: cheap to learn (a register the stop reply carries, a read or two), so learnt at every stop. */
interface CpuState {
  /** The inner target's thread that is the CPU. */
  cpuThread: number;
  /** Registers the inner target's stop reply carried, by register number. */
  expedited: Map<number, Buffer>;
  /** The live g packet, read when first needed. */
  live(): Promise<Uint8Array>;
  /** The task on the CPU (undefined: the pseudo-thread CPU_THREAD_ID stands for it). */
  current?: Task;
  /** Saved registers of tasks already asked for at this stop. */
  saved: Map<number, Uint8Array>;
  /** The tops of tasks' stacks, by thread id (see STACK_PREFETCH). */
  stacks: Map<number, StackTop>;
  /** Whether the stacks of all tasks are being read in the background. */
  prefetching: boolean;
}

interface StackTop {
  addr: bigint;
  size: number;
  data: Promise<Uint8Array | undefined>;
}

/** The task list: walked only when threads are listed or a task off the CPU is looked at. */
interface TaskList {
  tasks: Task[];
  byId: Map<number, Task>;
}

/** gdb shows a task's frame by reading its stack near the saved stack pointer in 64-byte lines, two or three
 *  round trips per task (and `info threads` shows every task's frame): one read of this much around the stack
 *  pointer answers them all. Once gdb looks at one task off the CPU, the others' are read in the background, in
 *  list order (gdb's too), so that those reads overlap gdb's own work. */
const STACK_PREFETCH = { below: 128n, size: 768 };

/** pid_max can be at most 4M (PID_MAX_LIMIT): a larger pid is not a task. */
const PID_MAX_LIMIT = 0x400000;

/** The monitor commands kernel awareness adds (their first words). */
export const LINUX_MONITOR_COMMANDS = ['ps', 'dmesg', 'lsmod', 'threads'];

export const LINUX_MONITOR_HELP = [
  "  ps                   the kernel's tasks: pid, state, comm",
  '  dmesg                the kernel log, read from the printk ring buffer',
  '  lsmod                loaded modules',
  "  threads tasks|cpu    show the kernel's tasks as threads (default), or the plain CPU view",
];

export function threadIdOf(task: Task): number {
  return task.pid > 0 ? task.pid : IDLE_THREAD_ID;
}

export class LinuxTarget implements Target {
  readonly arch: 'riscv64' | 'x86_64';
  readonly rangeStepping?: boolean;
  readonly reverseExecution?: boolean;
  private mode: 'tasks' | 'cpu' = 'tasks';
  private cpu?: CpuState;
  private learningCpu?: Promise<CpuState>;
  private walking?: Promise<TaskList>;
  /** Counts what forget() forgot: a result learnt before it is not kept after it. */
  private stops = 0;
  /** After a single step: the task that was on the CPU before it (most likely still there). */
  private steppedFrom?: Task;
  private list?: TaskList;
  private stop: StopReason;
  private readonly walker: TaskWalker;

  /** Loaded modules as libraries, when the kernel keeps their sections and kwb can find their .ko files. */
  private readonly modules?: ModuleLibraries;
  /** Addresses of the client's own software breakpoints (kwb's internal ones may share them). */
  private readonly userBreakpoints = new Set<bigint>();

  constructor(
    private readonly inner: Target,
    private readonly offsets: Offsets,
    private readonly archInfo: LinuxArch,
    private readonly layout: RegisterLayout,
    findModule?: ModuleFinder,
  ) {
    this.arch = inner.arch;
    this.rangeStepping = inner.rangeStepping;
    this.reverseExecution = inner.reverseExecution;
    this.stop = inner.lastStop();
    this.walker = new TaskWalker(offsets, archInfo.switchContext(offsets), this.readGuest);
    // only when the inner target has it: the stub advertises QPassSignals by its presence
    if (inner.passSignals) this.passSignals = (signals) => inner.passSignals!(signals);
    if (findModule && ModuleLibraries.supported(offsets)) {
      const modules = new ModuleLibraries(offsets, this.readGuest, inner, findModule);
      this.modules = modules;
      this.libraries = (format) => modules.xml(format);
    }
  }

  passSignals?: (signals: number[]) => Promise<void>;
  libraries?: (format: LibraryFormat) => Promise<string>;

  private readonly userHas = (addr: bigint) => this.userBreakpoints.has(addr);

  /** The Z0 kind for a breakpoint at `addr`: x86's int3 is one byte; RISC-V's ebreak two bytes where the
   *  instruction there is compressed, four otherwise. */
  private readonly breakpointKind = async (addr: bigint): Promise<number> => {
    if (this.arch === 'x86_64') return 1;
    const low = (await this.readGuest(addr, 2).catch(() => new Uint8Array([3])))[0]!;
    return (low & 3) === 3 ? 4 : 2;
  };

  /** The program counter of the CPU now (from the stop reply when it carried it). */
  private async pc(): Promise<bigint | undefined> {
    const slot = this.layout.byName(this.archInfo.programCounter);
    if (!slot || slot.size !== 8) return undefined;
    const stop = this.inner.lastStop();
    const m = new RegExp(`(?:^|;)0*${slot.regno.toString(16)}:([0-9a-fA-F]{16});`).exec(stop.expedited ?? '');
    if (m) return Buffer.from(m[1]!, 'hex').readBigUInt64LE(0);
    // a client's register write (an inferior call) leaves no expedited pc: read it
    const regs = await readOneRegister(this.inner, stop.thread, slot.regno, slot);
    return regs && regs.length >= 8 ? Buffer.from(regs.buffer, regs.byteOffset, 8).readBigUInt64LE(0) : undefined;
  }

  /** Guest memory for the stub's own reads: addresses made from guest data (a null list pointer minus an offset, a
   *  zero stack pointer) can fall outside the address space, and are refused here rather than sent on. */
  private readonly readGuest = (addr: bigint, len: number): Promise<Uint8Array> => {
    if (addr < 0n || addr + BigInt(len) > 1n << 64n) return Promise.reject(new Error(`no guest memory at ${addr}`));
    return this.inner.readMemory(addr, len);
  };

  /** Look at the guest as it stands (call once before serving: the first stop reply needs the current task). */
  async init(): Promise<void> {
    this.stop = await this.translate(this.inner.lastStop());
  }

  private get tasksShown(): boolean {
    return this.mode === 'tasks';
  }

  private archContext(c: CpuState): ArchContext {
    return {
      offsets: this.offsets,
      layout: this.layout,
      readMemory: this.readGuest,
      liveRegister: async (name) => {
        const slot = this.layout.byName(name);
        if (!slot) return undefined;
        let bytes: Uint8Array | undefined = c.expedited.get(slot.regno);
        if (!bytes) {
          const live = await c.live();
          if (slot.offset + slot.size <= live.length) bytes = live.subarray(slot.offset, slot.offset + slot.size);
          else bytes = await this.inner.readRegister?.(c.cpuThread, slot.regno);
        }
        if (!bytes || bytes.length < 8) return undefined;
        return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0);
      },
      readTask: (addr) => this.walker.readTask(addr).then((r) => r.task),
    };
  }

  /** The CPU state at this stop, learnt once even when asked for twice at the same time. */
  private cpuState(): Promise<CpuState> {
    if (this.cpu) return Promise.resolve(this.cpu);
    return (this.learningCpu ??= this.learnCpu());
  }

  private async learnCpu(): Promise<CpuState> {
    const stopNumber = this.stops;
    const stop = this.inner.lastStop();
    const cpuThread = stop.thread;
    let live: Promise<Uint8Array> | undefined;
    const expedited = new Map<number, Buffer>();
    for (const m of (stop.expedited ?? '').matchAll(/([0-9a-fA-F]+):([0-9a-fA-F]+);/g))
      expedited.set(Number.parseInt(m[1]!, 16), Buffer.from(m[2]!, 'hex'));
    const c: CpuState = {
      cpuThread,
      expedited,
      live: () => (live ??= this.inner.readRegisters(cpuThread)),
      saved: new Map(),
      stacks: new Map(),
      prefetching: false,
    };
    const found = await this.archInfo.currentTask(this.archContext(c), this.steppedFrom).catch(() => undefined);
    c.current = found && found.pid >= 0 && found.pid <= PID_MAX_LIMIT ? found : undefined;
    if (stopNumber === this.stops) this.cpu = c;
    return c;
  }

  private taskList(): Promise<TaskList> {
    if (this.list) return Promise.resolve(this.list);
    return (this.walking ??= this.walkTasks());
  }

  private async walkTasks(): Promise<TaskList> {
    const stopNumber = this.stops;
    const tasks = await this.walker.walk();
    const { current } = await this.cpuState();
    // on the CPU but no longer on the list (a task on its way out): shown all the same
    if (current && !tasks.some((t) => t.addr === current.addr)) tasks.push(current);
    const list = { tasks, byId: new Map(tasks.map((t) => [threadIdOf(t), t])) };
    if (stopNumber === this.stops) this.list = list;
    return list;
  }

  /** Forget what was learnt at this stop; `keepTasks` for a single step, which seldom changes the task list. */
  private forget(keepTasks: boolean): void {
    this.stops++;
    this.steppedFrom = keepTasks ? this.cpu?.current : undefined;
    this.cpu = undefined;
    this.learningCpu = undefined;
    if (!keepTasks) {
      this.list = undefined;
      this.walking = undefined;
    }
  }

  /** The thread id gdb sees for the task on the CPU. */
  private cpuThreadId(c: CpuState): number {
    return c.current ? threadIdOf(c.current) : CPU_THREAD_ID;
  }

  private async translate(stop: StopReason): Promise<StopReason> {
    if (!this.tasksShown || stop.kind === 'exited') return stop;
    return { ...stop, thread: this.cpuThreadId(await this.cpuState()) };
  }

  /** Whether `thread` is the one on the CPU (its registers are live); the task otherwise. */
  private async resolve(
    thread: number,
  ): Promise<{ live: true; cpuThread: number } | { live: false; task: Task; c: CpuState }> {
    if (!this.tasksShown) return { live: true, cpuThread: await this.innerThread(thread) };
    const c = await this.cpuState();
    if (thread <= 0 || thread === this.cpuThreadId(c)) return { live: true, cpuThread: c.cpuThread };
    const task = (await this.taskList()).byId.get(thread);
    if (task) return { live: false, task, c };
    // an id from the other view, until gdb next lists the threads (`monitor threads ...` switched it)
    if ((await this.inner.threads()).some((t) => t.id === thread)) return { live: true, cpuThread: c.cpuThread };
    throw new Error(`no task with thread id ${thread}`);
  }

  /** An inner target's thread for `thread`: itself if the inner target has it, else (a task's id, from before
   *  `monitor threads cpu`) the CPU's. */
  private async innerThread(thread: number): Promise<number> {
    if (thread <= 0 || (await this.inner.threads()).some((t) => t.id === thread)) return thread;
    return this.inner.lastStop().thread;
  }

  private async savedRegisters(task: Task, c: CpuState): Promise<Uint8Array> {
    const regs = await this.savedRegistersNow(task, c);
    if (!c.prefetching) {
      c.prefetching = true;
      this.prefetchStacks(c).catch(() => {}); // only a cache: gdb's own reads go to the target when it fails
    }
    return regs;
  }

  private async savedRegistersNow(task: Task, c: CpuState): Promise<Uint8Array> {
    const id = threadIdOf(task);
    if (!c.saved.has(id)) {
      const regs = this.archInfo.savedRegisters(this.layout, this.offsets, task.switchContext, await c.live());
      if (!c.saved.has(id)) {
        c.saved.set(id, regs);
        this.readStackTop(id, regs, c);
      }
    }
    return c.saved.get(id)!;
  }

  /** Start reading the top of a task's stack (unless it is already read or being read). */
  private readStackTop(id: number, regs: Uint8Array, c: CpuState): StackTop | undefined {
    if (c.stacks.has(id)) return c.stacks.get(id);
    const slot = this.layout.byName(this.archInfo.stackPointer);
    if (!slot || slot.size !== 8 || slot.offset + 8 > regs.length) return undefined;
    const sp = Buffer.from(regs.buffer, regs.byteOffset + slot.offset, 8).readBigUInt64LE(0);
    if (sp < STACK_PREFETCH.below) return undefined; // nothing saved yet (a task that never ran)
    const addr = (sp & ~63n) - STACK_PREFETCH.below;
    const top: StackTop = {
      addr,
      size: STACK_PREFETCH.size,
      data: this.readGuest(addr, STACK_PREFETCH.size).catch(() => undefined),
    };
    c.stacks.set(id, top);
    return top;
  }

  /** Read every task's stack top, one read at a time so that the client's own requests are not held up long. */
  private async prefetchStacks(c: CpuState): Promise<void> {
    const tasks = this.list?.tasks ?? [];
    for (const task of tasks) {
      if (this.cpu !== c) return; // resumed meanwhile
      if (task.addr === c.current?.addr) continue;
      await this.savedRegistersNow(task, c);
      await c.stacks.get(threadIdOf(task))?.data;
    }
  }

  /** Memory already read (or being read) at this stop, if it holds all of [addr, addr + len). */
  private async cachedMemory(addr: bigint, len: number): Promise<Uint8Array | undefined> {
    for (const top of this.cpu?.stacks.values() ?? []) {
      if (addr >= top.addr && addr + BigInt(len) <= top.addr + BigInt(top.size)) {
        const data = await top.data;
        const off = Number(addr - top.addr);
        if (data && data.length >= off + len) return data.slice(off, off + len);
      }
    }
    return undefined;
  }

  targetXml(annex: string): string | undefined {
    return this.inner.targetXml(annex);
  }

  async readRegisters(thread: number): Promise<Uint8Array> {
    const r = await this.resolve(thread);
    if (r.live) return this.inner.readRegisters(r.cpuThread);
    return this.savedRegisters(r.task, r.c);
  }

  async readRegister(thread: number, regno: number): Promise<Uint8Array | undefined> {
    const r = await this.resolve(thread);
    if (r.live && this.inner.readRegister) return this.inner.readRegister(r.cpuThread, regno);
    const slot = this.layout.byRegno(regno);
    if (!slot) return undefined;
    const regs = r.live ? await this.inner.readRegisters(r.cpuThread) : await this.savedRegisters(r.task, r.c);
    // a register outside the g packet (a CSR): not saved at a switch
    if (slot.offset + slot.size > regs.length) return new Uint8Array(slot.size);
    return regs.slice(slot.offset, slot.offset + slot.size);
  }

  private refuseWrite(task: Task): never {
    throw new Error(`task ${task.pid} (${task.comm}) is not on the CPU: its saved registers cannot be written`);
  }

  async writeRegisters(thread: number, data: Uint8Array): Promise<void> {
    const r = await this.resolve(thread);
    if (!r.live) this.refuseWrite(r.task);
    // the stub answers "unsupported" (gdb falls back to P) when the inner target has no G
    if (!this.inner.writeRegisters) throw new Unsupported('G');
    await this.inner.writeRegisters(r.cpuThread, data);
    this.forget(true);
  }

  async writeRegister(thread: number, regno: number, value: Uint8Array): Promise<void> {
    const r = await this.resolve(thread);
    if (!r.live) this.refuseWrite(r.task);
    await this.inner.writeRegister(r.cpuThread, regno, value);
    this.forget(true);
  }

  async readMemory(addr: bigint, len: number, space?: AddressSpace): Promise<Uint8Array> {
    return (space !== 'physical' && (await this.cachedMemory(addr, len))) || this.inner.readMemory(addr, len, space);
  }

  async readMemoryHex(addr: bigint, len: number): Promise<Buffer | { framed: Buffer }> {
    const cached = await this.cachedMemory(addr, len);
    if (cached) return Buffer.from(Buffer.from(cached).toString('hex'), 'latin1');
    if (this.inner.readMemoryHex) return this.inner.readMemoryHex(addr, len);
    return Buffer.from(Buffer.from(await this.inner.readMemory(addr, len)).toString('hex'), 'latin1');
  }

  async writeMemory(addr: bigint, data: Uint8Array, space?: AddressSpace): Promise<void> {
    await this.inner.writeMemory(addr, data, space);
    this.forget(false);
  }

  async insertBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    if (type === 0 && this.modules?.owns(addr)) return (this.userBreakpoints.add(addr), true);
    const ok = await this.inner.insertBreakpoint(type, addr, kind);
    if (ok && type === 0) this.userBreakpoints.add(addr);
    return ok;
  }

  async removeBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    if (type === 0) this.userBreakpoints.delete(addr);
    if (type === 0 && this.modules?.owns(addr)) return true;
    return this.inner.removeBreakpoint(type, addr, kind);
  }

  /** Whether `id` names a thread of the current view, without walking the task list (a resume must not wait: UML's
   *  timer signals pile up meanwhile and a step would then stop for them, over and over). */
  /** Threads of either view: after `monitor threads ...` gdb names those of the other view until it lists them
   *  again, and their registers read (running one is refused: see resume). */
  async hasThread(id: number): Promise<boolean> {
    if (await this.inView(id)) return true;
    if (this.tasksShown) return (await this.inner.threads()).some((t) => t.id === id);
    return id <= PID_MAX_LIMIT || id === IDLE_THREAD_ID;
  }

  /** A thread of the view shown now. */
  private async inView(id: number): Promise<boolean> {
    if (!this.tasksShown) return (await this.inner.threads()).some((t) => t.id === id);
    if (id === this.cpuThreadId(await this.cpuState())) return true;
    if (this.list) return this.list.byId.has(id);
    // not listed yet: any pid may be a task, unless it is a thread of the CPU view
    return (id <= PID_MAX_LIMIT || id === IDLE_THREAD_ID) && !(await this.inner.threads()).some((t) => t.id === id);
  }

  async resume(action: ResumeAction): Promise<StopReason> {
    let inner = action;
    if (action.thread !== undefined && action.thread > 0) {
      // whichever task gdb names, it is the CPU that runs; an id of the other view (gdb has not listed the threads
      // since `monitor threads ...`) is refused: gdb would take the stop that follows for some other thread's
      if (!(await this.inView(action.thread))) {
        throw new Error(`no thread ${action.thread} in the ${this.mode} view; list the threads again (info threads)`);
      }
      inner = { ...action, thread: this.tasksShown ? this.inner.lastStop().thread : action.thread };
    }
    this.forget(action.step);
    const stop = this.modules ? await this.resumeWatchingModules(inner, this.modules) : await this.inner.resume(inner);
    this.stop = await this.translate(stop).catch(() => stop);
    return this.stop;
  }

  /** Resume with kwb's module breakpoints in: a stop at one is the client's only when the modules changed (a
   *  library event) or the client has a breakpoint there too; otherwise the guest runs on. */
  private async resumeWatchingModules(action: ResumeAction, modules: ModuleLibraries): Promise<StopReason> {
    for (;;) {
      await modules.arm(this.breakpointKind, this.userHas);
      const pc = await this.pc();
      if (modules.isEvent(pc) && !this.userHas(pc!)) {
        // leaving one of kwb's breakpoints: step off it with it out, then put it back
        await modules.disarm(this.breakpointKind, this.userHas, pc);
        const stepped = await this.inner.resume({ ...action, step: true, range: undefined });
        await modules.arm(this.breakpointKind, this.userHas);
        if (action.step || stepped.kind !== 'step') return stepped;
      }
      const stop = await this.inner.resume(action);
      if (action.step || (stop.kind !== 'breakpoint' && !(stop.kind === 'signal' && stop.signal === 5))) return stop;
      const at = await this.pc();
      if (!modules.isEvent(at)) return stop;
      if (await modules.changed()) return libraryStop(stop);
      if (this.userHas(at!)) return stop;
    }
  }

  interrupt(): void {
    this.inner.interrupt();
  }

  lastStop(): StopReason {
    return this.tasksShown ? this.stop : this.inner.lastStop();
  }

  async threads(): Promise<ThreadInfo[]> {
    if (!this.tasksShown) return this.inner.threads();
    const { current } = await this.cpuState();
    const list: ThreadInfo[] = (await this.taskList()).tasks.map((t) => ({
      id: threadIdOf(t),
      name: t.comm,
      extra: `pid ${t.pid} ${t.state}${t.addr === current?.addr ? ' on CPU' : ''}`,
    }));
    if (!current) list.push({ id: CPU_THREAD_ID, name: 'CPU', extra: 'no task is known to be on the CPU' });
    return list;
  }

  private hasAll(keys: string[]): boolean {
    return keys.every((k) => this.offsets.has(k));
  }

  async monitor(command: string): Promise<string | undefined> {
    const line = command.trim().split(/\s+/).join(' ');
    const read = this.readGuest;
    switch (line) {
      case 'help': {
        const inner = await this.inner.monitor?.('help');
        return LINUX_MONITOR_HELP.join('\n') + '\n' + (inner ? inner.replace(/\n?$/, '\n') : '');
      }
      case 'threads':
        return `threads: ${this.mode}\n`;
      case 'threads cpu':
      case 'threads tasks':
        this.mode = line === 'threads cpu' ? 'cpu' : 'tasks';
        this.forget(false);
        if (this.mode === 'tasks') this.stop = await this.translate(this.inner.lastStop());
        return `threads: ${this.mode} (gdb sees the new thread list at its next stop or \`info threads\`)\n`;
      case 'ps': {
        const { tasks } = await this.taskList();
        return '  PID S COMM\n' + tasks.map((t) => `${String(t.pid).padStart(5)} ${t.state} ${t.comm}\n`).join('');
      }
      case 'dmesg':
        if (!this.hasAll(DMESG_REQUIRED))
          return 'kwb: this kernel has no lockless printk ring buffer in its debug info\n';
        return readDmesg(this.offsets, read);
      case 'lsmod':
        if (!this.hasAll(MODULES_REQUIRED)) return 'kwb: this kernel has no module support\n';
        return formatModules(await readModules(this.offsets, read));
      default:
        return this.inner.monitor?.(command);
    }
  }

  async detach(): Promise<void> {
    this.userBreakpoints.clear();
    await this.modules?.disarm(this.breakpointKind, this.userHas);
    this.modules?.forgetClient();
    return this.inner.detach();
  }

  kill(): Promise<void> {
    return this.inner.kill();
  }
}
