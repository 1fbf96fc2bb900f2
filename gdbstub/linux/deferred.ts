// Kernel awareness that arrives while the guest runs. Learning a new build's structure offsets takes gdb seconds, more
// than a client waits for a reply (gdb's remotetimeout is 2 s), so the stub serves the plain target from the start
// and switches to the kernel-aware one once it is ready, at a moment no client can tell the difference: at a stop
// (threads are listed anew after one anyway), or while no client has looked at the target since it last stopped. A
// stop that comes before then is held until the switch.
import {
  Unsupported,
  type AddressSpace,
  type BreakpointType,
  type ResumeAction,
  type StopReason,
  type Target,
  type ThreadInfo,
} from '../target.js';
import { librariesXml, type LibraryFormat } from './libraries.js';
import { LINUX_MONITOR_COMMANDS } from './target.js';

const NOT_YET =
  "kwb: the kernel's tasks are not known yet (kwb is reading the kernel's debug info); ask again in a few seconds\n";

/** Makes the kernel-aware target over the (stopped) inner one. */
export type Upgrade = () => Promise<Target>;

export class DeferredLinuxTarget implements Target {
  readonly arch: Target['arch'];
  /** The inner target's, as the kernel-aware one passes it on: the stub offers vCont;r by it. */
  readonly rangeStepping?: boolean;
  /** The kernel-aware target wraps the same inner one: it runs backwards if that does. */
  readonly reverseExecution?: boolean;
  private current: Target;
  /** Set once the kernel-aware target can be made; cleared when it has been. */
  private upgrade?: Upgrade;
  private upgrading?: Promise<void>;
  /** Still waiting for the upgrade to be ready (false also when it never will be). */
  private pending = true;
  /** A client has seen the target as it is since its last stop: switching now would change what it saw. */
  private observed = false;
  private resuming = false;
  /** A resume waits for learning before the guest runs (see resume); an interrupt meanwhile is its stop. */
  private waitingToRun = false;
  private interruptedWhileWaiting = false;
  /** Settles when learning has ended, either way. */
  private readonly learnt: Promise<unknown>;
  /** Settles when the kernel-aware target is served (true) or will never be (false). */
  readonly ready: Promise<boolean>;
  private served!: (upgraded: boolean) => void;

  constructor(
    private readonly inner: Target,
    upgrade: Promise<Upgrade | undefined>,
    private readonly warn: (err: unknown) => void,
    /** The kernel-aware target will list modules as libraries: offered from the start (none until then). */
    private readonly offersLibraries = false,
  ) {
    this.arch = inner.arch;
    this.rangeStepping = inner.rangeStepping;
    this.reverseExecution = inner.reverseExecution;
    this.current = inner;
    if (inner.passSignals) this.passSignals = async (signals) => (await this.view()).passSignals?.(signals);
    if (offersLibraries)
      this.libraries = async (format) => {
        const target = await this.view();
        return target.libraries ? target.libraries(format) : librariesXml(format, []);
      };
    this.ready = new Promise((r) => (this.served = r));
    this.learnt = upgrade.then((make) => {
      this.pending = false;
      if (!make) return this.served(false);
      this.upgrade = make;
      // otherwise at the next stop, or when the client goes
      if (!this.resuming && !this.observed) void this.switchNow();
    });
  }

  passSignals?: (signals: number[]) => Promise<void>;
  libraries?: (format: LibraryFormat) => Promise<string>;

  /** Switch to the kernel-aware target now (the inner target is stopped). */
  private switchNow(): Promise<void> {
    const make = this.upgrade;
    if (!make) return this.upgrading ?? Promise.resolve();
    this.upgrade = undefined;
    this.upgrading = make()
      .then(
        (target) => {
          this.current = target;
          this.served(true);
        },
        (err: unknown) => {
          this.warn(err);
          this.served(false);
        },
      )
      .finally(() => (this.upgrading = undefined));
    return this.upgrading;
  }

  /** The target to serve a client's request with (after a switch under way); the client has then looked. */
  private async view(): Promise<Target> {
    if (this.upgrading) await this.upgrading;
    this.observed = true;
    return this.current;
  }

  targetXml(annex: string): string | undefined {
    return this.current.targetXml(annex);
  }

  async readRegisters(thread: number): Promise<Uint8Array> {
    return (await this.view()).readRegisters(thread);
  }

