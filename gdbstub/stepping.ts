// Stepping a target whose own signals must never reach the client: UML's kernel is a host process, and its timers,
// I/O and page faults are host signals to it. gdbserver passes such signals silently while the target runs, except
// SIGSEGV and SIGILL (it reports those in case a breakpoint raised them: UML's kernel takes page faults when it first
// touches fresh vmalloc memory, as loading a module does), and reports every signal that comes during a single step
// (passed or not), before the instruction ran. So:
// - a continue that stops for a signal of the guest's own delivers it and continues;
// - a client's step lets the signal's handler run at full speed (a breakpoint of the relay's own where the signal
//   came, continue with the signal) and then steps again: the client sees one instruction, the guest gets its signal;
// - a continue with emulated watchpoints steps into the handlers instead: writes there count (the timer's handler
//   writes jiffies).
// No signal is held back across a resume: each is delivered before the resume returns, so none is pending when a
// client detaches, disconnects or dies.
import type { RegisterLayout } from './registers.js';
import type { ResumeAction, StopReason } from './target.js';
import type { WatchedRange, WatchEmulation } from './watch-emulation.js';

export interface StepServer {
  readonly arch: 'riscv64' | 'x86_64';
  /** Signals the guest uses itself (GDB numbering): always delivered, never reported. */
  readonly guestSignals: readonly number[];
  /** One single step of `thread` delivering `signal` (or, with `range` and no signal, steps while the pc stays in
   *  it), with `reads` answered right after the stop (undefined where unreadable). */
  step(
    thread: number,
    signal: number | undefined,
    reads: WatchedRange[],
    range?: ResumeAction['range'],
  ): Promise<{ stop: StopReason; data: (Buffer | undefined)[] }>;
  /** Run until the server reports a stop, delivering `signal`. */
  cont(thread: number, signal: number | undefined): Promise<StopReason>;
  /** Insert a software breakpoint of the relay's own, unless the client has one there; whether it did. */
  insertOwnBreakpoint(addr: bigint): Promise<boolean>;
  removeOwnBreakpoint(addr: bigint): Promise<void>;
  /** Whether the client has a breakpoint (software or hardware) at `addr`. */
  clientBreakpointAt(addr: bigint): boolean;
  readRegister(thread: number, regno: number): Promise<Uint8Array | undefined>;
  readMemory(addr: bigint, len: number): Promise<Buffer | undefined>;
  /** Where the target's vDSO is, if known: its clock reads retry for as long as they are single-stepped (the host
   *  updates their data meanwhile), so emulated watchpoints run through its functions at full speed. */
  vdso(): { start: bigint; end: bigint } | undefined;
}

/** gdb's register numbers of the pc and the stack pointer. */
const PC_SP = { x86_64: { pc: 16, sp: 7 }, riscv64: { pc: 32, sp: 2 } } as const;

/** The registers a client needs at every stop to show and unwind the frame and print its arguments: the integer
 *  registers, pc and flags (x86-64: rax..r15, rip, eflags and the segment registers; riscv64: x0..x31 and pc). */
const CORE_REGISTERS = { x86_64: 24, riscv64: 33 } as const;

/** Stop-reply expedites ("nn:hex;" pairs) for the core registers of the g packet `regs`, after `given` (the server's
 *  own, kept first and not repeated). */
export function expeditedRegisters(
  arch: StepServer['arch'],
  layout: RegisterLayout,
  regs: Uint8Array,
  given = '',
): string {
  const have = new Set([...given.matchAll(/([0-9a-fA-F]+):/g)].map((m) => Number.parseInt(m[1]!, 16)));
  let out = given;
  for (const slot of layout.slots) {
    if (slot.regno >= CORE_REGISTERS[arch] || have.has(slot.regno) || slot.offset + slot.size > regs.length) continue;
    out += `${slot.regno.toString(16).padStart(2, '0')}:${Buffer.from(regs.subarray(slot.offset, slot.offset + slot.size)).toString('hex')};`;
  }
  return out;
}

function littleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** A register at a stop: from the registers the stop reply carried (gdbserver expedites pc and sp), else read. */
export async function stopRegister(
  s: Pick<StepServer, 'arch' | 'readRegister'>,
  stop: StopReason,
  which: 'pc' | 'sp',
): Promise<bigint | undefined> {
  const regno = PC_SP[s.arch][which];
  for (const m of (stop.expedited ?? '').matchAll(/([0-9a-fA-F]+):([0-9a-fA-F]+);/g)) {
    if (Number.parseInt(m[1]!, 16) === regno) return littleEndian(Buffer.from(m[2]!, 'hex'));
  }
  const bytes = await s.readRegister(stop.thread, regno);
  return bytes ? littleEndian(bytes) : undefined;
}

function isGuestSignal(s: StepServer, stop: StopReason): stop is StopReason & { signal: number } {
  return stop.kind === 'signal' && stop.signal !== undefined && s.guestSignals.includes(stop.signal);
}

/** A continue of `thread` delivering `signal`, the guest's own signals delivered on the way, unseen. */
export async function continueHidingSignals(
  s: StepServer,
  thread: number,
  signal: number | undefined,
): Promise<StopReason> {
  let stop = await s.cont(thread, signal);
  while (isGuestSignal(s, stop)) stop = await s.cont(stop.thread, stop.signal);
  return stop;
}

/** A client's step: one instruction of `thread` (or a range step), the guest's own signals delivered on the way,
 *  unseen. `startPc` (where the step starts, if known) tells an instruction a signal interrupted (a blocking
 *  syscall, done once the handler returns) from one a signal came before. `data` holds `reads` after the last step,
 *  if any. */
export async function stepHidingSignals(
  s: StepServer,
  thread: number,
  signal: number | undefined,
  reads: WatchedRange[],
  startPc: bigint | undefined,
  range?: ResumeAction['range'],
): Promise<{ stop: StopReason; data: (Buffer | undefined)[] }> {
  for (;;) {
    const r = await s.step(thread, signal, reads, range);
    signal = undefined;
    if (!isGuestSignal(s, r.stop)) return r;
    const at = await stopRegister(s, r.stop, 'pc');
    const after = await runHandler(s, r.stop);
    if (after.kind !== 'back') return { stop: after.stop, data: [] };
    const inRange = range !== undefined && at !== undefined && at >= range.start && at < range.end;
    // back after an interrupted instruction: it has completed, and a single step with it
    if (startPc !== undefined && at !== startPc && !inRange) return { stop: { ...after.stop, kind: 'step' }, data: [] };
    thread = after.stop.thread;
  }
}

/** Let the handler of the signal `stop` reports run at full speed, until the target is back where the signal came
 *  ('back'), or stops for a reason of its own (a client's breakpoint, an interrupt, its end). */
async function runHandler(
  s: StepServer,
  stop: StopReason & { signal: number },
): Promise<{ kind: 'back' | 'other'; stop: StopReason }> {
  const pc = await stopRegister(s, stop, 'pc');
  const sp = await stopRegister(s, stop, 'sp');
  if (pc === undefined || sp === undefined) {
    // nowhere to come back to: deliver the signal while stepping into its handler (seen as a step)
    return { kind: 'other', stop: (await s.step(stop.thread, stop.signal, [])).stop };
  }
  return runTo(s, stop.thread, stop.signal, pc, sp);
}

/** Run at full speed (delivering `signal`) until `thread` is at `pc` with the stack pointer `sp` ('back'), or the
 *  target stops for a reason of its own. */
async function runTo(
  s: StepServer,
  thread: number,
  signal: number | undefined,
  pc: bigint,
  sp: bigint,
): Promise<{ kind: 'back' | 'other'; stop: StopReason }> {
  const own = await s.insertOwnBreakpoint(pc);
  try {
    let next = await continueHidingSignals(s, thread, signal);
    for (;;) {
      if (next.kind !== 'breakpoint' || (await stopRegister(s, next, 'pc')) !== pc)
        return { kind: 'other', stop: next };
      if ((await stopRegister(s, next, 'sp')) === sp) return { kind: 'back', stop: next };
      if (!own) return { kind: 'other', stop: next }; // the client's breakpoint, reached by another task
      // another task reached the same instruction: take it past the relay's breakpoint, then go on
      await s.removeOwnBreakpoint(pc);
      const past = await stepHidingSignals(s, next.thread, undefined, [], pc);
      await s.insertOwnBreakpoint(pc);
      if (past.stop.kind !== 'step') return { kind: 'other', stop: past.stop };
      next = await continueHidingSignals(s, past.stop.thread, undefined);
    }
  } finally {
    if (own) await s.removeOwnBreakpoint(pc);
  }
}

