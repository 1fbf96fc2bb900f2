// A Target that is itself an RSP client over any Duplex stream: gdbserver running the UML kernel (the engine hands us
// its channel), or any other stub (QEMU's -s). Lean by design: one request in flight, no Nagle, no-ack mode with the
// server, thread ids passed through, expedited registers passed through to the stop reply.
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { decodeBody, frame, frameRaw, PacketReader, toHex, fromHex } from './packet.js';
import { pollFor } from './poll.js';
import { registerLayout, type RegisterLayout } from './registers.js';
import {
  continueHidingSignals,
  expeditedRegisters,
  runWatched,
  stepHidingSignals,
  stopRegister,
  type StepServer,
} from './stepping.js';
import { WatchEmulation, type WatchedRange } from './watch-emulation.js';
import {
  readOneRegister,
  Refused,
  Unsupported,
  type AddressSpace,
  type BreakpointType,
  type ResumeAction,
  type StopReason,
  type Target,
  type ThreadInfo,
} from './target.js';

export interface ProxyOptions {
  /** Signals (GDB numbering) the server should deliver without stopping, always. */
  passSignals?: number[];
  /** Called after the target was killed (k), e.g. to stop the guest's processes. */
  onKill?: () => Promise<void> | void;
  /** Name shown for threads (qfThreadInfo / info threads). */
  threadName?: string;
  log?: (line: string) => void;
  /** Interrupt by sending this signal to the inferior's main process (the thread of the server's first stop report)
   *  instead of `^C` to the server. For a gdbserver on this host running UML: gdbserver's ^C sends SIGINT to the
   *  whole process group, which holds UML's guest processes too, and kills the guest; this stops only the kernel. */
  signalInterrupt?: NodeJS.Signals;
  /** The host pid of the process the server calls `pid`, where they differ (a server in a pid namespace); undefined
   *  if it has none. Absent: the same number. */
  hostPid?: (pid: number) => number | undefined;
  /** Why no thread but the inferior's main one can be single-stepped, where that is so (a step of another is refused
   *  with this reason instead of never ending). */
  onlyMainThreadSteps?: string;
  /** How long to wait for the server's answers during connect (ms). */
  timeoutMs?: number;
  /** The server's write watchpoints never fire (debug registers that do not trap on this host): serve them here,
   *  by single-stepping. */
  emulateWatchpoints?: boolean;
  /** Told once, when watchpoints are first emulated (it is slow). */
  notice?: (line: string) => void;
}

export class RspError extends Error {}

