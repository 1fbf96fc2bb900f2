// A seeded random-packet fuzzer for an RSP stub: every packet letter, malformed checksums, truncated and overlong
// packets, bad escapes, huge numbers, binary junk, threads that do not exist, run control with ^C (and, on a guest
// that runs backwards, bs and bc), detaches and hang-ups. It acts as a hostile but not destructive client: it never kills the guest (no k, vKill, signals) and
// never changes its state (writes go to unmapped memory, or put back what was read), so the guest must afterwards
// still run its command to the end. It checks that every packet with a good checksum gets exactly one well-formed
// reply, in time, and that a packet naming a thread that does not exist gets E01.
import { connect, type Socket } from 'node:net';
import { checksum, frame, PacketReader } from '../../gdbstub/packet.js';

/** xorshift32: one seed, one sequence of packets. */
export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  hex(digits: number): string {
    let s = '';
    for (let i = 0; i < digits; i++) s += (this.next() & 15).toString(16);
    return s;
  }
  /** Random bytes without the ones that frame packets or stand for acks and ^C ($ # + - 0x03). */
  noise(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      let b = this.next() & 0xff;
      while (b === 0x24 || b === 0x23 || b === 0x2b || b === 0x2d || b === 0x03) b = this.next() & 0xff;
      out[i] = b;
    }
    return out;
  }
}

export class FuzzFailure extends Error {}

export interface FuzzOptions {
  seed: number;
  /** Stop after this many packets ... */
  packets: number;
  /** ... or after this long, whichever comes first. */
  timeLimitMs: number;
  /** How long one reply may take. */
  replyTimeoutMs?: number;
  /** Memory that exists in the guest (reads there succeed), e.g. UML's kernel text at 0x60000000. */
  memoryBase: bigint;
  /** The stub runs this guest backwards: steps and continues go back (bs, bc) now and then too. */
  reverse?: boolean;
}

export interface FuzzStats {
  packets: number;
  replies: number;
  sessions: number;
  resumes: number;
  ms: number;
}

/** A thread id no target has (above any pid and above kwb's own idle/CPU ids). */
export const NO_THREAD = 'ffffffff';

/** One connection to the stub, reading its replies. */
class Connection {
  private readonly replies: string[] = [];
  private waiter?: () => void;
  malformed = 0;
  closed = false;
  private constructor(readonly sock: Socket) {
    const reader = new PacketReader(
      (ev) => {
        if (ev.type === 'packet') this.replies.push(ev.data.toString('latin1'));
        else if (ev.type === 'bad' || ev.type === 'overflow') this.malformed++;
        this.waiter?.();
      },
      { maxRaw: 1 << 22, maxDecoded: 1 << 22 },
    );
    sock.on('data', (d: Buffer) => reader.feed(d));
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    sock.on('error', () => {});
  }

  static open(port: number): Promise<Connection> {
    const sock = connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    return new Promise((resolve, reject) => {
      sock.once('connect', () => resolve(new Connection(sock)));
      sock.once('error', reject);
    });
  }

  /** The next reply, or undefined when none came within `ms` (or the connection closed). */
  async next(ms: number): Promise<string | undefined> {
    const deadline = Date.now() + ms;
    while (this.replies.length === 0 && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.replies.shift();
  }

  get pending(): number {
    return this.replies.length;
  }

  write(bytes: Buffer | string): void {
    this.sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }
}

const isStop = (r: string) => /^[TS][0-9a-f]{2}/.test(r);
const printable = (b: Buffer | string) =>
  (typeof b === 'string' ? b : b.toString('latin1')).replace(/[^\x20-\x7e]/g, '.').slice(0, 80);

const MONITOR = ['help', 'info version', 'info target', 'info breakpoints', 'info threads', 'ps', 'lsmod'];
const MONITOR_JUNK = ['', 'threads', 'threads nope', 'info', 'frob', 'ps ps ps', '\u00ff\u0000'];
const QUERIES = [
  '?',
  'g',
  'qC',
  'qAttached',
  'qfThreadInfo',
  'qsThreadInfo',
  'qOffsets',
  'qSymbol::',
  'vCont?',
  'vMustReplyEmpty',
  'qTStatus',
  'qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vContSupported+',
  'qSupported',
  'qXfer:features:read:target.xml:0,fff',
  'qXfer:threads:read::0,fff',
  'vFile:open:2f,0,0',
  'qGetTLSAddr:1,0,0',
  'QNonStop:1',
  'QDisableRandomization:1',
  '!',
  'R00',
  'i',
  'bc',
];

/** The fuzzer: sessions of random actions until the packet or time budget is spent. */
export class RspFuzzer {
  private readonly rng: Rng;
  private conn?: Connection;
  private noAck = false;
  private lastReply?: string;
  private threads: number[] = [];
  /** A signal the last stop reported that the next resume hands back, as gdb does for signals it passes. */
  private pendingSignal?: number;
  private log: string[] = [];
  /** A packet was started and not finished: the next bytes, up to a '$', are taken into it. */
  private cutShort = false;
  /** This session's Hc named one thread, which resumes that name no thread of their own act on. */
  private resumeThreadNamed = false;
  readonly stats: FuzzStats = { packets: 0, replies: 0, sessions: 0, resumes: 0, ms: 0 };

