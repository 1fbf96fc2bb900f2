// The kwb debug adapter: DAP requests in, gdb/MI commands out, gdb's async records back as DAP events. Like
// vscode-mock-debug, it translates and keeps no state that it can ask gdb for; what it keeps is the mapping between
// DAP's handles (variablesReference, breakpoint ids) and gdb's (varobj names, breakpoint numbers).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Breakpoint,
  DebugSession,
  InitializedEvent,
  OutputEvent,
  Scope,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { liveSessions, processAlive } from '../../engine/sessions.js';
import { Gdb, GdbError } from './gdb.js';
import {
  attachGdb,
  freePort,
  kwbBootArgs,
  launchGdb,
  type AttachArguments,
  type GdbLaunch,
  type LaunchArguments,
} from './launch.js';
import { list, miQuote, str, tuple, type MiTuple, type MiValue } from './mi.js';

type VarRef =
  { kind: 'scope'; scope: 'locals' | 'registers'; thread: number; frame: number } | { kind: 'varobj'; name: string };

const ROOT_VAR = /^var\d+$/;

/** A thread's name in the call stack view: "pid comm" for a kernel task (kwb's stub gives the task's comm as the
 *  thread's name and "pid N ..." as its details), otherwise what gdb knows of it. */
function threadName(id: number, th: MiTuple): string {
  const name = str(th.name);
  const pid = /^pid (\d+)\b/.exec(str(th.details) ?? '')?.[1];
  if (pid !== undefined && name !== undefined) return `${pid} ${name}`;
  return str(th.details) ?? name ?? str(th['target-id']) ?? `thread ${id}`;
}

export class KwbDebugSession extends DebugSession {
  private gdb?: Gdb;
  private guest?: ChildProcess;
  /** The kwb process running the guest in VS Code's terminal (found through its gdb session record). */
  private terminalKwbPid?: number;
  private launchArgs?: LaunchArguments;
  private attachArgs?: AttachArguments;
  private running = false;
  private hiddenStop?: (data: MiTuple) => void;
  private readonly refs = new Map<number, VarRef>();
  private nextRef = 1;
  private readonly varobjs: string[] = [];
  private readonly sourceBreakpoints = new Map<string, { number: string; logMessage?: string }[]>();
  private functionBreakpoints: string[] = [];
  private dataBreakpoints: string[] = [];
  private instructionBreakpoints: string[] = [];
  private readonly logpoints = new Map<string, string>();
  private supportsTerminal = false;
  private guestFailed?: Promise<never>;
  private pauseRequested = false;
  private connecting = false;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected override initializeRequest(
    response: DebugProtocol.InitializeResponse,
    args: DebugProtocol.InitializeRequestArguments,
  ): void {
    this.supportsTerminal = !!args.supportsRunInTerminalRequest;
    response.body = {
      supportsConfigurationDoneRequest: true, // breakpoints are set before the guest runs
      supportsConditionalBreakpoints: true, // -break-insert -c
      supportsHitConditionalBreakpoints: true, // ignore counts
      supportsLogPoints: true, // the adapter prints and continues
      supportsFunctionBreakpoints: true, // -break-insert FUNCTION
      supportsDataBreakpoints: true, // -break-watch
      supportsInstructionBreakpoints: true, // -break-insert *ADDRESS
      supportsSteppingGranularity: true, // -exec-next-instruction / -exec-step-instruction
      supportsEvaluateForHovers: true,
      supportsSetVariable: true, // -var-assign
      supportsReadMemoryRequest: true, // -data-read-memory-bytes
      supportsWriteMemoryRequest: true, // -data-write-memory-bytes
      supportsDisassembleRequest: true, // -data-disassemble
      supportsRestartRequest: true, // reboot the guest
      supportsTerminateRequest: true,
      supportsValueFormattingOptions: false,
    };
    this.sendResponse(response);
  }

  // --- start and end ---------------------------------------------------------------------------------------------

  private startGdb(launch: GdbLaunch, cwd?: string): Gdb {
    // a kernel tree's vmlinux-gdb.py (CONFIG_GDB_SCRIPTS) gives the lx-* commands in the debug console
    const gdb = new Gdb(launch.path, launch.args, cwd);
    gdb.on('exec', (cls, data) => this.onExec(cls, data));
    gdb.on('stream', (kind, text) => {
      if (kind === 'console' || kind === 'target') this.sendEvent(new OutputEvent(text, 'console'));
    });
    gdb.on('exit', () => this.sendEvent(new TerminatedEvent()));
    this.gdb = gdb;
    return gdb;
  }

