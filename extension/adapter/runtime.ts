// The debugger under the adapter, as vscode-mock-debug's MockRuntime or cortex-debug's MI2 class: typed calls that
// send gdb/MI commands and return parsed results, and typed stop events. It knows gdb, not DAP.
import { EventEmitter } from 'node:events';
import { Gdb } from './gdb.js';
import type { GdbLaunch } from './launch.js';
import { miQuote, str } from './mi.js';
import {
  breakpointOf,
  childrenOf,
  instructionsOf,
  memoryOf,
  registerNamesOf,
  registerValuesOf,
  stackOf,
  stopOf,
  targetFeaturesOf,
  threadsOf,
  variableNamesOf,
  varobjOf,
  watchpointOf,
  type MiBreakpoint,
  type MiFrame,
  type MiInstruction,
  type MiRegister,
  type MiStop,
  type MiThread,
  type MiVarobj,
} from './mi-results.js';

export interface RuntimeEvents {
  /** a stop to show: not the one found on connecting, nor one the runtime made itself (whileStopped) */
  stop: [stop: MiStop];
  /** gdb's console and target output */
  output: [text: string];
  exit: [];
}

export interface BreakpointOptions {
  condition?: string;
  /** hits to pass over before stopping */
  ignoreCount?: number;
  /** deleted when hit */
  temporary?: boolean;
}

/** A thread's frame, 0 the innermost. */
export interface FrameRef {
  thread: number;
  frame: number;
}

export type WatchAccess = 'write' | 'read' | 'readWrite';

const WATCH_FLAG: Record<WatchAccess, string> = { write: '', read: '-r ', readWrite: '-a ' };

const hex = (address: bigint) => `0x${address.toString(16)}`;
/** How long ending a session waits for gdb to kill or detach the target before ending gdb anyway. */
const END_GRACE_MS = 10_000;

export class GdbRuntime extends EventEmitter<RuntimeEvents> {
  private readonly gdb: Gdb;
  private running = false;
  private connecting = false;
  private pauseRequested = false;
  private hiddenStop?: (stop: MiStop) => void;

  /** `launch`: the gdb and its arguments before the target (symbols, the kernel tree's scripts allowed). */
  constructor(launch: GdbLaunch, cwd?: string) {
    super();
    this.gdb = new Gdb(launch.path, launch.args, cwd);
    this.gdb.on('exec', (cls, data) => {
      if (cls === 'running') this.running = true;
      else if (cls === 'stopped') this.stopped(stopOf(data));
    });
    this.gdb.on('stream', (kind, text) => {
      if (kind === 'console' || kind === 'target') this.emit('output', text);
    });
    this.gdb.on('exit', () => this.emit('exit'));
  }

  get isRunning(): boolean {
    return this.running;
  }

  private stopped(stop: MiStop): void {
    this.running = false;
    if (this.connecting) return;
    const hidden = this.hiddenStop;
    this.hiddenStop = undefined;
    if (hidden) return hidden(stop);
    const paused = this.pauseRequested && stop.reason === 'signal';
    this.pauseRequested = false;
    this.emit('stop', paused ? { ...stop, reason: 'paused' } : stop);
  }

  /** Connect to an RSP stub at host:port, retrying for up to retrySeconds while nothing listens. */
  async connect(target: string, retrySeconds: number): Promise<void> {
    for (const setting of [
      'mi-async on',
      'pagination off',
      'confirm off',
      'print pretty off',
      `tcp connect-timeout ${retrySeconds}`,
    ])
      await this.gdb.command(`-gdb-set ${setting}`);
    // gdb reports the stop it finds the target in while connecting: the target was stopped already, so it is no
    // event (the adapter shows an attach's as the entry stop once VS Code is configured)
    this.connecting = true;
    try {
      await this.gdb.command(`-target-select remote ${target}`);
    } finally {
      this.connecting = false;
    }
  }

  // --- breakpoints --------------------------------------------------------------------------------------------------

