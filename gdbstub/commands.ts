// Table-driven RSP command dispatch, one handler per packet (in the style of QEMU's gdbstub). Handlers see a
// StubContext (the connection's state and the server's run control) and return the reply payload, or undefined for
// no reply at all (k). Unknown packets get the empty reply.
import {
  Refused,
  Unsupported,
  type BreakpointType,
  type ResumeAction,
  type StopReason,
  type Target,
} from './target.js';
import { escapeBinary, fromHex, hexText, parseHexBig, parseHexInt, toHex, xmlEscape, type Framed } from './packet.js';

export const KWB_STUB_VERSION = 'kwb gdbstub 0.1.0';
/** The largest packet we accept (and advertise): 256 KiB, so that gdb reads 64 KiB or more in one `m`. */
export const PACKET_SIZE = 0x40000;
/** The largest memory read served in one m packet (the hex reply must fit PACKET_SIZE). */
const MAX_MEM_READ = PACKET_SIZE / 2 - 16;

export interface BreakpointRecord {
  type: BreakpointType;
  addr: bigint;
  kind: number;
}

export interface StubContext {
  readonly target: Target;
  /** Features the client announced in qSupported (e.g. swbreak, hwbreak). */
  clientFeatures: Set<string>;
  /** Thread for g/G/p/P/m/M (Hg) and for resume (Hc); 0 or -1 mean any / all. */
  gThread: number;
  cThread: number;
  /** Thread list snapshot for qfThreadInfo/qsThreadInfo. */
  threadCursor: number[];
  /** Enter no-ack mode after the reply to this packet has been sent. */
  startNoAck(): void;
  /** Resume the target (all-stop) and wait for it to stop. */
  resume(action: ResumeAction): Promise<StopReason>;
  /** The library lists being read by this client, by format (a long list takes several qXfer reads). */
  libraries?: Partial<Record<'svr4' | 'target', string>>;
  /** Breakpoints and watchpoints this client has inserted (removed when it detaches or goes away). */
  breakpoints: Map<string, BreakpointRecord>;
  /** Detach: the server removes breakpoints and lets the target run once the reply is out. */
  detach(): void;
  /** Kill the target; the connection is closed afterwards. */
  kill(): Promise<void>;
  /** Extra monitor commands the server offers (e.g. from the CLI); answered before the target's. */
  log(line: string): void;
}

export type Reply = string | Buffer | Framed | undefined;
type Handler = (ctx: StubContext, args: string, raw: Buffer) => Promise<Reply> | Reply;

interface Command {
  /** The packet's name. */
  cmd: string;
  /** true: arguments follow the name directly (m1000,4); false: the name must be followed by nothing or ':' ',' ';'. */
  prefix?: boolean;
  /** The threads this packet acts on (named in it, or chosen by an earlier H); undefined when they cannot be parsed
   *  (the handler answers that). dispatch() checks that they exist before the handler runs. */
  threads?: (args: string, ctx: StubContext) => number[] | undefined;
  handler: Handler;
}

// ---- stop replies ----

/** GDB's numbers for the signals the stub itself stops the target with. */
const SIGINT = 2;
const SIGTRAP = 5;

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');
const threadId = (id: number): string => (id < 0 ? '-1' : id.toString(16));

export function stopReply(stop: StopReason, ctx: StubContext): string {
  if (stop.kind === 'exited') {
    if (stop.signal !== undefined && stop.exitCode === undefined) return `X${hex2(stop.signal)}`;
    return `W${hex2(stop.exitCode ?? 0)}`;
  }
  let sig = SIGTRAP;
  if (stop.kind === 'signal') sig = stop.signal ?? SIGTRAP;
  else if (stop.kind === 'interrupt') sig = stop.signal ?? SIGINT;
  let out = `T${hex2(sig)}`;
  if (stop.kind === 'watchpoint') {
    const key = stop.watch === 'read' ? 'rwatch' : stop.watch === 'access' ? 'awatch' : 'watch';
    out += `${key}:${(stop.address ?? 0n).toString(16)};`;
  } else if (stop.kind === 'breakpoint') {
    if (stop.hw && ctx.clientFeatures.has('hwbreak')) out += 'hwbreak:;';
    else if (!stop.hw && ctx.clientFeatures.has('swbreak')) out += 'swbreak:;';
  }
  if (stop.library) out += 'library:;';
  if (stop.replayLog) out += `replaylog:${stop.replayLog};`;
  if (stop.expedited) out += stop.expedited;
  out += `thread:${threadId(stop.thread)};`;
  return out;
}