  private async connect(gdb: Gdb, target: string, retrySeconds: number): Promise<void> {
    for (const cmd of [
      '-gdb-set mi-async on',
      '-gdb-set pagination off',
      '-gdb-set confirm off',
      '-gdb-set print pretty off',
      `-gdb-set tcp connect-timeout ${retrySeconds}`,
    ]) {
      await gdb.command(cmd);
    }
    // gdb reports the stop it finds the target in while connecting: that is no stop to show (VS Code has not even
    // sent its breakpoints yet); an attach shows it as the entry stop after configurationDone
    this.connecting = true;
    try {
      await gdb.command(`-target-select remote ${target}`);
    } finally {
      this.connecting = false;
    }
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): Promise<void> {
    try {
      this.launchArgs = args;
      await this.bootAndAttach(args);
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (err) {
      this.sendErrorResponse(response, 1, (err as Error).message);
      await this.endSession();
    }
  }

  private async bootAndAttach(args: LaunchArguments): Promise<void> {
    if (!args.kernel || !existsSync(args.kernel))
      throw new Error(
        `kwb: no kernel at ${args.kernel ?? '(none given)'}; build one (kwb build) or set "kernel" in launch.json`,
      );
    // the kernel's facts (and a bad kernel's one-line error) before anything starts
    const gdbLaunch = launchGdb(args);
    const port = await freePort();
    const kwb = args.kwbPath ?? join(__dirname, 'cli.js');
    const bootArgs = kwbBootArgs(args, port);
    if (this.supportsTerminal) {
      // the guest console in VS Code's terminal, where the user can type into it
      await new Promise<void>((resolve, reject) =>
        this.runInTerminalRequest(
          {
            kind: 'integrated',
            title: 'kwb guest',
            cwd: args.cwd ?? process.cwd(),
            args: [process.execPath, kwb, ...bootArgs],
          },
          30_000,
          (r) => (r.success ? resolve() : reject(new Error(r.message ?? 'cannot open a terminal for the guest'))),
        ),
      );
    } else {
      // no terminal: the console comes to the debug console as output
      const guest = spawn(process.execPath, [kwb, ...bootArgs], { cwd: args.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      let errors = '';
      guest.stdout!.on('data', (d: Buffer) => this.sendEvent(new OutputEvent(d.toString(), 'stdout')));
      guest.stderr!.on('data', (d: Buffer) => {
        errors += d.toString();
        this.sendEvent(new OutputEvent(d.toString(), 'stderr'));
      });
      this.guest = guest;
      this.guestFailed = new Promise((_, reject) =>
        guest.once('exit', (code) =>
          reject(new Error(errors.trim().split('\n').pop() || `kwb boot exited with ${code}`)),
        ),
      );
      this.guestFailed.catch(() => {});
    }
    const gdb = this.startGdb(gdbLaunch, args.cwd);
    // gdb retries the connection until kwb's stub listens (the kernel boots up to its first instruction first);
    // a kwb that gives up (a bad option, a kernel it cannot boot) ends the wait with its own message
    await Promise.race([this.connect(gdb, `127.0.0.1:${port}`, 60), ...(this.guestFailed ? [this.guestFailed] : [])]);
    if (!this.guest) this.terminalKwbPid = liveSessions().find((s) => s.port === port)?.pid;
  }

  /** Wait (a while) for the kwb in the terminal to exit, so that VS Code runs the next one in the same terminal. */
  private async terminalKwbGone(): Promise<void> {
    const pid = this.terminalKwbPid;
    this.terminalKwbPid = undefined;
    for (let i = 0; pid !== undefined && processAlive(pid) && i < 150; i++)
      await new Promise((r) => setTimeout(r, 100));
  }

  protected override async attachRequest(response: DebugProtocol.AttachResponse, args: AttachArguments): Promise<void> {
    try {
      this.attachArgs = args;
      const gdb = this.startGdb(attachGdb(args), args.cwd);
      await this.connect(gdb, args.target, 10);
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (err) {
      this.sendErrorResponse(response, 1, (err as Error).message);
      await this.endSession();
    }
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    this.sendResponse(response);
    if (this.attachArgs) {
      // attached to a stopped target: show where it is
      this.sendStopped('entry', 1);
      return;
    }
    if (this.launchArgs?.stopAtEntry) await this.gdb!.command('-break-insert -t -f start_kernel').catch(() => {});
    await this.resume('-exec-continue');
  }

  /** End gdb and the guest, leaving no process behind. */
  private async endSession(): Promise<void> {
    const gdb = this.gdb;
    this.gdb = undefined;
    if (gdb) {
      if (this.launchArgs) {
        // gdb's kill makes kwb's stub shut the guest down, and kwb exits (also when it runs in a terminal)
        if (this.running) await this.interrupt(gdb).catch(() => {});
        await gdb.console('kill').catch(() => {});
      } else {
        await gdb.command('-target-detach').catch(() => {});
      }
      await gdb.exit();
    }
    const guest = this.guest;
    this.guest = undefined;
    if (guest && guest.exitCode === null) {
      const gone = new Promise((r) => guest.once('exit', r));
      guest.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
    }
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.endSession();
    this.sendResponse(response);
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.endSession();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    // reboot: a new guest and a new gdb, with the same breakpoints set again
    try {
      if (!this.launchArgs) throw new Error('restart needs a launch configuration');
      const gdb = this.gdb;
      this.gdb = undefined;
      if (gdb) {
        gdb.removeAllListeners('exit');
        if (this.running) await this.interrupt(gdb).catch(() => {});
        await gdb.console('kill').catch(() => {});
        await gdb.exit();
      }
      if (this.guest) {
        const old = this.guest;
        this.guest = undefined;
        if (old.exitCode === null) await new Promise((r) => old.once('exit', r));
      }
      await this.terminalKwbGone();
      this.refs.clear();
      this.varobjs.length = 0;
      this.running = false;
      await this.bootAndAttach(this.launchArgs);
      await this.reinsertBreakpoints();
      this.sendResponse(response);
      await this.resume('-exec-continue');
    } catch (err) {
      this.sendErrorResponse(response, 1, (err as Error).message);
    }
  }

  // --- running and stopping ---------------------------------------------------------------------------------------

  private async resume(cmd: string): Promise<void> {
    this.refs.clear();
    await this.dropVarobjs();
    this.running = true;
    await this.gdb!.command(cmd).catch((err: Error) => {
      this.running = false;
      this.sendEvent(new OutputEvent(`${err.message}\n`, 'stderr'));
    });
  }

  private onExec(cls: string, data: MiTuple): void {
    if (cls === 'running') {
      this.running = true;
      return;
    }
    if (cls !== 'stopped') return;
    this.running = false;
    if (this.connecting) return;
    if (this.hiddenStop) {
      const done = this.hiddenStop;
      this.hiddenStop = undefined;
      done(data);
      return;
    }
    const reason = str(data.reason) ?? '';
    if (reason.startsWith('exited')) {
      this.sendEvent(new TerminatedEvent());
      return;
    }
    const thread = Number(str(data['thread-id']) ?? 1);
    const bkptno = str(data.bkptno);
    const log = bkptno ? this.logpoints.get(bkptno) : undefined;
    if (log !== undefined) {
      void this.logAndContinue(log);
      return;
    }
    const dapReason =
      reason === 'breakpoint-hit'
        ? this.instructionBreakpoints.includes(bkptno ?? '')
          ? 'instruction breakpoint'
          : this.functionBreakpoints.includes(bkptno ?? '')
            ? 'function breakpoint'
            : 'breakpoint'
        : /watchpoint/.test(reason)
          ? 'data breakpoint'
          : reason === 'end-stepping-range' || reason === 'function-finished'
            ? 'step'
            : reason === 'signal-received' && this.pauseRequested
              ? 'pause'
              : reason === 'signal-received'
                ? 'exception'
                : 'pause';
    this.pauseRequested = false;
    this.sendStopped(dapReason, thread);
  }

  /** gdb runs all-stop: every stop stops every thread (VS Code otherwise shows the other tasks as running). */
  private sendStopped(reason: string, thread: number): void {
    const e: DebugProtocol.StoppedEvent = new StoppedEvent(reason, thread);
    e.body.allThreadsStopped = true;
    this.sendEvent(e);
  }

  private async logAndContinue(message: string): Promise<void> {
    // log point: {expression} parts are evaluated in the stopped frame
    const parts = await Promise.all(
      message.split(/(\{[^}]+\})/).map(async (part) => {
        if (!/^\{.*\}$/.test(part)) return part;
        const r = await this.gdb!.command(`-data-evaluate-expression ${miQuote(part.slice(1, -1))}`).catch(
          (e: Error) => ({ value: `<${e.message}>` }),
        );
        return str((r as MiTuple).value) ?? '';
      }),
    );
    this.sendEvent(new OutputEvent(parts.join('') + '\n', 'console'));
    await this.resume('-exec-continue');
  }

  private interrupt(gdb: Gdb): Promise<MiTuple> {
    const stopped = new Promise<MiTuple>((resolve) => (this.hiddenStop = resolve));
    return gdb.command('-exec-interrupt').then(() => stopped);
  }

  /** Change breakpoints while the guest runs: stop it unseen, change, let it go on. */
  private async whileStopped<T>(change: () => Promise<T>): Promise<T> {
    if (!this.running) return change();
    await this.interrupt(this.gdb!);
    try {
      return await change();
    } finally {
      await this.resume('-exec-continue');
    }
  }

  protected override async continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    await this.resume('-exec-continue');
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    this.pauseRequested = true;
    this.sendResponse(response);
    await this.gdb!.command('-exec-interrupt').catch(() => {});
  }

  private step(
    response: DebugProtocol.Response,
    args: { threadId: number; granularity?: DebugProtocol.SteppingGranularity },
    line: string,
    instruction: string,
  ): void {
    this.sendResponse(response);
    const cmd = args.granularity === 'instruction' ? instruction : line;
    void this.resume(`${cmd} --thread ${args.threadId}`);
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.step(response, args, '-exec-next', '-exec-next-instruction');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.step(response, args, '-exec-step', '-exec-step-instruction');
  }

  protected override stepOutRequest(
    response: DebugProtocol.StepOutResponse,
    args: DebugProtocol.StepOutArguments,
  ): void {
    this.step(response, args, '-exec-finish', '-exec-finish');
  }

  // --- breakpoints ------------------------------------------------------------------------------------------------

  private async deleteBreakpoints(numbers: string[]): Promise<void> {
    if (numbers.length) await this.gdb!.command(`-break-delete ${numbers.join(' ')}`).catch(() => {});
    for (const n of numbers) this.logpoints.delete(n);
  }

  private toBreakpoint(data: MiTuple): DebugProtocol.Breakpoint {
    const bkpt = tuple(data.bkpt) ?? tuple(list(data.bkpt)[0]) ?? {};
    const locations = list(data.bkpt).length > 1 ? list(data.bkpt).slice(1).map(tuple) : [];
    const first = locations.find(Boolean) ?? bkpt;
    const pending = str(bkpt.addr) === '<PENDING>' || !str(first.addr);
    const bp: DebugProtocol.Breakpoint = new Breakpoint(
      !pending,
      Number(str(first.line) ?? str(bkpt.line)) || undefined,
    );
    bp.id = Number(str(bkpt.number));
    const addr = str(first.addr);
    if (addr && addr.startsWith('0x')) bp.instructionReference = addr;
    return bp;
  }

  private async insert(
    location: string,
    opts: { condition?: string; hitCondition?: string; temporary?: boolean } = {},
  ): Promise<{ number?: string; bp: DebugProtocol.Breakpoint }> {
    const flags = ['-f'];
    if (opts.condition) flags.push('-c', miQuote(opts.condition));
    const hits = opts.hitCondition ? Number(/\d+/.exec(opts.hitCondition)?.[0]) : NaN;
    if (hits > 1) flags.push('-i', String(hits - 1));
    try {
      const data = await this.gdb!.command(`-break-insert ${flags.join(' ')} ${miQuote(location)}`);
      const bp = this.toBreakpoint(data);
      return { number: String(bp.id), bp };
    } catch (err) {
      const bp: DebugProtocol.Breakpoint = new Breakpoint(false);
      bp.message = (err as Error).message;
      return { bp };
    }
  }

  protected override async setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): Promise<void> {
    const path = args.source.path ?? '';
    response.body = {
      breakpoints: await this.whileStopped(() => this.setSourceBreakpoints(path, args.breakpoints ?? [])),
    };
    this.sendResponse(response);
  }

  private async setSourceBreakpoints(
    path: string,
    wanted: DebugProtocol.SourceBreakpoint[],
  ): Promise<DebugProtocol.Breakpoint[]> {
    await this.deleteBreakpoints((this.sourceBreakpoints.get(path) ?? []).map((b) => b.number));
    const placed: { number: string; logMessage?: string; spec: DebugProtocol.SourceBreakpoint }[] = [];
    const result: DebugProtocol.Breakpoint[] = [];
    for (const b of wanted) {
      const { number, bp } = await this.insert(`${path}:${b.line}`, {
        condition: b.condition,
        hitCondition: b.hitCondition,
      });
      if (number) {
        placed.push({ number, logMessage: b.logMessage, spec: b });
        if (b.logMessage !== undefined) this.logpoints.set(number, b.logMessage);
      }
      result.push(bp);
    }
    this.sourceBreakpoints.set(
      path,
      placed.map(({ number, logMessage }) => ({ number, logMessage })),
    );
    this.sourceSpecs.set(path, wanted);
    return result;
  }

  private readonly sourceSpecs = new Map<string, DebugProtocol.SourceBreakpoint[]>();
  private functionSpecs: DebugProtocol.FunctionBreakpoint[] = [];
  private dataSpecs: DebugProtocol.DataBreakpoint[] = [];
  private instructionSpecs: DebugProtocol.InstructionBreakpoint[] = [];

  private async reinsertBreakpoints(): Promise<void> {
    this.sourceBreakpoints.clear();
    this.logpoints.clear();
    for (const [path, specs] of this.sourceSpecs) await this.setSourceBreakpoints(path, specs);
    await this.setFunctionBreakpoints(this.functionSpecs);
    await this.setDataBreakpoints(this.dataSpecs);
    await this.setInstructionBreakpoints(this.instructionSpecs);
  }

  protected override async setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): Promise<void> {
    response.body = { breakpoints: await this.whileStopped(() => this.setFunctionBreakpoints(args.breakpoints)) };
    this.sendResponse(response);
  }

