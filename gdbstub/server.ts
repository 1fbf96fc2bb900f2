// The RSP server: a TCP listener (loopback unless an address is named) serving ONE client at a time over a Target.
// The server owns run control: whether the target is running, resuming it when no client holds it (a client that
// goes away without detaching leaves the guest running), stopping it when a client attaches. A second client is
// refused, unless the first one looks gone (see TAKEOVER) or the second one insists.
import { isIP, createServer, type Server, type Socket } from 'node:net';
import { dispatch, PACKET_SIZE, type BreakpointRecord, type StubContext } from './commands.js';
import { frame, PacketReader, type PacketEvent } from './packet.js';
import { pollFor } from './poll.js';

/** How long to keep polling after a reply (see poll.ts). */
const POLL_MS = 2;
import type { ResumeAction, StopReason, Target } from './target.js';

export interface GdbStubOptions {
  /** Address to listen on; 127.0.0.1 unless named. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Hold the guest (stopped where the target starts) until a client connects and resumes it. */
  waitGdb?: boolean;
  log?: (line: string) => void;
  /** Replace a client that holds the target stopped and has sent nothing for this long (default TAKEOVER.idleMs). */
  takeoverIdleMs?: number;
}

export const BUSY_MESSAGE = 'kwb: another debugger is attached';
/** How long a new connection waits for the current client to go before it is refused. */
const ACCEPT_GRACE_MS = 300;

/** When a new client replaces the attached one (whose connection is closed and breakpoints removed; the guest stays
 *  stopped for the newcomer): the attached one has held the target stopped without a word for idleMs (a frozen or
 *  forgotten debugger), or the newcomer connects again within retryMs of being refused (it asks to). */
export const TAKEOVER = { idleMs: 30_000, retryMs: 20_000 };

/** Back-pressure: a client's packets are not read while this much of its replies is unsent (it is not reading) ... */
const UNSENT_HIGH_WATER = 1 << 20;
/** ... or while this many of its packets wait to be handled. */
const QUEUE_HIGH_WATER = 64;

/** A warning when `address` (as bound) is reachable beyond this host, else undefined. */
export function exposureWarning(address: string, port: number): string | undefined {
  const loopback = address === '::1' || /^(::ffff:)?127\./.test(address);
  if (loopback) return undefined;
  const shown = isIP(address) === 6 ? `[${address}]` : address;
  return `the gdb stub listens on ${shown}:${port}, beyond this host: anyone who can reach that port controls the guest (its memory, registers, running and killing it); use a loopback address unless the network is yours`;
}

export class GdbStubServer {
  private readonly server: Server;
  private client?: ClientSession;
  private running?: Promise<StopReason>;
  /** > 0 while a client is being attached or released: no automatic resume then. */
  private holds = 0;
  /** Serialises attach / release transitions. */
  private transition: Promise<void> = Promise.resolve();
  private closed = false;
  private exited = false;
  private resolveKilled!: () => void;
  /** Settles when a client killed the target (k / vKill). */
  readonly killed = new Promise<void>((r) => (this.resolveKilled = r));
  private readonly sockets = new Set<Socket>();
  /** When a client from this address was last refused (it may come back to take over). */
  private readonly refusedAt = new Map<string, number>();
  /** Set by listen() when the stub is reachable beyond loopback. */
  exposure?: string;

  constructor(
    readonly target: Target,
    private readonly opts: GdbStubOptions,
  ) {
    this.server = createServer((sock) => this.accept(sock));
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  async listen(): Promise<{ host: string; port: number }> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.log(`gdbstub: ${err.message}`));
    const addr = this.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    this.exposure = typeof addr === 'object' && addr ? exposureWarning(addr.address, port) : undefined;
    if (this.exposure) this.log(`gdbstub: warning: ${this.exposure}`);
    if (!this.opts.waitGdb) this.runFree();
    return { host, port };
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  get hasClient(): boolean {
    return this.client !== undefined;
  }

  /** Resume the target; the promise settles at the next stop. */
  resume(action: ResumeAction): Promise<StopReason> {
    if (this.running) return this.running;
    if (this.exited) return Promise.resolve(this.target.lastStop());
    const run = this.target.resume(action).then(
      (stop) => {
        this.running = undefined;
        if (stop.kind === 'exited') {
          this.exited = true;
          this.log(`gdbstub: the target exited`);
        }
        if (!this.client && this.holds === 0 && !this.closed) this.runFree(stop);
        return stop;
      },
      (err: unknown) => {
        this.running = undefined;
        throw err;
      },
    );
    this.running = run;
    run.catch((err: unknown) =>
      this.log(`gdbstub: resume failed: ${err instanceof Error ? err.message : String(err)}`),
    );
    return run;
  }

  /** Let the target run with nobody attached; a stop for a signal hands the signal back to the guest. */
  private runFree(last?: StopReason): void {
    if (this.running || this.exited || this.closed) return;
    // hand a real signal back to the guest; never SIGINT (the stub's own interrupts) or SIGTRAP
    const signal =
      last?.kind === 'signal' && last.signal !== undefined && last.signal !== 5 && last.signal !== 2
        ? last.signal
        : undefined;
    this.resume({ step: false, signal }).catch(() => {});
  }