  constructor(
    private readonly port: number,
    private readonly opts: FuzzOptions,
  ) {
    this.rng = new Rng(opts.seed);
  }

  private get timeout(): number {
    return this.opts.replyTimeoutMs ?? 30_000;
  }

  private fail(why: string): never {
    throw new FuzzFailure(
      `${why}\nseed ${this.opts.seed} (rerun with KWB_FUZZ_SEED=${this.opts.seed}), packet ${this.stats.packets}; ` +
        `last packets:\n  ${this.log.slice(-12).join('\n  ')}`,
    );
  }

  private note(label: string): void {
    this.log.push(label);
    if (this.log.length > 50) this.log.shift();
  }

  /** Send one packet (payload framed here, or bytes as they are) and wait for `replies` replies. */
  private async exchange(bytes: Buffer, label: string, replies: number): Promise<string[]> {
    const conn = this.conn!;
    this.stats.packets++;
    this.note(label);
    conn.write(bytes);
    if (bytes[0] === 0x24) this.cutShort = false;
    const out: string[] = [];
    for (let i = 0; i < replies; i++) {
      const r = await conn.next(this.timeout);
      if (r === undefined)
        this.fail(conn.closed ? `the stub hung up after ${label}` : `no reply to ${label} in ${this.timeout} ms`);
      out.push(r);
      this.stats.replies++;
      this.lastReply = r;
      this.log[this.log.length - 1] += ` -> ${printable(r)}`;
    }
    if (conn.malformed) this.fail(`a malformed reply (bad checksum or encoding) after ${label}`);
    return out;
  }

  private async request(payload: string | Buffer, check?: (r: string) => boolean): Promise<string> {
    const label = printable(payload);
    const [r] = await this.exchange(frame(payload), label, 1);
    if (check && !check(r!)) this.fail(`unexpected reply to ${label}: ${printable(r!)}`);
    return r!;
  }

  /** Bytes that must get no reply at all (bad checksums, noise, a packet cut short). */
  private async unanswered(bytes: Buffer, label: string): Promise<void> {
    await this.exchange(bytes, label, 0);
  }

  private async connect(): Promise<void> {
    const deadline = Date.now() + this.timeout;
    for (;;) {
      this.conn = await Connection.open(this.port);
      this.stats.sessions++;
      this.noAck = false;
      this.cutShort = false;
      this.resumeThreadNamed = false;
      this.lastReply = undefined;
      const first = await this.request('qSupported:swbreak+;hwbreak+;vContSupported+');
      if (!first.startsWith('E.')) break;
      // refused: the stub has not seen the previous connection go yet
      if (Date.now() > deadline) this.fail(`the stub refuses every new client: ${first}`);
      this.conn.sock.destroy();
      await new Promise((res) => setTimeout(res, 100));
    }
    const stop = await this.request('?', isStop);
    this.pendingSignal = undefined;
    this.noteStop(stop);
    this.threads = [];
    for (let r = await this.request('qfThreadInfo'); r.startsWith('m'); r = await this.request('qsThreadInfo'))
      for (const id of r.slice(1).split(',')) this.threads.push(Number.parseInt(id, 16));
  }

  private noteStop(reply: string): void {
    if (/^[WX]/.test(reply)) this.fail(`the guest exited: ${reply}`);
    const sig = Number.parseInt(reply.slice(1, 3), 16);
    this.pendingSignal = sig === 2 || sig === 5 ? undefined : sig;
  }

  private validThread(): string {
    return this.rng.pick(this.threads.length ? this.threads : [1]).toString(16);
  }

  private threadId(): { id: string; bad: boolean } {
    const r = this.rng.int(10);
    if (r < 4) return { id: this.rng.pick([NO_THREAD, '7ffffffe', '40000002', 'p1.ffffffff']), bad: true };
    if (r < 7) return { id: this.validThread(), bad: false };
    return { id: this.rng.pick(['0', '-1', 'p1.-1']), bad: false };
  }

  private address(): string {
    const base = this.opts.memoryBase;
    switch (this.rng.int(5)) {
      case 0:
        return (base + BigInt(this.rng.int(0x100000))).toString(16);
      case 1:
        return this.rng.hex(1 + this.rng.int(16));
      case 2:
        return this.rng.pick(['0', 'ffffffffffffffff', 'fffffffffffffff0', '8000000000000000']);
      case 3:
        return '0'.repeat(this.rng.int(40)) + base.toString(16);
      default:
        return this.rng.hex(17 + this.rng.int(30)); // more than 64 bits
    }
  }