  private async setFunctionBreakpoints(specs: DebugProtocol.FunctionBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    this.functionSpecs = specs;
    await this.deleteBreakpoints(this.functionBreakpoints);
    const placed = await Promise.all(
      specs.map((b) => this.insert(b.name, { condition: b.condition, hitCondition: b.hitCondition })),
    );
    this.functionBreakpoints = placed.flatMap((p) => (p.number ? [p.number] : []));
    return placed.map((p) => p.bp);
  }

  protected override dataBreakpointInfoRequest(
    response: DebugProtocol.DataBreakpointInfoResponse,
    args: DebugProtocol.DataBreakpointInfoArguments,
  ): void {
    // a variable of a scope or struct: watch it by its expression
    const ref = args.variablesReference ? this.refs.get(args.variablesReference) : undefined;
    const expression = ref?.kind === 'varobj' ? `${this.exprOf.get(ref.name) ?? args.name}.${args.name}` : args.name;
    response.body = {
      dataId: ref?.kind === 'varobj' ? expression : args.name,
      description: args.name,
      accessTypes: ['write', 'read', 'readWrite'],
      canPersist: true,
    };
    this.sendResponse(response);
  }

  protected override async setDataBreakpointsRequest(
    response: DebugProtocol.SetDataBreakpointsResponse,
    args: DebugProtocol.SetDataBreakpointsArguments,
  ): Promise<void> {
    response.body = { breakpoints: await this.whileStopped(() => this.setDataBreakpoints(args.breakpoints)) };
    this.sendResponse(response);
  }