/** A minimal RSP client: sequential requests, replies in order. */
export class RspClient {
  private readonly reader: PacketReader;
  private noAck = false;
  private waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void; skipOutput: boolean }[] = [];
  /** The wire form of each reply (for passing replies through undecoded). */
  readonly wire = new WeakMap<Buffer, { raw: Buffer; cs: number }>();
  private lastSent?: Buffer;
  private closedError?: Error;
  private chain: Promise<unknown> = Promise.resolve();
  onOutput?: (text: string) => void;

  constructor(private readonly stream: Duplex) {
    this.reader = new PacketReader(
      (ev) => {
        if (ev.type === 'packet') {
          if (!this.noAck) this.stream.write('+');
          const head = this.waiting[0];
          if (!head) return; // unsolicited: ignore
          const d = ev.data;
          if (head.skipOutput && d.length > 1 && d[0] === 0x4f && isHexOutput(d)) {
            this.onOutput?.(Buffer.from(d.subarray(1).toString('latin1'), 'hex').toString('utf8'));
            return;
          }
          this.waiting.shift();
          this.wire.set(d, { raw: ev.raw, cs: ev.cs });
          head.resolve(d);
        } else if (ev.type === 'nak') {
          if (this.lastSent && !this.noAck) this.stream.write(this.lastSent);
        } else if (ev.type === 'bad') {
          if (!this.noAck) this.stream.write('-');
        }
      },
      { maxRaw: 4 * 1024 * 1024, maxDecoded: 8 * 1024 * 1024, verify: () => !this.noAck },
    );
    stream.on('data', (chunk: Buffer) => this.reader.feed(chunk));
    const fail = (err: Error) => {
      this.closedError = err;
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    stream.on('error', (err) => fail(new RspError(`the debug channel failed: ${err.message}`)));
    stream.on('close', () => fail(new RspError('the debug channel closed')));
    stream.on('end', () => fail(new RspError('the debug channel closed')));
  }

  setNoAck(): void {
    this.noAck = true;
  }

  /** Send a packet and wait for its reply (skipOutput: skip `O` console packets, for resume). */
  request(payload: string | Buffer, skipOutput = false): Promise<Buffer> {
    const run = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.closedError) return reject(this.closedError);
          this.waiting.push({ resolve, reject, skipOutput });
          const packet = frame(payload);
          this.lastSent = packet;
          this.stream.write(packet);
          pollFor(2);
        }),
    );
    this.chain = run.catch(() => {});
    return run;
  }

  /** Send several packets at once and collect their replies in order (the server handles them one after the other;
   *  pipelining saves a round trip per packet). */
  requestMany(payloads: (string | Buffer)[], firstSkipsOutput = false): Promise<Buffer[]> {
    const run = this.chain.then(() => {
      if (this.closedError) return Promise.reject(this.closedError);
      const replies = payloads.map(
        (_, i) =>
          new Promise<Buffer>((resolve, reject) =>
            this.waiting.push({ resolve, reject, skipOutput: i === 0 && firstSkipsOutput }),
          ),
      );
      const packets = payloads.map((p) => frame(p));
      this.lastSent = packets[packets.length - 1];
      this.stream.write(packets.length === 1 ? packets[0]! : Buffer.concat(packets));
      pollFor(2);
      return Promise.all(replies);
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Send without waiting for a reply (k). */
  send(payload: string): void {
    if (!this.closedError) this.stream.write(frame(payload));
  }

  /** Hang up: the server (gdbserver --once) exits when its client goes. */
  close(): void {
    this.stream.end();
  }

  /** ^C, out of band. */
  interrupt(): void {
    if (!this.closedError) this.stream.write(Buffer.from([0x03]));
  }
}

function isHexOutput(d: Buffer): boolean {
  if ((d.length - 1) % 2 !== 0) return false;
  for (let i = 1; i < d.length; i++) {
    const c = d[i]!;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) return false;
  }
  return true;
}

/** Whether a reply is non-empty even-length hex (not an error). */
function isHexReply(reply: Buffer): boolean {
  // servers answer memory in lowercase hex; errors are `Enn` (odd length) or `E.text`
  return reply.length > 0 && reply.length % 2 === 0 && reply[0] !== 0x45;
}

/** A hex reply (m, g, p) as bytes; undefined for an error reply or malformed hex. */
function hexReply(reply: Buffer): Buffer | undefined {
  if (reply.length % 2 !== 0 || reply[0] === 0x45 /* E */) return undefined;
  const data = Buffer.from(reply.toString('latin1'), 'hex');
  return data.length * 2 === reply.length ? data : undefined;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

function text(b: Buffer): string {
  return b.toString('latin1');
}

function isError(reply: string): boolean {
  return /^E[0-9a-fA-F]{2}$/.test(reply) || reply.startsWith('E.');
}

/** A g reply as bytes; 'xx' marks an unavailable register, read as zeros. */
function gReply(raw: Buffer): Buffer {
  const data = hexReply(raw.includes(0x78) ? Buffer.from(text(raw).replace(/x/g, '0'), 'latin1') : raw);
  if (!data) throw new RspError(`reading registers: ${text(raw).slice(0, 20)}`);
  return data;
}

/** Parse a stop reply (T/S/W/X) into a StopReason. */
export function parseStopReply(
  reply: string,
  hint: { stepping: boolean; interrupted: boolean; thread: number },
): StopReason {
  const kind = reply[0];
  if (kind === 'W' || kind === 'X') {
    const code = Number.parseInt(reply.slice(1, 3), 16);
    return kind === 'W'
      ? { kind: 'exited', thread: hint.thread, exitCode: code }
      : { kind: 'exited', thread: hint.thread, signal: code };
  }
  if (kind !== 'T' && kind !== 'S') throw new RspError(`unexpected stop reply "${reply.slice(0, 40)}"`);
  const signal = Number.parseInt(reply.slice(1, 3), 16);
  let thread = hint.thread;
  let expedited = '';
  let watch: StopReason['watch'];
  let address: bigint | undefined;
  let sw = false;
  let hw = false;
  if (kind === 'T') {
    for (const pair of reply.slice(3).split(';')) {
      if (!pair) continue;
      const colon = pair.indexOf(':');
      const key = colon < 0 ? pair : pair.slice(0, colon);
      const value = colon < 0 ? '' : pair.slice(colon + 1);
      if (/^[0-9a-fA-F]+$/.test(key)) expedited += `${key}:${value};`;
      else if (key === 'thread') {
        const m = /^(?:p[0-9a-fA-F]+\.)?([0-9a-fA-F]+)$/.exec(value);
        if (m) thread = Number.parseInt(m[1]!, 16);
      } else if (key === 'watch' || key === 'rwatch' || key === 'awatch') {
        watch = key === 'watch' ? 'write' : key === 'rwatch' ? 'read' : 'access';
        address = BigInt('0x' + (value || '0'));
      } else if (key === 'swbreak') sw = true;
      else if (key === 'hwbreak') hw = true;
    }
  }
  const base = { thread, signal, ...(expedited ? { expedited } : {}) };
  if (watch) return { ...base, kind: 'watchpoint', watch, address };
  if (signal === 5 && (sw || hw)) return { ...base, kind: 'breakpoint', hw };
  if (signal === 5 && hint.stepping) return { ...base, kind: 'step' };
  if (signal === 2 && hint.interrupted) return { ...base, kind: 'interrupt' };
  return { ...base, kind: 'signal' };
}

export class ProxyTarget implements Target {
  arch: 'riscv64' | 'x86_64' = 'x86_64';
  /** The server steps ranges (vCont;r): passed through, a line's loop costs one round trip instead of one a step. */
  rangeStepping = false;
  private xml = new Map<string, string>();
  private stop: StopReason = { kind: 'signal', thread: 1, signal: 5 };
  /** The server's general thread (Hg): after a stop in all-stop mode it is the thread that stopped. */
  private serverG = 0;
  private packetSize = 0x3fff;
  private resuming = false;
  private interrupted = false;
  private threadCache?: ThreadInfo[];
  private clientPass: number[] = [];
  private readonly alwaysPass: number[];
  private killed = false;
  /** The inferior's main thread (the thread of the first stop), as the server names it. */
  private mainThread = 0;
  /** The inferior's main process id on this host, for signalInterrupt; 0: none. */
  private mainPid = 0;
  /** The client's breakpoints in the server (software and hardware, deferred removals carried out), by key. */
  private readonly clientBreakpoints = new Map<string, bigint>();
  private readonly watches?: WatchEmulation;
  /** Registers written since the last stop: its expedited registers are out of date. */
  private registersWritten = false;
  /** The server's g packet at this stop for the thread that stopped, asked for in the same write as the step: the
   *  client's `g` after a step (and the kernel-aware layer's) is answered without a round trip to the server. */
  private stopRegisters?: { thread: number; data: Buffer };
  /** The server answered `p` with the empty reply (gdbserver on x86): not asked again. */
  private noP = false;

  constructor(
    private readonly rsp: RspClient,
    private readonly opts: ProxyOptions = {},
  ) {
    this.alwaysPass = opts.passSignals ?? [];
    if (opts.emulateWatchpoints) this.watches = new WatchEmulation(opts.notice ?? opts.log ?? (() => {}));
  }

  /** Handshake with the server: features, no-ack mode, the initial stop, signals to pass, the target description. */
  async init(): Promise<void> {
    // xmlRegisters=i386 as gdb says it: without it gdbserver on x86 describes only the architecture, no registers,
    // which gdb makes up for from its built-in layout but other clients (lldb) cannot
    const supported = text(await this.rsp.request('qSupported:swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386'));
    const size = /PacketSize=([0-9a-fA-F]+)/.exec(supported);
    if (size) this.packetSize = Number.parseInt(size[1]!, 16);
    if (supported.includes('QStartNoAckMode+')) {
      if (text(await this.rsp.request('QStartNoAckMode')) === 'OK') this.rsp.setNoAck();
    }
    this.rangeStepping = /;r(;|$)/.test(text(await this.rsp.request('vCont?')));
    this.setStop(text(await this.rsp.request('?')), false);
    this.mainThread = this.stop.thread;
    this.mainPid = (this.opts.hostPid ? this.opts.hostPid(this.mainThread) : this.mainThread) ?? 0;
    await this.sendPassSignals();
    if (supported.includes('qXfer:features:read+')) await this.fetchXml('target.xml');
    const xml = this.xml.get('target.xml') ?? '';
    if (/riscv/.test(xml)) this.arch = 'riscv64';
  }

  private async fetchXml(annex: string): Promise<void> {
    if (this.xml.has(annex)) return;
    let data = '';
    const chunk = Math.max(256, this.packetSize - 32);
    for (;;) {
      const reply = await this.rsp.request(
        `qXfer:features:read:${annex}:${data.length.toString(16)},${chunk.toString(16)}`,
      );
      const head = String.fromCharCode(reply[0] ?? 0);
      if (head !== 'm' && head !== 'l') {
        if (annex === 'target.xml')
          throw new RspError(`the server has no target description (${text(reply).slice(0, 20)})`);
        return;
      }
      data += reply.subarray(1).toString('utf8');
      if (head === 'l') break;
    }
    this.xml.set(annex, data);
    for (const m of data.matchAll(/<xi:include\s+href="([^"]+)"/g)) await this.fetchXml(m[1]!);
  }

  private async sendPassSignals(): Promise<void> {
    const all = [...new Set([...this.alwaysPass, ...this.clientPass])].sort((a, b) => a - b);
    if (all.length === 0) return;
    const reply = text(
      await this.rsp.request('QPassSignals:' + all.map((s) => s.toString(16).padStart(2, '0')).join(';')),
    );
    if (reply !== 'OK')
      this.opts.log?.(`gdbstub proxy: the server did not take QPassSignals (${reply || 'unsupported'})`);
  }

  private setStop(reply: string, stepping: boolean): StopReason {
    const stop = parseStopReply(reply, { stepping, interrupted: this.interrupted, thread: this.stop.thread });
    this.stop = stop;
    this.registersWritten = false;
    this.stopRegisters = undefined;
    this.serverG = stop.thread;
    // the inferior is gone: hang up, as gdb would (gdbserver waits for that before it exits)
    if (stop.kind === 'exited') this.rsp.close();
    return stop;
  }

  targetXml(annex: string): string | undefined {
    return this.xml.get(annex);
  }

  private async selectThread(thread: number): Promise<void> {
    if (thread <= 0 || thread === this.serverG) return;
    const reply = text(await this.rsp.request(`Hg${thread.toString(16)}`));
    if (reply !== 'OK') throw new RspError(`no thread ${thread}`);
    this.serverG = thread;
  }

  async readRegisters(thread: number): Promise<Uint8Array> {
    const cached = this.stopRegisters;
    if (cached && cached.thread === (thread > 0 ? thread : this.serverG)) return Buffer.from(cached.data);
    await this.selectThread(thread);
    return gReply(await this.rsp.request('g'));
  }

  /** Keep the g packet read right after a step's stop, and expedite its core registers in the stop reply (gdb then
   *  unwinds the frame, and prints its arguments, without asking for registers). */
  private keepStopRegisters(stop: StopReason, raw: Buffer): void {
    if (stop.kind === 'exited' || this.stop !== stop) return;
    let data: Buffer;
    try {
      data = gReply(raw);
    } catch {
      return; // the server could not read them: the client asks, as it would anyway
    }
    this.stopRegisters = { thread: stop.thread, data };
    this.layout ??= registerLayout((annex) => this.xml.get(annex)) ?? null;
    if (this.layout) stop.expedited = expeditedRegisters(this.arch, this.layout, data, stop.expedited);
  }

  private layout?: RegisterLayout | null;

  async writeRegisters(thread: number, data: Uint8Array): Promise<void> {
    await this.selectThread(thread);
    this.registersWritten = true;
    this.stopRegisters = undefined;
    const reply = text(await this.rsp.request('G' + toHex(data)));
    if (reply === '') throw new Unsupported('G');
    if (reply !== 'OK') throw new RspError(`writing registers: ${reply}`);
  }

  async readRegister(thread: number, regno: number): Promise<Uint8Array | undefined> {
    if (this.noP) throw new Unsupported('p');
    await this.selectThread(thread);
    const reply = text(await this.rsp.request('p' + regno.toString(16)));
    if (reply === '') {
      this.noP = true;
      throw new Unsupported('p'); // the client falls back to g, as it would with the server
    }
    if (isError(reply)) return undefined;
    return fromHex(reply.replace(/x/g, '0'));
  }

  async writeRegister(thread: number, regno: number, value: Uint8Array): Promise<void> {
    await this.selectThread(thread);
    this.registersWritten = true;
    this.stopRegisters = undefined;
    const reply = text(await this.rsp.request(`P${regno.toString(16)}=${toHex(value)}`));
    if (reply === '') throw new Unsupported('P');
    if (reply !== 'OK') throw new RspError(`writing register ${regno}: ${reply || 'unsupported'}`);
  }

  // A memory cache valid only while the target stays stopped and unwritten. After a single step the client nearly
  // always reads the same small ranges it read after the previous stop (the frame it unwinds), so the proxy asks
  // for those ranges, slightly widened, in the same write as the step: the server answers them right after the stop
  // reply, and the client's reads are served here without another round trip.
  private memCache: { addr: bigint; end: bigint; data: Buffer }[] = [];
  private readsSinceStop: { addr: bigint; len: number }[] = [];

  private cached(addr: bigint, len: number): Buffer | undefined {
    const end = addr + BigInt(len);
    for (const c of this.memCache) {
      if (addr >= c.addr && end <= c.end) {
        const off = Number(addr - c.addr);
        return Buffer.from(c.data.subarray(off, off + len));
      }
    }
    return undefined;
  }

  private prefetchRequests(): { addr: bigint; len: number }[] {
    const out: { addr: bigint; len: number }[] = [];
    for (const r of this.readsSinceStop) {
      // widened a little: a step moves the stack pointer by a few words (push, pop, call, ret)
      const start = (r.addr > 64n ? r.addr - 64n : 0n) & ~15n;
      const len = Math.min(2048, Number(((r.addr + BigInt(r.len) + 64n + 15n) & ~15n) - start));
      if (!out.some((o) => start >= o.addr && start + BigInt(len) <= o.addr + BigInt(o.len)))
        out.push({ addr: start, len });
    }
    return out;
  }

  async readMemory(addr: bigint, len: number, _space?: AddressSpace): Promise<Uint8Array> {
    const hex = await this.readMemoryHex(addr, len);
    if (Buffer.isBuffer(hex)) return Buffer.from(hex.toString('latin1'), 'hex');
    // a framed pass-through packet: decode it
    const body = hex.framed.subarray(1, hex.framed.length - 3);
    return Buffer.from((decodeBody(body, 4 * len + 64) ?? Buffer.alloc(0)).toString('latin1'), 'hex');
  }

  async readMemoryHex(addr: bigint, len: number): Promise<Buffer | { framed: Buffer }> {
    if (len <= 1024) {
      if (this.readsSinceStop.length < 4) this.readsSinceStop.push({ addr, len });
      const hit = this.cached(addr, len);
      if (hit) return Buffer.from(hit.toString('hex'), 'latin1');
    }
    const max = Math.max(16, Math.floor((this.packetSize - 8) / 2));
    const requests: string[] = [];
    const sizes: number[] = [];
    for (let done = 0; done < len; done += max) {
      const n = Math.min(max, len - done);
      requests.push(`m${(addr + BigInt(done)).toString(16)},${n.toString(16)}`);
      sizes.push(n);
    }
    const replies = await this.rsp.requestMany(requests);
    const parts: Buffer[] = [];
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i]!;
      if (!isHexReply(r)) break;
      parts.push(r);
      if (r.length < sizes[i]! * 2) break;
    }
    if (parts.length === 0) throw new RspError(`cannot read memory at 0x${addr.toString(16)}`);
    if (parts.length === replies.length) {
      // everything came: pass the server's packets through as they are (run-length encoded, fewer bytes)
      const wire = parts.map((p) => this.rsp.wire.get(p));
      if (wire.every((w) => w !== undefined)) return frameRaw(wire as { raw: Buffer; cs: number }[]);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async writeMemory(addr: bigint, data: Uint8Array, _space?: AddressSpace): Promise<void> {
    this.memCache = [];
    const max = Math.max(16, Math.floor((this.packetSize - 64) / 2));
    for (let off = 0; off < data.length; off += max) {
      const part = data.subarray(off, Math.min(data.length, off + max));
      const a = (addr + BigInt(off)).toString(16);
      const reply = text(await this.rsp.request(`M${a},${part.length.toString(16)}:${toHex(part)}`));
      if (reply !== 'OK') throw new RspError(`cannot write memory at 0x${a}`);
    }
  }

  private async breakpoint(op: 'Z' | 'z', type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    const reply = text(await this.rsp.request(`${op}${type},${addr.toString(16)},${kind.toString(16)}`));
    if (reply === 'OK') return true;
    if (reply === '') return false;
    throw new RspError(`${op}${type} at 0x${addr.toString(16)}: ${reply}`);
  }

  // Removals are deferred until the target next runs: gdb removes and re-inserts its breakpoints around every stop
  // (z0 then Z0 at the same address for each stepi), and a re-insertion of a pending removal costs nothing then.
  // Inserted-but-unwanted breakpoints are invisible while stopped: the server shadows them in memory reads.
  private pendingRemoval = new Set<string>();

  async insertBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    if (type >= 2 && this.watches) {
      await this.watches.insert(type, addr, kind, async () => Buffer.from(await this.readMemory(addr, kind)));
      return true;
    }
    const key = `${type},${addr.toString(16)},${kind.toString(16)}`;
    if (this.pendingRemoval.delete(key)) return true;
    const inserted = await this.breakpoint('Z', type, addr, kind);
    if (inserted && type <= 1) this.clientBreakpoints.set(key, addr);
    return inserted;
  }

  async removeBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    if (type >= 2 && this.watches) {
      this.watches.remove(addr, kind);
      return true;
    }
    const key = `${type},${addr.toString(16)},${kind.toString(16)}`;
    // only software breakpoints: hardware ones occupy scarce debug registers a following insertion may need
    if (type !== 0) {
      this.clientBreakpoints.delete(key);
      return this.breakpoint('z', type, addr, kind);
    }
    this.pendingRemoval.add(key);
    return true;
  }

  /** Carry out deferred removals (before the target runs, and when a client goes). */
  async flushBreakpoints(): Promise<void> {
    if (this.pendingRemoval.size === 0) return;
    const keys = [...this.pendingRemoval];
    this.pendingRemoval.clear();
    for (const k of keys) this.clientBreakpoints.delete(k);
    const replies = await this.rsp.requestMany(keys.map((k) => `z${k}`));
    replies.forEach((r, i) => {
      const t = text(r);
      if (t !== 'OK') this.opts.log?.(`gdbstub proxy: removing breakpoint z${keys[i]}: ${t || 'unsupported'}`);
    });
  }

  /** The server as stepping.ts drives it: raw steps and continues, breakpoints of the relay's own. `registers`: read
   *  the registers with each step (see stopRegisters). */
  private stepServer(registers: boolean): StepServer {
    const ownKind = this.arch === 'x86_64' ? 1 : 4;
    const clientAt = (addr: bigint) => [...this.clientBreakpoints.values()].includes(addr);
    return {
      arch: this.arch,
      guestSignals: this.alwaysPass,
      step: async (thread, signal, reads, range) => {
        const tid = thread.toString(16);
        const packet =
          signal !== undefined
            ? `vCont;S${hex2(signal)}:${tid}`
            : range && this.rangeStepping
              ? `vCont;r${range.start.toString(16)},${range.end.toString(16)}:${tid}`
              : `vCont;s:${tid}`;
        const extra = registers ? ['g'] : [];
        const replies = await this.rsp.requestMany(
          [packet, ...extra, ...reads.map((r) => `m${r.addr.toString(16)},${r.len.toString(16)}`)],
          true,
        );
        const stop = this.setStop(text(replies[0]!), true);
        if (registers) this.keepStopRegisters(stop, replies[1]!);
        return { stop, data: reads.map((_, i) => hexReply(replies[i + 1 + extra.length]!)) };
      },
      cont: async (thread, signal) => {
        const packet = signal !== undefined ? `vCont;C${hex2(signal)}:${thread.toString(16)};c` : 'vCont;c';
        return this.setStop(text(await this.rsp.request(packet, true)), false);
      },
      insertOwnBreakpoint: async (addr) => !clientAt(addr) && this.breakpoint('Z', 0, addr, ownKind),
      removeOwnBreakpoint: async (addr) => void (await this.breakpoint('z', 0, addr, ownKind)),
      clientBreakpointAt: clientAt,
      // the registers the relay reads (pc, sp) come after 8-byte ones only, on both architectures
      readRegister: (thread, regno) => readOneRegister(this, thread, regno, { offset: regno * 8, size: 8 }),
      readMemory: async (addr, len) => hexReply(await this.rsp.request(`m${addr.toString(16)},${len.toString(16)}`)),
      vdso: () => (this.vdso ??= this.findVdso()) || undefined,
    };
  }

  private vdso?: { start: bigint; end: bigint } | null;

  /** The inferior's vDSO, from /proc when the server runs it on this host (see signalInterrupt); null if unknown. */
  private findVdso(): { start: bigint; end: bigint } | null {
    if (!this.opts.signalInterrupt || this.mainPid <= 1) return null;
    try {
      const line = readFileSync(`/proc/${this.mainPid}/maps`, 'utf8')
        .split('\n')
        .find((l) => l.endsWith('[vdso]'));
      const m = line && /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      return m ? { start: BigInt('0x' + m[1]!), end: BigInt('0x' + m[2]!) } : null;
    } catch {
      return null;
    }
  }

  async resume(action: ResumeAction): Promise<StopReason> {
    if (this.killed || this.stop.kind === 'exited') return this.stop;
    const thread = action.thread && action.thread > 0 ? action.thread : this.stop.thread;
    const why = this.opts.onlyMainThreadSteps;
    if (action.step && why && thread !== this.mainThread) {
      const [it, main] = [thread, this.mainThread].map((t) => t.toString(16));
      throw new Refused(`kwb: thread ${it} cannot be stepped (${why}); step thread ${main}`);
    }
    await this.flushBreakpoints();
    if (!action.step) this.threadCache = undefined; // threads come and go while it runs; a single step keeps them
    const server = this.stepServer(action.step && !this.watches?.active);
    // where a step starts (see stepHidingSignals): the last stop's pc, read again if the client wrote registers
    const from = this.registersWritten ? { ...this.stop, expedited: undefined } : this.stop;
    const startPc = action.step && this.alwaysPass.length > 0 ? await stopRegister(server, from, 'pc') : undefined;
    this.memCache = [];
    const prefetch = action.step ? this.prefetchRequests() : [];
    this.readsSinceStop = [];
    this.resuming = true;
    this.interrupted = false;
    try {
      if (!action.step) {
        if (this.watches?.active) return this.settle(await runWatched(server, this.watches, thread, action.signal));
        return await continueHidingSignals(server, thread, action.signal);
      }
      const watched = this.watches?.ranges() ?? [];
      // watched memory is compared after every instruction: no range steps then
      const range = this.watches?.active ? undefined : action.range;
      const reads = [...watched, ...prefetch];
      const { stop, data } = await stepHidingSignals(server, thread, action.signal, reads, startPc, range);
      prefetch.forEach((r, i) => {
        const d = data[watched.length + i];
        if (d && d.length > 0) this.memCache.push({ addr: r.addr, end: r.addr + BigInt(d.length), data: d });
      });
      if (!this.watches?.active || stop.kind === 'exited') return this.settle(stop);
      // a step writes watched memory as a continue does (and a handler run on the way may have)
      const now = data.length > 0 ? data : await this.readRanges(watched);
      const hit = this.watches.changed(now.slice(0, watched.length));
      return this.settle(hit ? { ...stop, kind: 'watchpoint', signal: 5, watch: 'write', address: hit.addr } : stop);
    } finally {
      this.resuming = false;
    }
  }

  /** Record the stop resume() reports when it is not the server's last reply as it came. */
  private settle(stop: StopReason): StopReason {
    this.stop = stop;
    return stop;
  }

  private async readRanges(ranges: WatchedRange[]): Promise<(Buffer | undefined)[]> {
    if (ranges.length === 0) return [];
    const replies = await this.rsp.requestMany(ranges.map((r) => `m${r.addr.toString(16)},${r.len.toString(16)}`));
    return replies.map(hexReply);
  }

  interrupt(): void {
    if (!this.resuming) return;
    this.interrupted = true;
    if (this.opts.signalInterrupt && this.mainPid > 1) {
      try {
        process.kill(this.mainPid, this.opts.signalInterrupt);
        return;
      } catch {
        // not ours to signal (remote server): fall back to ^C
      }
    }
    this.rsp.interrupt();
  }

  lastStop(): StopReason {
    // registers written since: what the stop reply carried is out of date
    return this.registersWritten && this.stop.expedited ? { ...this.stop, expedited: undefined } : this.stop;
  }

  async threads(): Promise<ThreadInfo[]> {
    if (this.threadCache) return this.threadCache;
    const ids: number[] = [];
    let reply = text(await this.rsp.request('qfThreadInfo'));
    while (reply.startsWith('m')) {
      for (const id of reply.slice(1).split(',')) {
        const m = /^(?:p[0-9a-fA-F]+\.)?([0-9a-fA-F]+)$/.exec(id);
        if (m) ids.push(Number.parseInt(m[1]!, 16));
      }
      reply = text(await this.rsp.request('qsThreadInfo'));
    }
    if (ids.length === 0) ids.push(this.stop.thread);
    const name = this.opts.threadName ?? 'thread';
    this.threadCache = ids.map((id) => ({ id, name: ids.length === 1 ? name : `${name} ${id}` }));
    return this.threadCache;
  }

  async passSignals(signals: number[]): Promise<void> {
    this.clientPass = signals;
    await this.sendPassSignals();
  }

  async detach(): Promise<void> {
    // stay attached to the server (the next client will need it); just carry out what the client asked
    await this.flushBreakpoints();
  }

  async kill(): Promise<void> {
    if (this.killed) return;
    this.memCache = [];
    this.stopRegisters = undefined;
    this.killed = true;
    this.rsp.send('k');
    this.stop = { kind: 'exited', thread: this.stop.thread, signal: 9 };
    await this.opts.onKill?.();
  }
}

/** Connect a proxy Target to an RSP server on the given stream (e.g. Guest.debugChannel()'s). */
export async function connectProxy(stream: Duplex, opts: ProxyOptions = {}): Promise<ProxyTarget> {
  const setNoDelay = (stream as Duplex & { setNoDelay?: (b: boolean) => void }).setNoDelay;
  if (typeof setNoDelay === 'function') setNoDelay.call(stream, true);
  const rsp = new RspClient(stream);
  const target = new ProxyTarget(rsp, opts);
  const timeout = opts.timeoutMs ?? 15000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      target.init(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RspError(`the RSP server did not answer within ${timeout} ms`)), timeout);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
  return target;
}