  /** A breakpoint at a location gdb understands (FILE:LINE, FUNCTION, *ADDRESS); pending until the code is known. */
  async insertBreakpoint(location: string, opts: BreakpointOptions = {}): Promise<MiBreakpoint> {
    const flags = ['-f'];
    if (opts.temporary) flags.push('-t');
    if (opts.condition) flags.push('-c', miQuote(opts.condition));
    if (opts.ignoreCount) flags.push('-i', String(opts.ignoreCount));
    return breakpointOf(await this.gdb.command(`-break-insert ${flags.join(' ')} ${miQuote(location)}`));
  }

  /** A watchpoint on an expression's value (hardware when the target has it). */
  async insertWatchpoint(expression: string, access: WatchAccess): Promise<MiBreakpoint> {
    return watchpointOf(await this.gdb.command(`-break-watch ${WATCH_FLAG[access]}${miQuote(expression)}`));
  }

  async deleteBreakpoints(numbers: string[]): Promise<void> {
    if (numbers.length) await this.gdb.command(`-break-delete ${numbers.join(' ')}`);
  }

  // --- threads, frames, variables -----------------------------------------------------------------------------------

  async threads(): Promise<MiThread[]> {
    return threadsOf(await this.gdb.command('-thread-info'));
  }

  /** Frames low..high (innermost is 0) of a thread. */
  async stack(thread: number, low: number, high: number): Promise<MiFrame[]> {
    return stackOf(await this.gdb.command(`-stack-list-frames --thread ${thread} ${low} ${high}`));
  }

  /** How many frames a thread has, counting at most `max`. */
  async stackDepth(thread: number, max: number): Promise<number> {
    return Number(str((await this.gdb.command(`-stack-info-depth --thread ${thread} ${max}`)).depth));
  }

  /** The names of a frame's arguments and locals. */
  async frameVariables(thread: number, frame: number): Promise<string[]> {
    return variableNamesOf(
      await this.gdb.command(`-stack-list-variables --thread ${thread} --frame ${frame} --no-values`),
    );
  }

  /** A varobj for an expression in a frame: gdb's handle on a value and its children. */
  async createVarobj(expression: string, thread: number, frame: number): Promise<MiVarobj> {
    const data = await this.gdb.command(`-var-create --thread ${thread} --frame ${frame} - * ${miQuote(expression)}`);
    return { ...varobjOf(data), exp: expression };
  }

  async varobjChildren(name: string): Promise<MiVarobj[]> {
    return childrenOf(await this.gdb.command(`-var-list-children --all-values ${name}`));
  }

  /** Delete a varobj (a root: its children go with it). */
  async deleteVarobj(name: string): Promise<void> {
    await this.gdb.command(`-var-delete ${name}`);
  }

  /** Assign to a varobj; returns the value as gdb now shows it. */
  async assignVarobj(name: string, value: string): Promise<string> {
    return str((await this.gdb.command(`-var-assign ${name} ${miQuote(value)}`)).value) ?? value;
  }

  /** An expression's value as gdb prints it, in a thread's frame (default: the selected one). */
  async evaluate(expression: string, at?: FrameRef): Promise<string> {
    const where = at ? `--thread ${at.thread} --frame ${at.frame} ` : '';
    return str((await this.gdb.command(`-data-evaluate-expression ${where}${miQuote(expression)}`)).value) ?? '';
  }

  /** A gdb CLI command (as typed in gdb), its console output. */
  console(command: string): Promise<string> {
    return this.gdb.console(command);
  }

  // --- registers, memory, code --------------------------------------------------------------------------------------

  /** Register names by number (empty where a number is unused). */
  async registerNames(): Promise<string[]> {
    return registerNamesOf(await this.gdb.command('-data-list-register-names'));
  }

  /** Register values in hex. Some stubs fail the whole request for one register they list but cannot read (QEMU's
   *  RV64 pmpcfg1): then ask in chunks, and register by register within a chunk that fails. */
  async registerValues(thread: number, frame: number, numbers: number[]): Promise<MiRegister[]> {
    const ask = async (regs: number[]) =>
      registerValuesOf(
        await this.gdb.command(
          `-data-list-register-values --thread ${thread} --frame ${frame} --skip-unavailable x ${regs.join(' ')}`,
        ),
      );
    try {
      return await ask(numbers);
    } catch {
      const out: MiRegister[] = [];
      for (let i = 0; i < numbers.length; i += 64) {
        const chunk = numbers.slice(i, i + 64);
        const got = await ask(chunk).catch(async () =>
          (await Promise.all(chunk.map((r) => ask([r]).catch(() => [])))).flat(),
        );
        out.push(...got);
      }
      return out;
    }
  }