// ---- helpers ----

const ERR_ARGS = 'E16'; // EINVAL
const ERR_FAULT = 'E0e'; // EFAULT
/** gdbserver's answer to H and T for a thread that does not exist. */
const ERR_NO_THREAD = 'E01';

function parseThread(text: string): number | undefined {
  if (text === '-1') return -1;
  // multiprocess form pPID.TID: we do not advertise multiprocess, but accept it
  const m = /^p[0-9a-fA-F]+\.([0-9a-fA-F]+|-1)$/.exec(text);
  if (m) return m[1] === '-1' ? -1 : parseHexInt(m[1]!);
  return parseHexInt(text);
}

/** One thread id, as a list for Command.threads. */
function oneThread(text: string): number[] | undefined {
  const id = parseThread(text);
  return id === undefined ? undefined : [id];
}

/** Whether every thread named exists (0 and -1, "any" and "all", always do). A target that can tell cheaply says so
 *  itself; otherwise its thread list decides. */
async function threadsExist(target: Target, ids: number[]): Promise<boolean> {
  const named = ids.filter((id) => id > 0);
  if (named.length === 0) return true;
  if (target.hasThread) {
    for (const id of named) if (!(await target.hasThread(id))) return false;
    return true;
  }
  const known = new Set((await target.threads()).map((t) => t.id));
  return named.every((id) => known.has(id));
}

/** The thread an H has chosen for registers (Hg) or for resuming (Hc). */
const registerThread = (_args: string, ctx: StubContext): number[] => [ctx.gThread];
const resumeThread = (_args: string, ctx: StubContext): number[] => [ctx.cThread];

async function currentThread(ctx: StubContext): Promise<number> {
  if (ctx.gThread > 0) return ctx.gThread;
  return ctx.target.lastStop().thread || 1;
}

function parseAddrLen(text: string): { addr: bigint; len: number } | undefined {
  const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(text);
  if (!m) return undefined;
  const addr = parseHexBig(m[1]!);
  const len = parseHexInt(m[2]!);
  if (addr === undefined || len === undefined) return undefined;
  return { addr, len };
}

function qxfer(text: string, args: string): Reply {
  const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(args);
  if (!m) return ERR_ARGS;
  const offset = parseHexInt(m[1]!);
  const length = parseHexInt(m[2]!);
  if (offset === undefined || length === undefined) return ERR_ARGS;
  const data = Buffer.from(text, 'utf8');
  const n = Math.min(length, PACKET_SIZE - 16);
  const chunk = data.subarray(offset, offset + n);
  const more = offset + chunk.length < data.length;
  return Buffer.concat([Buffer.from(more ? 'm' : 'l'), escapeBinary(chunk)]);
}

// ---- monitor (qRcmd) ----

const MONITOR_HELP = [
  'kwb gdbstub monitor commands:',
  '  help                 this text',
  '  info version         the stub version',
  '  info target          architecture and the current stop',
  '  info breakpoints     breakpoints and watchpoints the client has inserted',
  '  info threads         threads as the stub reports them',
].join('\n');