  private async setDataBreakpoints(specs: DebugProtocol.DataBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    this.dataSpecs = specs;
    await this.deleteBreakpoints(this.dataBreakpoints);
    this.dataBreakpoints = [];
    const result: DebugProtocol.Breakpoint[] = [];
    for (const b of specs) {
      const flag = b.accessType === 'read' ? '-r ' : b.accessType === 'readWrite' ? '-a ' : '';
      try {
        const data = await this.gdb!.command(`-break-watch ${flag}${miQuote(b.dataId)}`);
        const wpt = tuple(data.wpt) ?? tuple(data['hw-rwpt']) ?? tuple(data['hw-awpt']) ?? {};
        const number = str(wpt.number);
        if (number) this.dataBreakpoints.push(number);
        const bp: DebugProtocol.Breakpoint = new Breakpoint(!!number);
        bp.id = Number(number);
        result.push(bp);
      } catch (err) {
        const bp: DebugProtocol.Breakpoint = new Breakpoint(false);
        bp.message = (err as Error).message;
        result.push(bp);
      }
    }
    return result;
  }

  protected override async setInstructionBreakpointsRequest(
    response: DebugProtocol.SetInstructionBreakpointsResponse,
    args: DebugProtocol.SetInstructionBreakpointsArguments,
  ): Promise<void> {
    response.body = { breakpoints: await this.whileStopped(() => this.setInstructionBreakpoints(args.breakpoints)) };
    this.sendResponse(response);
  }