  /** Up to `count` bytes from `address`: fewer when the rest cannot be read. */
  async readMemory(address: bigint, count: number): Promise<Buffer> {
    return memoryOf(await this.gdb.command(`-data-read-memory-bytes ${hex(address)} ${count}`));
  }

  async writeMemory(address: bigint, bytes: Buffer): Promise<void> {
    await this.gdb.command(`-data-write-memory-bytes ${hex(address)} ${bytes.toString('hex')}`);
  }

  /** The instructions in [start, end), with their source lines and raw bytes. */
  async disassemble(start: bigint, end: bigint): Promise<MiInstruction[]> {
    return instructionsOf(await this.gdb.command(`-data-disassemble -s ${hex(start)} -e ${hex(end)} -- 5`));
  }

  // --- execution ----------------------------------------------------------------------------------------------------

  /** Run a command that resumes the target; it stops again with a stop event. */
  private async resume(command: string): Promise<void> {
    this.running = true;
    try {
      await this.gdb.command(command);
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  continue(): Promise<void> {
    return this.resume('-exec-continue');
  }

  /** Step over a line (or one instruction) in a thread. */
  next(thread: number, instruction = false): Promise<void> {
    return this.resume(`${instruction ? '-exec-next-instruction' : '-exec-next'} --thread ${thread}`);
  }

  /** Step into a line (or one instruction) in a thread. */
  step(thread: number, instruction = false): Promise<void> {
    return this.resume(`${instruction ? '-exec-step-instruction' : '-exec-step'} --thread ${thread}`);
  }

  /** Run until the thread's current function returns. */
  finish(thread: number): Promise<void> {
    return this.resume(`-exec-finish --thread ${thread}`);
  }

  /** Whether the target runs backwards (kwb's rv64 machine keeps a recording; gdb lists "reverse"). */
  async canReverse(): Promise<boolean> {
    return targetFeaturesOf(await this.gdb.command('-list-target-features')).includes('reverse');
  }

  /** Step back over a line (or one instruction) in a thread. */
  stepBack(thread: number, instruction = false): Promise<void> {
    return this.resume(`${instruction ? '-exec-next-instruction' : '-exec-next'} --thread ${thread} --reverse`);
  }

  /** Run backwards to the last breakpoint or watchpoint hit (or the start of the recording). */
  reverseContinue(): Promise<void> {
    return this.resume('-exec-continue --reverse');
  }

  /** Stop the running target; the stop event says 'paused'. */
  async pause(): Promise<void> {
    this.pauseRequested = true;
    await this.gdb.command('-exec-interrupt');
  }

  /** Stop the running target without a stop event. */
  private interrupt(): Promise<MiStop> {
    const stopped = new Promise<MiStop>((resolve) => (this.hiddenStop = resolve));
    return this.gdb.command('-exec-interrupt').then(() => stopped);
  }

  /** Do something that needs a stopped target (gdb changes breakpoints only then): a running target is stopped
   *  unseen and let go on after. */
  async whileStopped<T>(change: () => Promise<T>): Promise<T> {
    if (!this.running) return change();
    await this.interrupt();
    try {
      return await change();
    } finally {
      await this.continue();
    }
  }

  /** End the session: kill the target (a kwb guest shuts down) or leave it running on its own, then end gdb. */
  async end(target: 'kill' | 'detach'): Promise<void> {
    const polite = async () => {
      if (target === 'kill') {
        if (this.running) await this.interrupt();
        await this.gdb.console('kill');
      } else {
        await this.gdb.command('-target-detach');
      }
    };
    // a gdb that no longer answers (wedged inside a command) must not keep the session alive: give it a while, then
    // end it regardless (exit() kills a gdb that does not leave)
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_GRACE_MS)));
    await Promise.race([polite().catch(() => {}), late]);
    clearTimeout(timer);
    await this.gdb.exit();
  }
}