async function monitor(ctx: StubContext, command: string): Promise<string> {
  const words = command.trim().split(/\s+/).filter(Boolean);
  const line = words.join(' ');
  if (line === '' || line === 'help') {
    const extra = ctx.target.monitor ? await ctx.target.monitor('help') : undefined;
    return MONITOR_HELP + '\n' + (extra ? extra.replace(/\n?$/, '\n') : '');
  }
  if (line === 'info version') return `${KWB_STUB_VERSION} (${ctx.target.arch})\n`;
  if (line === 'info target') {
    const stop = ctx.target.lastStop();
    return `arch ${ctx.target.arch}\nstopped: ${stop.kind}${stop.signal !== undefined ? ` signal ${stop.signal}` : ''} thread ${stop.thread}\n`;
  }
  if (line === 'info breakpoints') {
    const names = ['breakpoint', 'hw breakpoint', 'write watchpoint', 'read watchpoint', 'access watchpoint'];
    const rows = [...ctx.breakpoints.values()].map(
      (b) => `  ${names[b.type]} at 0x${b.addr.toString(16)} (kind ${b.kind})`,
    );
    return rows.length ? rows.join('\n') + '\n' : 'no breakpoints\n';
  }
  if (line === 'info threads') {
    const threads = await ctx.target.threads();
    return threads.map((t) => `  ${t.id} ${t.name}${t.extra ? ` (${t.extra})` : ''}`).join('\n') + '\n';
  }
  if (ctx.target.monitor) {
    const answer = await ctx.target.monitor(line);
    if (answer !== undefined) return answer;
  }
  return `kwb: unknown monitor command "${line}" (try: monitor help)\n`;
}

// ---- resume ----

async function resumeReply(ctx: StubContext, action: ResumeAction): Promise<Reply> {
  const stop = await ctx.resume(action);
  // gdb takes the thread that stopped as the general thread from here on (as gdbserver makes it) and reads its
  // registers without another Hg: an Hg from before the stop must not outlive it
  ctx.gThread = 0;
  return stopReply(stop, ctx);
}

/** bs/bc: gdb sends them only to a target that offered them; anyone else gets an error that says why. */
function reverseReply(ctx: StubContext, step: boolean): Promise<Reply> | Reply {
  if (!ctx.target.reverseExecution) return 'E.this target cannot run backwards (it keeps no recording)';
  return resumeReply(ctx, { step, reverse: true, thread: ctx.cThread > 0 ? ctx.cThread : undefined });
}