  interrupt(): void {
    if (this.running) this.target.interrupt();
  }

  private async stopTarget(): Promise<void> {
    const run = this.running;
    if (!run) return;
    this.target.interrupt();
    // an interrupt can be lost in a race with a stop the target was making anyway: ask again now and then
    const again = setInterval(() => this.target.interrupt(), 2000);
    try {
      await run.catch(() => {});
    } finally {
      clearInterval(again);
    }
  }

  private accept(sock: Socket, waited = false): void {
    if (!waited) {
      sock.setNoDelay(true);
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
    }
    if (this.closed) {
      sock.destroy();
      return;
    }
    if (this.client && !this.exited && !waited) {
      // the client may be on its way out (a gdb restarted at once): give its hang-up a moment to arrive
      sock.pause();
      const start = Date.now();
      const check = setInterval(() => {
        if (this.client && Date.now() - start < ACCEPT_GRACE_MS && !sock.destroyed) return;
        clearInterval(check);
        if (!sock.destroyed) this.accept(sock, true);
      }, 20);
      return;
    }
    const from = `${sock.remoteAddress}:${sock.remotePort}`;
    if (this.client && !this.exited && this.takesOver(sock)) {
      this.log(`gdbstub: client from ${from} takes over`);
      this.client.evict('was replaced by a new client');
    }
    if (this.client || this.exited) {
      const address = sock.remoteAddress ?? '';
      const busy = `${BUSY_MESSAGE}; connect again within ${TAKEOVER.retryMs / 1000} s to take over`;
      refuse(sock, this.exited ? 'kwb: the guest has exited' : busy, () => this.refusedAt.set(address, Date.now()));
      sock.resume();
      this.log(`gdbstub: refused a second client from ${from}`);
      return;
    }
    const session = new ClientSession(this, sock);
    this.client = session;
    this.log(`gdbstub: client connected from ${sock.remoteAddress}:${sock.remotePort}`);
    session.start();
    sock.resume();
  }

  /** A client's first packet: stop the target for it. Not before, so that a connection that never speaks RSP (a
   *  port probe) leaves the guest exactly as it was. */
  holdFor(session: ClientSession): Promise<void> {
    if (this.client !== session) return Promise.resolve();
    this.holds++;
    const ready = this.transition.then(() => this.stopTarget());
    this.transition = ready.finally(() => this.holds--);
    return this.transition;
  }

  /** Whether a new connection replaces the attached client (see TAKEOVER). */
  private takesOver(sock: Socket): boolean {
    const refused = this.refusedAt.get(sock.remoteAddress ?? '');
    if (refused !== undefined && Date.now() - refused <= TAKEOVER.retryMs) {
      this.refusedAt.delete(sock.remoteAddress ?? '');
      return true;
    }
    const silent = this.client?.silentHoldMs() ?? 0;
    return silent >= (this.opts.takeoverIdleMs ?? TAKEOVER.idleMs);
  }