  private length(): string {
    return this.rng.pick([
      '0',
      '1',
      '8',
      '40',
      '1000',
      '1fff0',
      '20000',
      'ffffffff',
      this.rng.hex(1 + this.rng.int(20)),
    ]);
  }

  /** Resume (step, or continue then ^C) and wait for the stop. */
  private async resume(step: boolean): Promise<void> {
    const sig = this.pendingSignal?.toString(16).padStart(2, '0');
    const tid = this.validThread();
    const back = this.opts.reverse ? [step ? 'bs' : 'bc'] : [];
    const forms = step
      ? sig
        ? [`S${sig}`, `vCont;S${sig}:${tid}`]
        : ['s', `vCont;s:${tid}`, `vCont;s:${tid};c`, ...back]
      : sig
        ? [`C${sig}`, `vCont;C${sig}:${tid};c`]
        : ['c', 'vCont;c', `vCont;c:${tid}`, ...back];
    const payload = this.rng.pick(forms);
    this.stats.resumes++;
    this.stats.packets++;
    this.note(payload);
    const conn = this.conn!;
    conn.write(frame(payload));
    this.cutShort = false;
    let reply: string | undefined;
    if (step) reply = await conn.next(this.timeout);
    else {
      // ^C after a moment; again now and then (it is ignored if it came before the stub started the resume)
      const deadline = Date.now() + this.timeout;
      await new Promise((res) => setTimeout(res, 5 + this.rng.int(40)));
      while (reply === undefined && !conn.closed && Date.now() < deadline) {
        conn.write(Buffer.from([3]));
        reply = await conn.next(1000);
      }
    }
    if (reply === undefined) this.fail(`no stop after ${payload}${conn.closed ? ' (the stub hung up)' : ''}`);
    this.stats.replies++;
    this.lastReply = reply;
    this.log[this.log.length - 1] += ` -> ${printable(reply)}`;
    // a task named by an earlier thread list (in the packet, or by Hc for a resume that names none) may have exited
    // since: refused as gdbserver refuses a gone thread
    if (reply === 'E01' && (/:[0-9a-f]+/.test(payload) || this.resumeThreadNamed)) return;
    if (!isStop(reply)) this.fail(`${payload} answered ${printable(reply)}, not a stop`);
    this.noteStop(reply);
  }