function parseVCont(args: string): ResumeAction | 'stop' | undefined {
  // args: ";action[:thread];action..."
  const parts = args.split(';').slice(1);
  if (parts.length === 0) return undefined;
  let chosen: ResumeAction | undefined;
  let onlyStop = true;
  for (const part of parts) {
    const [act, tid] = part.split(':');
    if (!act) return undefined;
    const thread = tid !== undefined ? parseThread(tid) : undefined;
    if (tid !== undefined && thread === undefined) return undefined;
    const op = act[0];
    let action: ResumeAction | undefined;
    if (op === 'c' && act.length === 1) action = { step: false };
    else if (op === 's' && act.length === 1) action = { step: true };
    else if (op === 'C' || op === 'S') {
      const sig = parseHexInt(act.slice(1));
      if (sig === undefined || sig > 0xff) return undefined;
      action = { step: op === 'S', signal: sig };
    } else if (op === 'r') {
      const range = /^r([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(act);
      const start = range ? parseHexBig(range[1]!) : undefined;
      const end = range ? parseHexBig(range[2]!) : undefined;
      if (start === undefined || end === undefined) return undefined;
      action = { step: true, range: { start, end } };
    } else if (op === 't' && act.length === 1) continue;
    else return undefined;
    onlyStop = false;
    if (thread !== undefined && thread > 0) action.thread = thread;
    // a step takes precedence (gdb sends vCont;s:1;c for "step thread 1, others run")
    if (!chosen || (action.step && !chosen.step)) chosen = action;
  }
  if (onlyStop) return 'stop';
  return chosen;
}

/** The threads a vCont names in its actions (`;s:1;c:2`). */
function vContThreads(args: string): number[] | undefined {
  const ids: number[] = [];
  for (const part of args.split(';').slice(1)) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const id = parseThread(part.slice(colon + 1));
    if (id === undefined) return undefined;
    ids.push(id);
  }
  return ids;
}

// ---- the table ----

const commands: Command[] = [
  {
    cmd: 'qSupported',
    handler: (ctx, args) => {
      ctx.clientFeatures.clear();
      for (const f of args.replace(/^:/, '').split(';')) {
        if (f.endsWith('+')) ctx.clientFeatures.add(f.slice(0, -1));
      }
      const features = [
        `PacketSize=${PACKET_SIZE.toString(16)}`,
        'qXfer:features:read+',
        'qXfer:threads:read+',
        'vContSupported+',
        'swbreak+',
        'hwbreak+',
        'QStartNoAckMode+',
      ];
      if (ctx.target.passSignals) features.push('QPassSignals+');
      if (ctx.target.libraries) features.push('qXfer:libraries-svr4:read+', 'qXfer:libraries:read+');
      if (ctx.target.reverseExecution) features.push('ReverseStep+', 'ReverseContinue+');
      return features.join(';');
    },
  },
  {
    cmd: 'QStartNoAckMode',
    handler: (ctx) => {
      ctx.startNoAck();
      return 'OK';
    },
  },
  {
    cmd: 'QPassSignals',
    handler: async (ctx, args) => {
      if (!ctx.target.passSignals) return '';
      const list = args.replace(/^:/, '');
      const sigs: number[] = [];
      for (const s of list.split(';')) {
        if (s === '') continue;
        const n = parseHexInt(s);
        if (n === undefined || n > 0xff) return ERR_ARGS;
        // SIGINT and SIGTRAP are how the stub stops the target (^C, breakpoints, steps): passed, they would reach
        // the guest instead (UML ends on a SIGINT)
        if (n !== SIGINT && n !== SIGTRAP) sigs.push(n);
      }
      await ctx.target.passSignals(sigs);
      return 'OK';
    },
  },
  {
    cmd: 'qXfer:features:read',
    handler: (ctx, args) => {
      const m = /^:([^:]+):(.*)$/.exec(args);
      if (!m) return ERR_ARGS;
      const xml = ctx.target.targetXml(m[1]!);
      if (xml === undefined) return 'E00';
      return qxfer(xml, m[2]!);
    },
  },
  ...(['svr4', 'target'] as const).map((format) => ({
    cmd: format === 'svr4' ? 'qXfer:libraries-svr4:read' : 'qXfer:libraries:read',
    handler: async (ctx: StubContext, args: string) => {
      const m = /^:[^:]*:(.*)$/.exec(args);
      if (!m) return ERR_ARGS;
      if (!ctx.target.libraries) return '';
      // the list is read anew at offset 0 only: the later chunks of one read come from the same list
      if (!ctx.libraries?.[format] || /^0,/.test(m[1]!))
        ctx.libraries = { ...ctx.libraries, [format]: await ctx.target.libraries(format) };
      return qxfer(ctx.libraries[format]!, m[1]!);
    },
  })),
  {
    cmd: 'qXfer:threads:read',
    handler: async (ctx, args) => {
      const m = /^::(.*)$/.exec(args);
      if (!m) return ERR_ARGS;
      const threads = await ctx.target.threads();
      const xml =
        '<?xml version="1.0"?>\n<threads>\n' +
        threads
          .map(
            (t) => `<thread id="${threadId(t.id)}" name="${xmlEscape(t.name)}">${xmlEscape(t.extra ?? '')}</thread>\n`,
          )
          .join('') +
        '</threads>\n';
      return qxfer(xml, m[1]!);
    },
  },
  { cmd: 'qAttached', handler: () => '1' },
  {
    cmd: 'qC',
    handler: async (ctx) => `QC${threadId(await currentThread(ctx))}`,
  },
  {
    cmd: 'qfThreadInfo',
    handler: async (ctx) => {
      ctx.threadCursor = (await ctx.target.threads()).map((t) => t.id);
      if (ctx.threadCursor.length === 0) return 'l';
      const ids = ctx.threadCursor.splice(0, 256);
      return 'm' + ids.map(threadId).join(',');
    },
  },
  {
    cmd: 'qsThreadInfo',
    handler: (ctx) => {
      if (ctx.threadCursor.length === 0) return 'l';
      const ids = ctx.threadCursor.splice(0, 256);
      return 'm' + ids.map(threadId).join(',');
    },
  },
  {
    cmd: 'qThreadExtraInfo',
    threads: (args) => oneThread(args.replace(/^,/, '')),
    handler: async (ctx, args) => {
      const id = parseThread(args.replace(/^,/, ''));
      if (id === undefined) return ERR_ARGS;
      const t = (await ctx.target.threads()).find((x) => x.id === id);
      if (!t) return ERR_NO_THREAD;
      return hexText(t.extra ? `${t.name} ${t.extra}` : t.name);
    },
  },
  {
    cmd: 'qRcmd',
    handler: async (ctx, args) => {
      const bytes = fromHex(args.replace(/^,/, ''));
      if (!bytes) return ERR_ARGS;
      return hexText(await monitor(ctx, bytes.toString('utf8')));
    },
  },
  { cmd: 'qOffsets', handler: () => '' },
  { cmd: 'qSymbol', handler: () => 'OK' },
  {
    cmd: 'vCont?',
    handler: (ctx) => (ctx.target.rangeStepping ? 'vCont;c;C;s;S;t;r' : 'vCont;c;C;s;S;t'),
  },
  {
    cmd: 'vCont',
    threads: vContThreads,
    handler: async (ctx, args) => {
      const action = parseVCont(args);
      if (action === undefined) return ERR_ARGS;
      if (action === 'stop') return stopReply(ctx.target.lastStop(), ctx);
      if (action.thread === undefined && ctx.cThread > 0) action.thread = ctx.cThread;
      return resumeReply(ctx, action);
    },
  },
  {
    cmd: 'vKill',
    handler: async (ctx) => {
      await ctx.kill();
      return 'OK';
    },
  },
  { cmd: 'vMustReplyEmpty', handler: () => '' },
  {
    cmd: '?',
    prefix: true,
    handler: (ctx) => stopReply(ctx.target.lastStop(), ctx),
  },
  {
    cmd: 'g',
    prefix: true,
    threads: registerThread,
    handler: async (ctx, args) => {
      if (args !== '') return ERR_ARGS;
      return toHex(await ctx.target.readRegisters(await currentThread(ctx)));
    },
  },
  {
    cmd: 'G',
    prefix: true,
    threads: registerThread,
    handler: async (ctx, args) => {
      const data = fromHex(args);
      if (!data) return ERR_ARGS;
      if (!ctx.target.writeRegisters) return '';
      const thread = await currentThread(ctx);
      // all registers or none: a server given less (gdbserver) writes what it got and answers OK
      if (data.length !== (await ctx.target.readRegisters(thread)).length) return ERR_ARGS;
      await ctx.target.writeRegisters(thread, data);
      return 'OK';
    },
  },
  {
    cmd: 'p',
    prefix: true,
    threads: registerThread,
    handler: async (ctx, args) => {
      const regno = parseHexInt(args);
      if (regno === undefined) return ERR_ARGS;
      if (!ctx.target.readRegister) return '';
      const value = await ctx.target.readRegister(await currentThread(ctx), regno);
      return value ? toHex(value) : 'E00';
    },
  },
  {
    cmd: 'P',
    prefix: true,
    threads: registerThread,
    handler: async (ctx, args) => {
      const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]*)$/.exec(args);
      if (!m) return ERR_ARGS;
      const regno = parseHexInt(m[1]!);
      const value = fromHex(m[2]!);
      if (regno === undefined || !value) return ERR_ARGS;
      const thread = await currentThread(ctx);
      // the whole register or nothing, as for G
      const current = ctx.target.readRegister ? await ctx.target.readRegister(thread, regno) : undefined;
      if (current && current.length !== value.length) return ERR_ARGS;
      await ctx.target.writeRegister(thread, regno, value);
      return 'OK';
    },
  },
  {
    cmd: 'm',
    prefix: true,
    handler: async (ctx, args) => {
      const a = parseAddrLen(args);
      if (!a) return ERR_ARGS;
      if (a.len === 0) return '';
      const len = Math.min(a.len, MAX_MEM_READ);
      try {
        if (ctx.target.readMemoryHex) {
          const hex = await ctx.target.readMemoryHex(a.addr, len);
          if (Buffer.isBuffer(hex)) return hex.length ? hex : ERR_FAULT;
          return { framed: hex.framed };
        }
        const data = await ctx.target.readMemory(a.addr, len);
        return data.length ? toHex(data) : ERR_FAULT;
      } catch {
        return ERR_FAULT;
      }
    },
  },
  {
    cmd: 'M',
    prefix: true,
    handler: async (ctx, args) => {
      const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)$/.exec(args);
      if (!m) return ERR_ARGS;
      const addr = parseHexBig(m[1]!);
      const len = parseHexInt(m[2]!);
      const data = fromHex(m[3]!);
      if (addr === undefined || len === undefined || !data || data.length !== len) return ERR_ARGS;
      try {
        await ctx.target.writeMemory(addr, data);
        return 'OK';
      } catch {
        return ERR_FAULT;
      }
    },
  },
  {
    cmd: 'X',
    prefix: true,
    handler: async (ctx, _args, raw) => {
      // binary: addr,len:data where data was escaped on the wire (the reader already unescaped it)
      const colon = raw.indexOf(0x3a);
      if (colon < 0) return ERR_ARGS;
      const a = parseAddrLen(raw.subarray(1, colon).toString('latin1'));
      if (!a) return ERR_ARGS;
      const data = raw.subarray(colon + 1);
      if (data.length !== a.len) return ERR_ARGS;
      if (a.len === 0) return 'OK'; // gdb probes X support with a zero-length write
      try {
        await ctx.target.writeMemory(a.addr, data);
        return 'OK';
      } catch {
        return ERR_FAULT;
      }
    },
  },
  {
    cmd: 'Z',
    prefix: true,
    handler: async (ctx, args) => {
      const bp = parseBreakpoint(args);
      if (!bp) return ERR_ARGS;
      const key = `${bp.type}:${bp.addr}:${bp.kind}`;
      if (ctx.breakpoints.has(key)) return 'OK';
      try {
        if (!(await ctx.target.insertBreakpoint(bp.type, bp.addr, bp.kind))) return '';
      } catch (err) {
        return err instanceof Refused ? `E.${err.message}` : ERR_FAULT;
      }
      ctx.breakpoints.set(key, bp);
      return 'OK';
    },
  },
  {
    cmd: 'z',
    prefix: true,
    handler: async (ctx, args) => {
      const bp = parseBreakpoint(args);
      if (!bp) return ERR_ARGS;
      const key = `${bp.type}:${bp.addr}:${bp.kind}`;
      try {
        if (!(await ctx.target.removeBreakpoint(bp.type, bp.addr, bp.kind))) return '';
      } catch {
        return ERR_FAULT;
      }
      ctx.breakpoints.delete(key);
      return 'OK';
    },
  },
  {
    cmd: 'c',
    prefix: true,
    threads: resumeThread,
    handler: (ctx, args) => {
      if (args !== '') return ''; // resume at an address: not supported
      return resumeReply(ctx, { step: false, thread: ctx.cThread > 0 ? ctx.cThread : undefined });
    },
  },
  {
    cmd: 's',
    prefix: true,
    threads: resumeThread,
    handler: (ctx, args) => {
      if (args !== '') return '';
      return resumeReply(ctx, { step: true, thread: ctx.cThread > 0 ? ctx.cThread : undefined });
    },
  },
  {
    cmd: 'C',
    prefix: true,
    threads: resumeThread,
    handler: (ctx, args) => {
      const m = /^([0-9a-fA-F]{1,2})$/.exec(args);
      if (!m) return args.includes(';') ? '' : ERR_ARGS;
      return resumeReply(ctx, {
        step: false,
        signal: parseHexInt(m[1]!),
        thread: ctx.cThread > 0 ? ctx.cThread : undefined,
      });
    },
  },
  {
    cmd: 'S',
    prefix: true,
    threads: resumeThread,
    handler: (ctx, args) => {
      const m = /^([0-9a-fA-F]{1,2})$/.exec(args);
      if (!m) return args.includes(';') ? '' : ERR_ARGS;
      return resumeReply(ctx, {
        step: true,
        signal: parseHexInt(m[1]!),
        thread: ctx.cThread > 0 ? ctx.cThread : undefined,
      });
    },
  },
  {
    cmd: 'bc',
    threads: resumeThread,
    handler: (ctx) => reverseReply(ctx, false),
  },
  {
    cmd: 'bs',
    threads: resumeThread,
    handler: (ctx) => reverseReply(ctx, true),
  },
  {
    cmd: 'H',
    prefix: true,
    threads: (args) => oneThread(args.slice(1)),
    handler: (ctx, args) => {
      const op = args[0];
      const id = parseThread(args.slice(1));
      if ((op !== 'g' && op !== 'c') || id === undefined) return ERR_ARGS;
      if (op === 'g') ctx.gThread = id;
      else ctx.cThread = id;
      return 'OK';
    },
  },
  {
    cmd: 'T',
    prefix: true,
    threads: oneThread,
    // dispatch() has answered for a thread that does not exist
    handler: (_ctx, args) => (parseThread(args) === undefined ? ERR_ARGS : 'OK'),
  },
  {
    cmd: 'D',
    prefix: true,
    handler: (ctx) => {
      ctx.detach();
      return 'OK';
    },
  },
  {
    cmd: 'k',
    prefix: true,
    handler: async (ctx) => {
      await ctx.kill();
      return undefined;
    },
  },
];