  private async setInstructionBreakpoints(
    specs: DebugProtocol.InstructionBreakpoint[],
  ): Promise<DebugProtocol.Breakpoint[]> {
    this.instructionSpecs = specs;
    await this.deleteBreakpoints(this.instructionBreakpoints);
    const placed = await Promise.all(
      specs.map((b) =>
        this.insert(`*${(BigInt(b.instructionReference) + BigInt(b.offset ?? 0)).toString()}`, {
          condition: b.condition,
          hitCondition: b.hitCondition,
        }),
      ),
    );
    this.instructionBreakpoints = placed.flatMap((p) => (p.number ? [p.number] : []));
    return placed.map((p) => p.bp);
  }

  // --- threads, stack, variables ----------------------------------------------------------------------------------

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    try {
      const data = await this.gdb!.command('-thread-info');
      response.body = {
        threads: list(data.threads).map((t) => {
          const th = tuple(t) ?? {};
          const id = Number(str(th.id));
          return new Thread(id, threadName(id, th));
        }),
      };
    } catch {
      response.body = { threads: [new Thread(1, 'kernel')] };
    }
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): Promise<void> {
    try {
      const low = args.startFrame ?? 0;
      const high = low + (args.levels || 200) - 1;
      const data = await this.gdb!.command(`-stack-list-frames --thread ${args.threadId} ${low} ${high}`);
      const frames = list(data.stack).map((f) => tuple(tuple(f)?.frame) ?? tuple(f) ?? {});
      response.body = {
        stackFrames: frames.map((f) => {
          const level = Number(str(f.level) ?? 0);
          const file = str(f.fullname) ?? str(f.file);
          return {
            id: args.threadId * 10000 + level,
            name: str(f.func) ?? str(f.addr) ?? '??',
            source: file ? { name: file.split('/').pop(), path: file } : undefined,
            line: Number(str(f.line) ?? 0),
            column: 1,
            instructionPointerReference: str(f.addr),
          };
        }),
      };
      const depth = await this.gdb!.command(`-stack-info-depth --thread ${args.threadId} 1000`).catch(() => undefined);
      response.body.totalFrames = depth ? Number(str(depth.depth)) : frames.length;
    } catch (err) {
      response.body = { stackFrames: [] };
      this.sendEvent(new OutputEvent(`${(err as Error).message}\n`, 'stderr'));
    }
    this.sendResponse(response);
  }

  private ref(v: VarRef): number {
    const id = this.nextRef++;
    this.refs.set(id, v);
    return id;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const thread = Math.floor(args.frameId / 10000);
    const frame = args.frameId % 10000;
    response.body = {
      scopes: [
        new Scope('Locals', this.ref({ kind: 'scope', scope: 'locals', thread, frame }), false),
        new Scope('Registers', this.ref({ kind: 'scope', scope: 'registers', thread, frame }), true),
      ],
    };
    this.sendResponse(response);
  }

  private readonly exprOf = new Map<string, string>();

  /** A DAP variable for a varobj, expandable (lazily, through -var-list-children) when it has children. A char
   *  array shows as gdb prints it ("6.1.192\000..."), not as varobjs do ("[65]"). */
  private async varobjVariable(name: string, label: string, v: MiTuple): Promise<DebugProtocol.Variable> {
    const children = Number(str(v.numchild) ?? 0);
    const type = str(v.type);
    let value = str(v.value) ?? '';
    const expression = this.exprOf.get(name);
    if (/^\[\d+\]$/.test(value) && type && /char \[\d+\]/.test(type) && expression) {
      const printed = await this.gdb!.command(`-data-evaluate-expression ${miQuote(expression)}`).catch(
        () => undefined,
      );
      value = str(printed?.value) ?? value;
    }
    const address = /^(0x[0-9a-f]+)/.exec(value)?.[1];
    return {
      name: label,
      value,
      type,
      variablesReference: children > 0 ? this.ref({ kind: 'varobj', name }) : 0,
      evaluateName: expression,
      memoryReference: address,
    };
  }

  private async createVarobj(
    expression: string,
    thread: number,
    frame: number,
  ): Promise<{ name: string; data: MiTuple }> {
    const data = await this.gdb!.command(`-var-create --thread ${thread} --frame ${frame} - * ${miQuote(expression)}`);
    const name = str(data.name)!;
    this.varobjs.push(name);
    this.exprOf.set(name, expression);
    return { name, data };
  }

  private async dropVarobjs(): Promise<void> {
    const names = this.varobjs.splice(0);
    this.exprOf.clear();
    if (!this.gdb) return;
    await Promise.all(
      names.filter((n) => ROOT_VAR.test(n)).map((n) => this.gdb!.command(`-var-delete ${n}`).catch(() => {})),
    );
  }

  protected override async variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): Promise<void> {
    const ref = this.refs.get(args.variablesReference);
    const variables: DebugProtocol.Variable[] = [];
    try {
      if (ref?.kind === 'scope' && ref.scope === 'locals') {
        const data = await this.gdb!.command(
          `-stack-list-variables --thread ${ref.thread} --frame ${ref.frame} --no-values`,
        );
        for (const v of list(data.variables)) {
          const name = str(tuple(v)?.name);
          if (!name) continue;
          const created = await this.createVarobj(name, ref.thread, ref.frame).catch(() => undefined);
          if (created) variables.push(await this.varobjVariable(created.name, name, created.data));
        }
      } else if (ref?.kind === 'scope' && ref.scope === 'registers') {
        const names = list((await this.gdb!.command('-data-list-register-names'))['register-names']).map(
          (n) => str(n) ?? '',
        );
        for (const rv of await this.registerValues(ref.thread, ref.frame, names)) {
          const t = tuple(rv) ?? {};
          const name = names[Number(str(t.number))];
          if (name) variables.push({ name, value: str(t.value) ?? '', variablesReference: 0 });
        }
      } else if (ref?.kind === 'varobj') {
        const data = await this.gdb!.command(`-var-list-children --all-values ${ref.name}`);
        for (const c of list(data.children)) {
          const child = tuple(tuple(c)?.child) ?? tuple(c) ?? {};
          const name = str(child.name)!;
          const exp = str(child.exp) ?? name;
          this.varobjs.push(name);
          const parentExpr = this.exprOf.get(ref.name);
          // gdb's pseudo children ("public") are not expressions
          if (parentExpr && !/^(public|private|protected)$/.test(exp)) {
            this.exprOf.set(name, /^\d+$/.test(exp) ? `${parentExpr}[${exp}]` : `(${parentExpr}).${exp}`);
          }
          variables.push(await this.varobjVariable(name, exp, child));
        }
      }
    } catch (err) {
      this.sendEvent(new OutputEvent(`${(err as Error).message}\n`, 'stderr'));
    }
    response.body = { variables };
    this.sendResponse(response);
  }

  /** Register values in hex. Some stubs fail the whole request for one register they list but cannot read (QEMU's
   *  RV64 pmpcfg1): then ask in chunks, and register by register within a chunk that fails. */
  private async registerValues(thread: number, frame: number, names: string[]): Promise<MiValue[]> {
    const ask = (regs: number[]) =>
      this.gdb!.command(
        `-data-list-register-values --thread ${thread} --frame ${frame} --skip-unavailable x ${regs.join(' ')}`,
      ).then((r) => list(r['register-values']));
    const all = names.flatMap((n, i) => (n ? [i] : []));
    try {
      return await ask(all);
    } catch {
      const out: MiValue[] = [];
      for (let i = 0; i < all.length; i += 64) {
        const chunk = all.slice(i, i + 64);
        const got = await ask(chunk).catch(async () =>
          (await Promise.all(chunk.map((r) => ask([r]).catch(() => [])))).flat(),
        );
        out.push(...got);
      }
      return out;
    }
  }

  protected override async setVariableRequest(
    response: DebugProtocol.SetVariableResponse,
    args: DebugProtocol.SetVariableArguments,
  ): Promise<void> {
    try {
      const ref = this.refs.get(args.variablesReference);
      let varobj: string | undefined;
      if (ref?.kind === 'varobj') {
        const children = await this.gdb!.command(`-var-list-children ${ref.name}`);
        varobj = list(children.children)
          .map((c) => tuple(tuple(c)?.child) ?? {})
          .find((c) => str(c.exp) === args.name)?.name as string | undefined;
      } else if (ref?.kind === 'scope' && ref.scope === 'locals') {
        varobj = (await this.createVarobj(args.name, ref.thread, ref.frame)).name;
      } else if (ref?.kind === 'scope' && ref.scope === 'registers') {
        await this.gdb!.command(`-data-evaluate-expression ${miQuote(`$${args.name} = ${args.value}`)}`);
        response.body = { value: args.value };
        this.sendResponse(response);
        return;
      }
      if (!varobj) throw new Error(`cannot set ${args.name}`);
      const data = await this.gdb!.command(`-var-assign ${varobj} ${miQuote(args.value)}`);
      response.body = { value: str(data.value) ?? args.value };
      this.sendResponse(response);
    } catch (err) {
      this.sendErrorResponse(response, 1, (err as Error).message);
    }
  }

  protected override async evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): Promise<void> {
    try {
      const raw = /^(?:`|-exec\s+)(.*)$/s.exec(args.expression);
      if (raw && args.context === 'repl') {
        // a gdb command typed in the debug console: `info registers, or -exec info registers
        const out = await this.gdb!.console(raw[1]!);
        response.body = { result: out.trimEnd(), variablesReference: 0 };
      } else {
        const thread = args.frameId !== undefined ? Math.floor(args.frameId / 10000) : 1;
        const frame = args.frameId !== undefined ? args.frameId % 10000 : 0;
        const { name, data } = await this.createVarobj(args.expression, thread, frame);
        const v = await this.varobjVariable(name, args.expression, data);
        response.body = {
          result: v.value,
          type: v.type,
          variablesReference: v.variablesReference,
          memoryReference: v.memoryReference,
        };
      }
      this.sendResponse(response);
    } catch (err) {
      this.sendErrorResponse(response, 1, err instanceof GdbError ? err.message : String(err));
    }
  }

  // --- memory and disassembly -------------------------------------------------------------------------------------

  protected override async readMemoryRequest(
    response: DebugProtocol.ReadMemoryResponse,
    args: DebugProtocol.ReadMemoryArguments,
  ): Promise<void> {
    try {
      const address = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
      const data = await this.gdb!.command(`-data-read-memory-bytes 0x${address.toString(16)} ${args.count}`);
      const block = tuple(list(data.memory)[0]) ?? {};
      const bytes = Buffer.from(str(block.contents) ?? '', 'hex');
      response.body = {
        address: `0x${address.toString(16)}`,
        data: bytes.toString('base64'),
        unreadableBytes: args.count - bytes.length,
      };
      this.sendResponse(response);
    } catch (err) {
      response.body = { address: args.memoryReference, unreadableBytes: args.count };
      this.sendResponse(response);
      void err;
    }
  }

  protected override async writeMemoryRequest(
    response: DebugProtocol.WriteMemoryResponse,
    args: DebugProtocol.WriteMemoryArguments,
  ): Promise<void> {
    try {
      const address = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
      const hex = Buffer.from(args.data, 'base64').toString('hex');
      await this.gdb!.command(`-data-write-memory-bytes 0x${address.toString(16)} ${hex}`);
      response.body = { bytesWritten: hex.length / 2 };
      this.sendResponse(response);
    } catch (err) {
      this.sendErrorResponse(response, 1, (err as Error).message);
    }
  }

  protected override async disassembleRequest(
    response: DebugProtocol.DisassembleResponse,
    args: DebugProtocol.DisassembleArguments,
  ): Promise<void> {
    try {
      const base = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
      const before = Math.max(0, -(args.instructionOffset ?? 0));
      const after = args.instructionCount - before;
      // instructions are at most 15 bytes on x86 (4 on RISC-V): read generously around the address, then pick
      const start = base - BigInt(before * 15);
      const end = base + BigInt(Math.max(after, 1) * 15);
      const data = await this.gdb!.command(
        `-data-disassemble -s 0x${start.toString(16)} -e 0x${end.toString(16)} -- 5`,
      );
      const lines = list(data.asm_insns).flatMap((entry) => {
        const t = tuple(entry) ?? {};
        const src = tuple(t.src_and_asm_line) ?? t;
        const file = str(src.fullname) ?? str(src.file);
        const line = Number(str(src.line) ?? 0);
        return list(src.line_asm_insn).map((i) => ({ i: tuple(i) ?? {}, file, line }));
      });
      // gdb groups by source line (inlined code makes the groups jump around): put them back in address order
      lines.sort((a, b) => (BigInt(str(a.i.address) ?? '0') < BigInt(str(b.i.address) ?? '0') ? -1 : 1));
      const instructions: DebugProtocol.DisassembledInstruction[] = lines.map(({ i, file, line }) => ({
        address: str(i.address) ?? '0x0',
        instructionBytes: str(i.opcodes),
        instruction: str(i.inst) ?? '',
        symbol: str(i['func-name']) ? `${str(i['func-name'])}+${str(i.offset) ?? 0}` : undefined,
        location: file ? { path: file, name: file.split('/').pop() } : undefined,
        line: line || undefined,
      }));
      const at = instructions.findIndex((i) => BigInt(i.address) >= base);
      const from = Math.max(0, (at < 0 ? instructions.length : at) - before);
      let picked = instructions.slice(from, from + args.instructionCount);
      // pad at the ends so VS Code gets exactly what it asked for
      while (picked.length < args.instructionCount)
        picked = [
          ...picked,
          {
            address: `0x${(end + BigInt(picked.length)).toString(16)}`,
            instruction: '',
            presentationHint: 'invalid',
          } as DebugProtocol.DisassembledInstruction,
        ];
      response.body = { instructions: picked };
      this.sendResponse(response);
    } catch (err) {
      this.sendErrorResponse(response, 1, (err as Error).message);
    }
  }
}
