// The Target interface: what the RSP server needs from whatever it debugs (a gdbserver relay, the rv64 machine,
// an in-memory test target). Everything is in target byte order; registers in the order of the target XML.

/** Why the target stopped. `thread` is the thread that stopped (1 when the target has a single thread). */
export interface StopReason {
  kind: 'breakpoint' | 'watchpoint' | 'step' | 'signal' | 'interrupt' | 'exited';
  thread: number;
  /** The data address for a watchpoint, or the pc for a breakpoint. */
  address?: bigint;
  /** GDB signal number (gdb/signals.def numbering, e.g. 5 = SIGTRAP, 2 = SIGINT). */
  signal?: number;
  exitCode?: number;
  /** Watchpoint flavour, for the T packet's watch/rwatch/awatch key. */
  watch?: 'write' | 'read' | 'access';
  /** For kind 'breakpoint': a hardware breakpoint (hwbreak) rather than a software one (swbreak). */
  hw?: boolean;
  /** A library event: the list of loaded libraries (a kernel's modules) changed; the client reads it again. */
  library?: boolean;
  /** Registers to expedite in the stop reply, already in RSP form: "nn:hexvalue;" pairs in target.xml numbering
   *  (a relay passes its server's through, which saves the client a `g` round trip per stop). */
  expedited?: string;
  /** Running backwards, the target reached the start of what it recorded ('begin'); gdb says there is no more
   *  reverse-execution history. */
  replayLog?: 'begin' | 'end';
}

/** Z/z packet types: 0 software bp, 1 hardware bp, 2 write watchpoint, 3 read watchpoint, 4 access watchpoint. */
export type BreakpointType = 0 | 1 | 2 | 3 | 4;

export type AddressSpace = 'virtual' | 'physical';

export interface ResumeAction {
  step: boolean;
  /** The thread to resume or step (undefined: all / the current one). */
  thread?: number;
  /** GDB signal number to deliver on resume (C/S packets), if any. */
  signal?: number;
  /** With step: go on stepping while the pc stays in [start, end) (vCont;r), where the target offers it. */
  range?: { start: bigint; end: bigint };
  /** Run backwards (bs, bc), on a target that offers reverseExecution: step back one instruction, or continue back
   *  to the last breakpoint or watchpoint hit. */
  reverse?: boolean;
}

export interface ThreadInfo {
  id: number;
  name: string;
  /** Extra text for qThreadExtraInfo (e.g. "pid 1 S"). */
  extra?: string;
}

export interface Target {
  readonly arch: 'riscv64' | 'x86_64';
  /** Whether resume() honours ResumeAction.range (the stub then offers vCont;r). */
  readonly rangeStepping?: boolean;
  /** Whether resume() runs backwards on ResumeAction.reverse (the stub then offers ReverseStep and ReverseContinue). */
  readonly reverseExecution?: boolean;
  /** The target description for qXfer:features:read (annex "target.xml" and any it includes); undefined if none. */
  targetXml(annex: string): string | undefined;
  readRegisters(thread: number): Promise<Uint8Array>;
  writeRegisters?(thread: number, data: Uint8Array): Promise<void>;
  readRegister?(thread: number, regno: number): Promise<Uint8Array | undefined>;
  writeRegister(thread: number, regno: number, value: Uint8Array): Promise<void>;
  readMemory(addr: bigint, len: number, space?: AddressSpace): Promise<Uint8Array>;
  writeMemory(addr: bigint, data: Uint8Array, space?: AddressSpace): Promise<void>;
  /** Optional fast path for a relay whose server already answers in hex: the memory as lowercase hex text (shorter
   *  than asked when the rest is unreadable; throws when nothing is), or the complete reply packet, framed, when the
   *  server's own replies can be passed through as they came (run-length encoded, checksums summed). */
  readMemoryHex?(addr: bigint, len: number): Promise<Buffer | { framed: Buffer }>;
  /** false when this type of breakpoint is unsupported (the stub then answers with an empty packet). */
  insertBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean>;
  removeBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean>;
  /** Run or step until the target stops; interrupt() makes a pending resume settle with kind 'interrupt'. */
  resume(action: ResumeAction): Promise<StopReason>;
  interrupt(): void;
  /** Why the target is stopped right now (for the `?` packet after a client attaches). */
  lastStop(): StopReason;
  threads(): Promise<ThreadInfo[]>;
  /** Whether a thread id names a thread, when the target can tell without listing them all (threads() decides
   *  otherwise). Every packet that names a thread is checked before it reaches the target. */
  hasThread?(id: number): Promise<boolean>;
  /** The loaded libraries (a kernel's modules) as qXfer:libraries-svr4:read or qXfer:libraries:read list them;
   *  offered to clients when present. */
  libraries?(format: 'svr4' | 'target'): Promise<string>;
  /** Answer a `monitor` command (qRcmd); undefined when the target has no such command. */
  monitor?(command: string): Promise<string | undefined>;
  /** Signals (GDB numbering) the target should deliver to the guest without stopping (QPassSignals). A target with
   *  signals of its own to pass (UML's) keeps passing those too. */
  passSignals?(signals: number[]): Promise<void>;
  /** The client detached or went away: forget per-client state. The stub removes the client's breakpoints first and
   *  resumes the target afterwards, so detach() itself must not resume. */
  detach(): Promise<void>;
  /** The client asked to kill the guest (k / vKill): shut it down cleanly. */
  kill(): Promise<void>;
}

/** Thrown by a Target method for a request it cannot serve at all: the stub answers with the empty reply (so gdb
 *  falls back, e.g. from P to G), not with an error. */
export class Unsupported extends Error {}

/** One register for the stub's own use: `p` where the target answers it, else its bytes at `slot` in `g` (gdbserver
 *  answers `p` empty on x86-64); undefined where neither has it. */
export async function readOneRegister(
  target: Pick<Target, 'readRegister' | 'readRegisters'>,
  thread: number,
  regno: number,
  slot: { offset: number; size: number },
): Promise<Uint8Array | undefined> {
  if (target.readRegister) {
    try {
      return await target.readRegister(thread, regno);
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
    }
  }
  const all = await target.readRegisters(thread);
  return all.length >= slot.offset + slot.size ? all.subarray(slot.offset, slot.offset + slot.size) : undefined;
}

/** Thrown by a Target method for a request it understands but will not serve: the stub answers `E.message`, which
 *  gdb shows (gdb 14 and later; older ones say the request failed). */
export class Refused extends Error {}