function parseBreakpoint(args: string): BreakpointRecord | undefined {
  // type,addr,kind[;cond...] -- conditions and commands are not supported (we do not advertise them)
  const m = /^([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(args);
  if (!m) return undefined;
  const addr = parseHexBig(m[2]!);
  const kind = parseHexInt(m[3]!);
  if (addr === undefined || kind === undefined) return undefined;
  return { type: Number(m[1]) as BreakpointType, addr, kind };
}

// Longest names first so that e.g. "vCont?" wins over "vCont" and "qXfer:features:read" over nothing shorter.
const byName = [...commands].sort((a, b) => b.cmd.length - a.cmd.length);
const byChar = new Map<string, Command>();
for (const c of commands) if (c.prefix) byChar.set(c.cmd, c);

export function findCommand(packet: string): { command: Command; args: string } | undefined {
  const first = packet[0];
  if (first === undefined) return undefined;
  if (first === 'q' || first === 'Q' || first === 'v' || first === 'b') {
    for (const c of byName) {
      if (c.prefix || !packet.startsWith(c.cmd)) continue;
      const next = packet[c.cmd.length];
      if (next === undefined || next === ':' || next === ',' || next === ';')
        return { command: c, args: packet.slice(c.cmd.length) };
    }
    return undefined;
  }
  const c = byChar.get(first);
  return c ? { command: c, args: packet.slice(1) } : undefined;
}

/** Handle one packet; the empty reply for anything unknown, an error reply when a handler fails. */
export async function dispatch(ctx: StubContext, raw: Buffer): Promise<Reply> {
  // binary payloads (X) are only valid for X; everything else is text
  const text = raw[0] === 0x58 ? 'X' : raw.toString('latin1');
  const found = findCommand(text);
  if (!found) return '';
  try {
    const threads = found.command.threads?.(found.args, ctx);
    if (threads && !(await threadsExist(ctx.target, threads))) return ERR_NO_THREAD;
    return await found.command.handler(ctx, found.args, raw);
  } catch (err) {
    if (err instanceof Unsupported) return '';
    if (err instanceof Refused) return `E.${err.message}`;
    ctx.log(`gdbstub: ${text.slice(0, 40)} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 'E01';
  }
}