  async writeRegisters(thread: number, data: Uint8Array): Promise<void> {
    const target = await this.view();
    if (!target.writeRegisters) throw new Unsupported('G');
    return target.writeRegisters(thread, data);
  }

  async readRegister(thread: number, regno: number): Promise<Uint8Array | undefined> {
    const target = await this.view();
    if (!target.readRegister) throw new Unsupported('p');
    return target.readRegister(thread, regno);
  }

  async writeRegister(thread: number, regno: number, value: Uint8Array): Promise<void> {
    return (await this.view()).writeRegister(thread, regno, value);
  }

  async readMemory(addr: bigint, len: number, space?: AddressSpace): Promise<Uint8Array> {
    return (await this.view()).readMemory(addr, len, space);
  }

  async readMemoryHex(addr: bigint, len: number): Promise<Buffer | { framed: Buffer }> {
    const target = await this.view();
    if (target.readMemoryHex) return target.readMemoryHex(addr, len);
    return Buffer.from(Buffer.from(await target.readMemory(addr, len)).toString('hex'), 'latin1');
  }

  async writeMemory(addr: bigint, data: Uint8Array, space?: AddressSpace): Promise<void> {
    return (await this.view()).writeMemory(addr, data, space);
  }

  async insertBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    return (await this.view()).insertBreakpoint(type, addr, kind);
  }

  async removeBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    return (await this.view()).removeBreakpoint(type, addr, kind);
  }

  /** Runs with whichever target is current; a switch that became possible meanwhile happens at the stop. */
  async resume(action: ResumeAction): Promise<StopReason> {
    // a client that asked for this run waits for its stop; a guest the stub lets run free has nobody waiting
    const forClient = this.observed;
    // modules the guest loads from now on must be seen by the client (their load is a library event), so with a
    // client the guest runs only through the kernel-aware target: its first resume waits for learning (seconds, once
    // per build; a client waits for a stop reply without a timeout). With none (the stub lets the guest run free)
    // the guest is not held up: a client that comes later reads the list afresh.
    if (this.offersLibraries && forClient && (this.pending || this.upgrade)) {
      this.waitingToRun = true;
      this.interruptedWhileWaiting = false;
      try {
        await this.learnt;
        await this.switchNow();
      } finally {
        this.waitingToRun = false;
      }
      // the guest never ran: it stops where it was (held for learning, as any stop then is)
      if (this.interruptedWhileWaiting) return { ...this.current.lastStop(), kind: 'interrupt', signal: 2 };
    }
    const target = await this.view();
    this.resuming = true;
    try {
      const stop = await target.resume(action);
      if (stop.kind === 'exited') return stop;
      // a stop while the debug info is still being read waits for it (seconds, once per build): a client waits for a
      // stop reply without a timeout, and so sees even its first breakpoint with the kernel's tasks as threads. Not
      // the stop of a free run that a connecting client interrupts: that client's handshake has gdb's 2 s timeout.
      if (this.pending && forClient) await this.learnt;
      if (!this.upgrade) return stop;
      await this.switchNow();
      return this.current.lastStop();
    } finally {
      this.resuming = false;
    }
  }

  interrupt(): void {
    if (this.waitingToRun) this.interruptedWhileWaiting = true;
    else this.current.interrupt();
  }

  lastStop(): StopReason {
    this.observed = true;
    return this.current.lastStop();
  }

  async threads(): Promise<ThreadInfo[]> {
    return (await this.view()).threads();
  }

  async hasThread(id: number): Promise<boolean> {
    const target = await this.view();
    return target.hasThread ? target.hasThread(id) : (await target.threads()).some((t) => t.id === id);
  }

  async monitor(command: string): Promise<string | undefined> {
    const target = await this.view();
    const word = command.trim().split(/\s+/)[0] ?? '';
    if (target === this.inner && this.pending && LINUX_MONITOR_COMMANDS.includes(word)) return NOT_YET;
    return target.monitor?.(command);
  }

  /** The client went: the next one starts afresh, so a switch can happen before it looks. */
  async detach(): Promise<void> {
    await (await this.view()).detach();
    this.observed = false;
    if (this.upgrade) await this.switchNow();
  }

  async kill(): Promise<void> {
    return (await this.view()).kill();
  }
}