/** A continue with emulated write watchpoints: single steps (into the guest's signal handlers too) until a watched
 *  range changes, a client's breakpoint is reached, or the target stops by itself (an interrupt, its end). */
export async function runWatched(
  s: StepServer,
  watches: WatchEmulation,
  thread: number,
  signal: number | undefined,
): Promise<StopReason> {
  let lastPc: bigint | undefined;
  for (;;) {
    const { stop, data } = await s.step(thread, signal, watches.ranges());
    signal = undefined;
    thread = stop.thread;
    if (isGuestSignal(s, stop)) {
      signal = stop.signal; // delivered by the next step, which stops at the handler's first instruction
      continue;
    }
    let hit = watches.changed(data);
    if (hit) return { ...stop, kind: 'watchpoint', signal: 5, watch: 'write', address: hit.addr };
    if (stop.kind !== 'step') return stop;
    const pc = await stopRegister(s, stop, 'pc');
    if (pc !== undefined && s.clientBreakpointAt(pc)) return { ...stop, kind: 'breakpoint', hw: false };
    // what single steps cannot get through in reasonable time: run over it, then compare
    const over = pc === undefined ? undefined : await fastForward(s, stop, pc, pc === lastPc);
    lastPc = pc;
    if (!over) continue;
    if (over.kind === 'other') return over.stop;
    hit = watches.changed(await Promise.all(watches.ranges().map((r) => s.readMemory(r.addr, r.len))));
    if (hit) return { ...over.stop, kind: 'watchpoint', signal: 5, watch: 'write', address: hit.addr };
    lastPc = undefined;
  }
}

/** x86 string instructions with a rep prefix: one single step a byte or word they move. */
const STRING_OPS = new Set([0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);
const LEGACY_PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67]);

/** The length of a rep-prefixed string instruction at the start of `code`, or undefined. */
export function repStringLength(code: Buffer): number | undefined {
  let rep = false;
  for (let i = 0; i < code.length && i < 15; i++) {
    const b = code[i]!;
    if (b === 0xf2 || b === 0xf3) rep = true;
    if (LEGACY_PREFIXES.has(b) || (b >= 0x40 && b <= 0x4f)) continue;
    return rep && STRING_OPS.has(b) ? i + 1 : undefined;
  }
  return undefined;
}

/** Run over a vDSO call (to its return address) or a rep string instruction still repeating (`again`: the step
 *  left the pc where it was), at full speed; undefined when the step at `pc` is neither. */
async function fastForward(
  s: StepServer,
  stop: StopReason,
  pc: bigint,
  again: boolean,
): Promise<{ kind: 'back' | 'other'; stop: StopReason } | undefined> {
  const sp = await stopRegister(s, stop, 'sp');
  if (sp === undefined) return undefined;
  const vdso = s.vdso();
  if (vdso && pc >= vdso.start && pc < vdso.end) {
    // at a vDSO function's first instruction the return address is on top of the stack
    const ret = await s.readMemory(sp, 8);
    const to = ret?.length === 8 ? ret.readBigUInt64LE(0) : undefined;
    if (to === undefined || (to >= vdso.start && to < vdso.end)) return undefined;
    return runTo(s, stop.thread, undefined, to, sp + 8n);
  }
  if (!again || s.arch !== 'x86_64') return undefined;
  const code = await s.readMemory(pc, 15);
  const len = code ? repStringLength(code) : undefined;
  return len === undefined ? undefined : runTo(s, stop.thread, undefined, pc + BigInt(len), sp);
}