  /** The client detached or went away: remove its breakpoints and let the guest run. */
  release(session: ClientSession, why: string): void {
    if (this.client !== session) return;
    this.client = undefined;
    if (!session.spoke) {
      this.log(`gdbstub: a connection closed without a packet (${why}); the guest is left as it was`);
      return;
    }
    this.log(`gdbstub: client ${why}`);
    this.holds++;
    this.transition = this.transition
      .then(async () => {
        if (this.exited || this.closed) return;
        await this.stopTarget();
        for (const bp of session.breakpoints.values()) {
          await this.target.removeBreakpoint(bp.type, bp.addr, bp.kind).catch(() => false);
        }
        session.breakpoints.clear();
        await this.target.detach();
      })
      .catch((err: unknown) =>
        this.log(`gdbstub: releasing the client: ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => {
        this.holds--;
        if (!this.client) this.runFree();
      });
  }

  async killTarget(): Promise<void> {
    if (this.closed) return;
    await this.target.kill();
    this.exited = true;
    this.resolveKilled();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Answer the client's first packet with a textual error (gdb prints it), then hang up. */
function refuse(sock: Socket, message: string, answered: () => void): void {
  let done = false;
  const reader = new PacketReader((ev) => {
    if (done || ev.type !== 'packet') return;
    done = true;
    sock.write('+');
    sock.end(frame('E.' + message));
    answered();
  });
  sock.on('data', (chunk: Buffer) => reader.feed(chunk));
  setTimeout(() => sock.destroy(), 5000).unref();
}

type Queued = { kind: 'packet'; data: Buffer } | { kind: 'overflow' };

class ClientSession implements StubContext {
  readonly target: Target;
  clientFeatures = new Set<string>();
  gThread = 0;
  cThread = 0;
  threadCursor: number[] = [];
  breakpoints = new Map<string, BreakpointRecord>();
  private noAck = false;
  private pendingNoAck = false;
  private queue: Queued[] = [];
  private busy = false;
  private ready = false;
  /** Whether a packet (or ^C) came: only then is the target stopped for this client, and resumed when it goes. */
  spoke = false;
  private gone = false;
  private lastReply?: Buffer;
  private resuming = false;
  private afterReply?: () => void;
  private readonly reader: PacketReader;
  /** When the client last sent anything. */
  private lastHeard = Date.now();
  /** Reading is paused for back-pressure (see UNSENT_HIGH_WATER). */
  private throttled = false;
  private awaitingDrain = false;

  constructor(
    private readonly server: GdbStubServer,
    private readonly sock: Socket,
  ) {
    this.target = server.target;
    this.reader = new PacketReader((ev) => this.onEvent(ev), { maxRaw: PACKET_SIZE + 64, maxDecoded: 2 * PACKET_SIZE });
  }

  start(): void {
    this.sock.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      this.reader.feed(chunk);
      this.throttle();
    });
    this.sock.once('close', () => {
      this.gone = true;
      this.queue = [];
      this.server.release(this, 'disconnected');
    });
  }

  /** The first packet (or ^C) arrived: the target is stopped for this client, then its packets are served. */
  private speak(): void {
    if (this.spoke) return;
    this.spoke = true;
    void this.server.holdFor(this).then(() => {
      this.ready = true;
      this.pump();
    });
  }

  log(line: string): void {
    this.server.log(line);
  }

  /** How long the client has held the target stopped without sending anything (0 while the target runs for it). */
  silentHoldMs(): number {
    return this.resuming ? 0 : Date.now() - this.lastHeard;
  }

  /** Another client takes over: hang up on this one; the server removes its breakpoints. */
  evict(why: string): void {
    this.gone = true;
    this.queue = [];
    this.server.release(this, why);
    this.sock.destroy();
  }

  /** Stop reading while replies pile up unsent or packets wait: a client that sends without reading must not make
   *  the stub buffer without bound. */
  private throttle(): void {
    const full = this.queue.length >= QUEUE_HIGH_WATER || this.sock.writableLength > UNSENT_HIGH_WATER;
    if (full === this.throttled || this.gone) return;
    this.throttled = full;
    if (full) this.sock.pause();
    else this.sock.resume();
  }

  private write(data: Buffer | string): void {
    if (this.gone || this.sock.destroyed) return;
    this.sock.write(data);
    pollFor(POLL_MS);
  }

  private onEvent(ev: PacketEvent): void {
    switch (ev.type) {
      case 'packet':
        if (!this.noAck) this.write('+');
        this.queue.push({ kind: 'packet', data: ev.data });
        this.speak();
        this.pump();
        break;
      case 'bad':
        if (!this.noAck) this.write('-');
        break;
      case 'overflow':
        if (!this.noAck) this.write('+');
        this.queue.push({ kind: 'overflow' });
        this.speak();
        this.pump();
        break;
      case 'nak':
        if (this.lastReply && !this.noAck) this.write(this.lastReply);
        break;
      case 'interrupt':
        if (this.resuming) this.server.interrupt();
        this.speak();
        break;
      case 'ack':
        break;
    }
  }

  private pump(): void {
    if (this.busy || !this.ready || this.gone) return;
    if (this.sock.writableLength > UNSENT_HIGH_WATER) {
      // the client is not reading: the next reply waits until it has taken the earlier ones
      if (!this.awaitingDrain) {
        this.awaitingDrain = true;
        this.sock.once('drain', () => {
          this.awaitingDrain = false;
          this.pump();
        });
      }
      this.throttle();
      return;
    }
    const item = this.queue.shift();
    this.throttle();
    if (!item) return;
    this.busy = true;
    void this.handle(item).finally(() => {
      this.busy = false;
      this.pump();
    });
  }

  private async handle(item: Queued): Promise<void> {
    if (this.gone) return;
    const reply = item.kind === 'overflow' ? 'E22' : await dispatch(this, item.data);
    if (reply !== undefined) {
      const packet = typeof reply === 'object' && 'framed' in reply ? reply.framed : frame(reply);
      this.lastReply = packet;
      this.write(packet);
    }
    if (this.pendingNoAck) {
      this.pendingNoAck = false;
      this.noAck = true;
    }
    const after = this.afterReply;
    this.afterReply = undefined;
    after?.();
  }

  startNoAck(): void {
    this.pendingNoAck = true;
  }

  async resume(action: ResumeAction): Promise<StopReason> {
    this.resuming = true;
    try {
      return await this.server.resume(action);
    } finally {
      this.resuming = false;
    }
  }

  detach(): void {
    this.afterReply = () => {
      this.server.release(this, 'detached');
      this.gone = true;
      this.sock.end();
    };
  }

  async kill(): Promise<void> {
    await this.server.killTarget();
    this.afterReply = () => {
      this.server.release(this, 'killed the target');
      this.gone = true;
      this.sock.end();
    };
  }
}
