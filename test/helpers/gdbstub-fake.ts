// A small in-memory Target for protocol unit tests, and a raw RSP client over TCP.
import { connect, type Socket } from 'node:net';
import { frame, PacketReader } from '../../gdbstub/packet.js';
import type { BreakpointType, ResumeAction, StopReason, Target, ThreadInfo } from '../../gdbstub/target.js';

export const MEM_BASE = 0x1000n;
export const REGS = 4; // four 8-byte registers; register 3 is the pc

export class MemTarget implements Target {
  readonly arch = 'x86_64' as const;
  memory = Buffer.alloc(0x2000);
  regs = Buffer.alloc(REGS * 8);
  breakpoints = new Map<string, { type: BreakpointType; addr: bigint }>();
  resumes: ResumeAction[] = [];
  passed: number[] = [];
  detached = 0;
  killed = 0;
  private stop: StopReason = { kind: 'signal', thread: 1, signal: 5 };
  private pending?: (s: StopReason) => void;
  xml = '<?xml version="1.0"?><target>' + '<!-- padding -->'.repeat(400) + '</target>';

  constructor() {
    this.setPc(0x1100n);
  }

  pc(): bigint {
    return this.regs.readBigUInt64LE(24);
  }
  setPc(v: bigint): void {
    this.regs.writeBigUInt64LE(v, 24);
  }
  get running(): boolean {
    return this.pending !== undefined;
  }

  targetXml(annex: string): string | undefined {
    return annex === 'target.xml' ? this.xml : undefined;
  }
  async readRegisters(): Promise<Uint8Array> {
    return Buffer.from(this.regs);
  }
  async writeRegisters(_t: number, data: Uint8Array): Promise<void> {
    Buffer.from(data).copy(this.regs);
  }
  async readRegister(_t: number, regno: number): Promise<Uint8Array | undefined> {
    return regno < REGS ? this.regs.subarray(regno * 8, regno * 8 + 8) : undefined;
  }
  async writeRegister(_t: number, regno: number, value: Uint8Array): Promise<void> {
    if (regno >= REGS || value.length !== 8) throw new Error('bad register');
    Buffer.from(value).copy(this.regs, regno * 8);
  }
  private range(addr: bigint, len: number): [number, number] {
    const off = addr - MEM_BASE;
    if (off < 0n || off >= BigInt(this.memory.length)) throw new Error('unmapped');
    const start = Number(off);
    return [start, Math.min(this.memory.length, start + len)];
  }
  async readMemory(addr: bigint, len: number): Promise<Uint8Array> {
    const [s, e] = this.range(addr, len);
    return Buffer.from(this.memory.subarray(s, e));
  }
  async writeMemory(addr: bigint, data: Uint8Array): Promise<void> {
    const [s, e] = this.range(addr, data.length);
    if (e - s !== data.length) throw new Error('unmapped');
    Buffer.from(data).copy(this.memory, s);
  }
  async insertBreakpoint(type: BreakpointType, addr: bigint): Promise<boolean> {
    if (type === 4) return false; // pretend: no access watchpoints
    this.breakpoints.set(`${type}:${addr}`, { type, addr });
    return true;
  }
  async removeBreakpoint(type: BreakpointType, addr: bigint): Promise<boolean> {
    if (type === 4) return false;
    this.breakpoints.delete(`${type}:${addr}`);
    return true;
  }
  /** step: pc += 1. continue: run to the lowest breakpoint above pc (a watchpoint stops with its address), else
   *  run until interrupt(). */
  resume(action: ResumeAction): Promise<StopReason> {
    this.resumes.push(action);
    const thread = action.thread ?? 1;
    if (action.step) {
      this.setPc(this.pc() + 1n);
      this.stop = { kind: 'step', thread };
      return Promise.resolve(this.stop);
    }
    const watch = [...this.breakpoints.values()].find((b) => b.type === 2);
    if (watch) {
      this.stop = { kind: 'watchpoint', thread, watch: 'write', address: watch.addr };
      return Promise.resolve(this.stop);
    }
    const next = [...this.breakpoints.values()]
      .filter((b) => b.type === 0 && b.addr > this.pc())
      .sort((a, b) => (a.addr < b.addr ? -1 : 1))[0];
    if (next) {
      this.setPc(next.addr);
      this.stop = { kind: 'breakpoint', thread };
      return Promise.resolve(this.stop);
    }
    return new Promise((resolve) => (this.pending = resolve));
  }
  interrupt(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.stop = { kind: 'interrupt', thread: 1, signal: 2 };
    p(this.stop);
  }
  lastStop(): StopReason {
    return this.stop;
  }
  async threads(): Promise<ThreadInfo[]> {
    return [
      { id: 1, name: 'cpu0', extra: 'running init' },
      { id: 2, name: 'cpu1' },
    ];
  }
  async monitor(command: string): Promise<string | undefined> {
    if (command === 'help') return '  fake-cmd             a test command\n';
    return command === 'fake-cmd' ? 'fake output\n' : undefined;
  }
  async passSignals(signals: number[]): Promise<void> {
    this.passed = signals;
  }
  async detach(): Promise<void> {
    this.detached++;
  }
  async kill(): Promise<void> {
    this.killed++;
    this.stop = { kind: 'exited', thread: 1, exitCode: 0 };
  }
}

/** A raw RSP client: one request at a time, acks handled, replies as latin1 strings. */
export class RawClient {
  readonly sock: Socket;
  private replies: string[] = [];
  private waiters: ((s: string) => void)[] = [];
  acks = 0;
  naks = 0;
  closed = false;
  private readonly reader = new PacketReader(
    (ev) => {
      if (ev.type === 'ack') this.acks++;
      else if (ev.type === 'nak') this.naks++;
      else if (ev.type === 'packet') {
        const s = ev.data.toString('latin1');
        const w = this.waiters.shift();
        if (w) w(s);
        else this.replies.push(s);
      }
    },
    { maxRaw: 1 << 22, maxDecoded: 1 << 22 },
  );

  private constructor(sock: Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => this.reader.feed(d));
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    return new RawClient(sock);
  }

  next(timeoutMs = 5000): Promise<string> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply')), timeoutMs);
      this.waiters.push((s) => {
        clearTimeout(t);
        resolve(s);
      });
    });
  }

  send(payload: string | Buffer): void {
    this.sock.write(frame(payload));
  }

  raw(bytes: string | Buffer): void {
    this.sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  request(payload: string | Buffer, timeoutMs?: number): Promise<string> {
    this.send(payload);
    return this.next(timeoutMs);
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('not closed')), timeoutMs);
      this.sock.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

export const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await tick(10);
  }
}
