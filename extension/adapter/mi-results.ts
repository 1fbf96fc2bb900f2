// Typed views of the gdb/MI records the runtime reads (on top of mi.ts's generic values): a frame, a thread, a
// breakpoint, a stop, a varobj, registers, memory, instructions. Missing or oddly shaped fields become undefined.
import { list, str, tuple, type MiTuple, type MiValue } from './mi.js';

export interface MiFrame {
  level: number;
  addr?: string;
  func?: string;
  /** The full path when gdb knows it, else the file name as compiled. */
  file?: string;
  line?: number;
}

export interface MiThread {
  id: number;
  name?: string;
  details?: string;
  targetId?: string;
}

export interface MiBreakpoint {
  number: string;
  /** false while pending (no location yet) */
  verified: boolean;
  line?: number;
  addr?: string;
}

/** Why the target stopped: 'paused' answers the runtime's pause(); a signal nobody asked for is 'signal'. */
export type StopReason = 'breakpoint' | 'watchpoint' | 'step' | 'signal' | 'paused' | 'exited' | 'other';

export interface MiStop {
  reason: StopReason;
  threadId: number;
  /** the breakpoint or watchpoint number that was hit */
  bkptno?: string;
  frame?: MiFrame;
}

export interface MiVarobj {
  name: string;
  /** the child's expression relative to its parent (a field name, an index), or the root's expression */
  exp?: string;
  value: string;
  type?: string;
  children: number;
}

export interface MiRegister {
  number: number;
  value: string;
}

export interface MiInstruction {
  address: string;
  opcodes?: string;
  inst: string;
  func?: string;
  offset?: string;
  file?: string;
  line?: number;
}

function num(v: MiValue | undefined): number | undefined {
  const s = str(v);
  return s === undefined || s === '' || Number.isNaN(Number(s)) ? undefined : Number(s);
}

export function frameOf(t: MiTuple): MiFrame {
  return {
    level: num(t.level) ?? 0,
    addr: str(t.addr),
    func: str(t.func),
    file: str(t.fullname) ?? str(t.file),
    line: num(t.line),
  };
}

/** -stack-list-frames */
export function stackOf(data: MiTuple): MiFrame[] {
  return list(data.stack).map((f) => frameOf(tuple(tuple(f)?.frame) ?? tuple(f) ?? {}));
}

/** -thread-info */
export function threadsOf(data: MiTuple): MiThread[] {
  return list(data.threads).map((t) => {
    const th = tuple(t) ?? {};
    return { id: num(th.id) ?? 0, name: str(th.name), details: str(th.details), targetId: str(th['target-id']) };
  });
}

/** -break-insert: bkpt={...}, or for a breakpoint with several locations bkpt=[{...}, {location}, ...]. */
export function breakpointOf(data: MiTuple): MiBreakpoint {
  const all = list(data.bkpt).map((b) => tuple(b) ?? {});
  const bkpt = all[0] ?? {};
  const first = all.slice(1)[0] ?? bkpt;
  const addr = str(first.addr);
  return {
    number: str(bkpt.number) ?? '',
    verified: str(bkpt.addr) !== '<PENDING>' && addr !== undefined,
    line: num(first.line) ?? num(bkpt.line),
    addr: addr?.startsWith('0x') ? addr : undefined,
  };
}

/** A watchpoint's number in -break-watch's answer or a *stopped: wpt= (write), hw-rwpt= (read), hw-awpt= (access). */
function watchpointNumber(data: MiTuple): string | undefined {
  return str((tuple(data.wpt) ?? tuple(data['hw-rwpt']) ?? tuple(data['hw-awpt']))?.number);
}

/** -break-watch */
export function watchpointOf(data: MiTuple): MiBreakpoint {
  const number = watchpointNumber(data) ?? '';
  return { number, verified: number !== '' };
}

const STOP_REASONS: [RegExp, StopReason][] = [
  [/^breakpoint-hit$/, 'breakpoint'],
  [/watchpoint/, 'watchpoint'],
  // no-history: running backwards, the start of the target's recording was reached
  [/^(end-stepping-range|function-finished|no-history)$/, 'step'],
  [/^signal-received$/, 'signal'],
  [/^exited/, 'exited'],
];

/** *stopped */
export function stopOf(data: MiTuple): MiStop {
  const reason = str(data.reason) ?? '';
  const frame = tuple(data.frame);
  return {
    reason: STOP_REASONS.find(([re]) => re.test(reason))?.[1] ?? 'other',
    threadId: num(data['thread-id']) ?? 1,
    bkptno: str(data.bkptno) ?? watchpointNumber(data),
    frame: frame && frameOf(frame),
  };
}

/** -var-create, or one child of -var-list-children */
export function varobjOf(t: MiTuple): MiVarobj {
  return {
    name: str(t.name) ?? '',
    exp: str(t.exp),
    value: str(t.value) ?? '',
    type: str(t.type),
    children: num(t.numchild) ?? 0,
  };
}

/** -var-list-children */
export function childrenOf(data: MiTuple): MiVarobj[] {
  return list(data.children).map((c) => varobjOf(tuple(tuple(c)?.child) ?? tuple(c) ?? {}));
}

/** -stack-list-variables --no-values */
export function variableNamesOf(data: MiTuple): string[] {
  return list(data.variables).flatMap((v) => str(tuple(v)?.name) ?? []);
}

/** -list-target-features: what the connected target can do ("async", "reverse"). */
export function targetFeaturesOf(data: MiTuple): string[] {
  return list(data.features).flatMap((f) => str(f) ?? []);
}

/** -data-list-register-names: a register's number is its index; unused numbers have an empty name. */
export function registerNamesOf(data: MiTuple): string[] {
  return list(data['register-names']).map((n) => str(n) ?? '');
}

/** -data-list-register-values */
export function registerValuesOf(data: MiTuple): MiRegister[] {
  return list(data['register-values']).flatMap((r) => {
    const t = tuple(r) ?? {};
    const number = num(t.number);
    return number === undefined ? [] : [{ number, value: str(t.value) ?? '' }];
  });
}

/** -data-read-memory-bytes: the bytes of the first block (gdb stops at the first unreadable byte). */
export function memoryOf(data: MiTuple): Buffer {
  return Buffer.from(str(tuple(list(data.memory)[0])?.contents) ?? '', 'hex');
}

function instructionOf(insn: MiTuple, file?: string, line?: number): MiInstruction {
  return {
    address: str(insn.address) ?? '0x0',
    opcodes: str(insn.opcodes),
    inst: str(insn.inst) ?? '',
    func: str(insn['func-name']),
    offset: str(insn.offset),
    file,
    line,
  };
}

/** -data-disassemble mode 5 (source lines with raw opcodes): instructions in the order gdb gives them. Code
 *  without line information comes as bare instructions, not grouped by source line. */
export function instructionsOf(data: MiTuple): MiInstruction[] {
  return list(data.asm_insns).flatMap((entry) => {
    const t = tuple(entry) ?? {};
    if (str(t.address) !== undefined) return [instructionOf(t)];
    const src = tuple(t.src_and_asm_line) ?? t;
    const file = str(src.fullname) ?? str(src.file);
    return list(src.line_asm_insn).map((i) => instructionOf(tuple(i) ?? {}, file, num(src.line)));
  });
}