  /** One random action; true when it ended the session. */
  private async action(): Promise<boolean> {
    const rng = this.rng;
    const pick = rng.int(100);
    if (pick < 14) {
      await this.request(rng.pick(QUERIES));
    } else if (pick < 24) {
      await this.request(`m${this.address()},${this.length()}`);
    } else if (pick < 28) {
      await this.request(`p${rng.pick(['0', '10', '1f', '39', '7f', 'ffff', rng.hex(1 + rng.int(14))])}`);
    } else if (pick < 38) {
      const { id, bad } = this.threadId();
      const packet = rng.pick([
        `Hg${id}`,
        `Hc${id}`,
        `T${id}`,
        `qThreadExtraInfo,${id}`,
        ...(bad ? [`vCont;s:${id}`, `vCont;c:${id}`, `vCont;s:${this.validThread()};c:${id}`] : []),
      ]);
      const reply = await this.request(packet, bad ? (r) => r === 'E01' : undefined);
      if (packet.startsWith('Hc') && reply === 'OK') this.resumeThreadNamed = !['0', '-1', 'p1.-1'].includes(id);
    } else if (pick < 42) {
      await this.resume(true);
    } else if (pick < 45) {
      await this.resume(false);
    } else if (pick < 47) {
      // write back what was read: exercises G and P without changing the guest
      if (rng.int(2)) {
        const regs = await this.request('g');
        if (/^[0-9a-f]+$/.test(regs)) await this.request(`G${regs}`);
      } else {
        const reg = rng.pick(['0', '7', '10']);
        const value = await this.request(`p${reg}`);
        if (/^[0-9a-f]+$/.test(value)) await this.request(`P${reg}=${value}`);
      }
    } else if (pick < 51) {
      const low = rng.hex(1 + rng.int(3)); // the first page: never mapped
      const packet = rng.pick([
        `M${low},4:00000000`,
        `M${low},2:00`,
        Buffer.concat([Buffer.from(`X${low},4:`), Buffer.from([0x7d, 0x03, 0, 0, 0])]),
        `G${rng.hex(2 * (1 + rng.int(8)))}`,
        `P0=${rng.hex(2 * (1 + rng.int(3)))}`,
      ]);
      await this.request(packet, (r) => r.startsWith('E') || r === '');
    } else if (pick < 54) {
      // software breakpoints where there is no memory, hardware ones and watchpoints anywhere: taken out again
      // before the guest runs
      const type = rng.int(5);
      const addr = type === 0 ? BigInt(rng.int(0x1000)) : this.opts.memoryBase + BigInt(rng.int(0x100000));
      const where = `${type},${addr.toString(16)},${rng.pick(['1', '4', '8'])}`;
      await this.request(`Z${where}`);
      await this.request(`z${where}`);
    } else if (pick < 64) {
      // any letter but k (kill) and D (detach), with arguments no command takes
      let letter = 0x21 + rng.int(0x5e);
      while ([0x6b, 0x44, 0x24, 0x23, 0x7d, 0x2a].includes(letter)) letter = 0x21 + rng.int(0x5e);
      const body = Buffer.concat([Buffer.from([letter, 0x7a]), rng.noise(rng.int(64))]);
      await this.request(body);
    } else if (pick < 70) {
      const body = Buffer.from(rng.pick(['qAttached', 'g', 'm60000000,10', 'Hg1', 'vCont;c']));
      const cs = ((checksum(body) + 1 + rng.int(254)) & 0xff).toString(16).padStart(2, '0');
      await this.unanswered(Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${cs}`)]), 'bad checksum');
    } else if (pick < 73) {
      await this.unanswered(Buffer.from(`$${rng.pick(['m6000', 'qSupported:swb', 'g', 'Hg'])}`), 'cut short');
      this.cutShort = true;
    } else if (pick < 77) {
      await this.unanswered(rng.noise(1 + rng.int(512)), 'noise');
    } else if (pick < 78) {
      const body = Buffer.alloc(0x40100 + rng.int(0x40000), 'm');
      await this.exchange(Buffer.concat([Buffer.from('$'), body, Buffer.from('#00')]), 'overlong', 1);
    } else if (pick < 81) {
      await this.request(rng.pick(['m60000000,}', '*"', 'm}', 'qRcmd,}', 'm6*!,1']), (r) => r.startsWith('E'));
    } else if (pick < 83) {
      await this.request(
        rng.pick([
          `m${'f'.repeat(40)},1`,
          `m0,${'f'.repeat(20)}`,
          `qXfer:features:read:target.xml:${'f'.repeat(30)},10`,
          `Z0,${'f'.repeat(40)},1`,
          `p${'f'.repeat(30)}`,
        ]),
        (r) => r.startsWith('E') || r === '',
      );
    } else if (pick < 85) {
      if (!this.noAck && !this.cutShort && this.lastReply !== undefined) {
        const last = this.lastReply;
        const [again] = await this.exchange(Buffer.from('-'), 'nak', 1);
        if (again !== last) this.fail(`a nak resent ${printable(again!)}, not ${printable(last)}`);
      }
    } else if (pick < 86) {
      if (!this.noAck) {
        await this.request('QStartNoAckMode', (r) => r === 'OK');
        this.noAck = true;
      }
    } else if (pick < 88) {
      const sigs = Array.from({ length: rng.int(6) }, () => rng.pick(['02', '05', '0e', '17', '1a', 'ff', 'zz']));
      await this.request(`QPassSignals:${sigs.join(';')}`);
    } else if (pick < 92) {
      const words = rng.int(3) ? rng.pick(MONITOR) : rng.pick(MONITOR_JUNK);
      await this.request(`qRcmd,${Buffer.from(words, 'latin1').toString('hex')}`);
    } else if (pick < 94) {
      await this.request('D', (r) => r === 'OK');
      return true;
    } else if (pick < 96) {
      this.note('hang up');
      if (rng.int(2)) this.conn!.write(`$${rng.pick(['m6000', 'X60000000,4:}', 'qSupported:swbreak+#'])}`);
      this.conn!.sock.destroy();
      return true;
    } else {
      await this.request(rng.pick(['qfThreadInfo', 'qsThreadInfo', 'qC', '?']));
    }
    return false;
  }

  /** Run until the budget is spent; leaves the stub with no client. */
  async run(): Promise<FuzzStats> {
    const start = Date.now();
    await this.connect();
    while (this.stats.packets < this.opts.packets && Date.now() - start < this.opts.timeLimitMs) {
      if (await this.action()) await this.connect();
    }
    await this.request('D', (r) => r === 'OK');
    this.conn!.sock.destroy();
    this.stats.ms = Date.now() - start;
    return this.stats;
  }
}

/** A seed from KWB_FUZZ_SEED, or a fresh one. */
export function fuzzSeed(): number {
  const given = process.env.KWB_FUZZ_SEED;
  return given ? Number(given) >>> 0 : (Math.random() * 0x100000000) >>> 0;
}
