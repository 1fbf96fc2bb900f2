// The kwb debug adapter: DAP requests become calls on the gdb runtime (runtime.ts), its stop events become DAP
// events. Like vscode-mock-debug, it translates and keeps no state that it can ask gdb for; the mapping between DAP's
// handles and gdb's is in breakpoints.ts and variables.ts, the kwb process of a launch in guest.ts.
import {
  CapabilitiesEvent,
  DebugSession,
  InitializedEvent,
  OutputEvent,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Breakpoints, type BreakpointKind } from './breakpoints.js';
import { KwbGuest, type RunInTerminal } from './guest.js';
import { attachGdb, launchGdb, type AttachArguments, type GdbLaunch, type LaunchArguments } from './launch.js';
import type { MiStop, MiThread } from './mi-results.js';
import { GdbRuntime } from './runtime.js';
import { frameId, Variables } from './variables.js';
import { FAILED_ASSERTION } from '../../engine/kunit/debug.js';

/** A thread's name in the call stack view: "pid comm" for a kernel task (kwb's stub gives the task's comm as the
 *  thread's name and "pid N ..." as its details), otherwise what gdb knows of it. */
function threadName(th: MiThread): string {
  const pid = /^pid (\d+)\b/.exec(th.details ?? '')?.[1];
  if (pid !== undefined && th.name !== undefined) return `${pid} ${th.name}`;
  return th.details ?? th.name ?? th.targetId ?? `thread ${th.id}`;
}

const BREAKPOINT_REASON: Record<BreakpointKind, string> = {
  source: 'breakpoint',
  function: 'function breakpoint',
  data: 'data breakpoint',
  instruction: 'instruction breakpoint',
};

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class KwbDebugSession extends DebugSession {
  private runtime?: GdbRuntime;
  private variables?: Variables;
  private guest?: KwbGuest;
  private launchArgs?: LaunchArguments;
  private attachArgs?: AttachArguments;
  private readonly breakpoints = new Breakpoints();
  /** the temporary breakpoint of stopAtEntry */
  private entryBreakpoint?: string;
  /** a KUnit launch's breakpoint on the failed-assertion path */
  private kunitBreakpoint?: string;
  private supportsTerminal = false;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  /** gdb, for requests that come while there is a session (VS Code sends none before launch/attach). */
  private get gdb(): GdbRuntime {
    if (!this.runtime) throw new Error('no debug session');
    return this.runtime;
  }

  private get vars(): Variables {
    if (!this.variables) throw new Error('no debug session');
    return this.variables;
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

  /** Answer a request with what `work` returns as its body, or with its error. */
  private async answer<R extends DebugProtocol.Response>(response: R, work: () => Promise<R['body']>): Promise<void> {
    try {
      response.body = await work();
      this.sendResponse(response);
    } catch (err) {
      this.sendErrorResponse(response, 1, message(err));
    }
  }

  // --- start and end ---------------------------------------------------------------------------------------------

  private startGdb(launch: GdbLaunch, cwd: string | undefined): GdbRuntime {
    const runtime = new GdbRuntime(launch, cwd);
    runtime.on('stop', (stop) => void this.onStop(stop));
    runtime.on('output', (text) => this.sendEvent(new OutputEvent(text, 'console')));
    runtime.on('exit', () => this.sendEvent(new TerminatedEvent()));
    this.runtime = runtime;
    this.variables = new Variables(runtime);
    return runtime;
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): Promise<void> {
    try {
      this.launchArgs = args;
      await this.bootAndAttach(args);
      await this.offerStepBack();
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (err) {
      this.sendErrorResponse(response, 1, message(err));
      await this.endSession();
    }
  }

  private async bootAndAttach(args: LaunchArguments): Promise<void> {
    // the kernel's facts (and a bad kernel's one-line error) before anything starts
    const gdbLaunch = launchGdb(args);
    const terminal: RunInTerminal | undefined = this.supportsTerminal
      ? (request) =>
          new Promise((resolve, reject) =>
            this.runInTerminalRequest(request, 30_000, (r) =>
              r.success ? resolve() : reject(new Error(r.message ?? 'cannot open a terminal for the guest')),
            ),
          )
      : undefined;
    const guest = await KwbGuest.start(args, terminal, (text, category) =>
      this.sendEvent(new OutputEvent(text, category)),
    );
    this.guest = guest;
    const gdb = this.startGdb(gdbLaunch, args.cwd);
    // gdb retries the connection until kwb's stub listens (the kernel boots up to its first instruction first);
    // a kwb that gives up (a bad option, a kernel it cannot boot) ends the wait with its own message
    await Promise.race([gdb.connect(guest.target, 60), guest.failed]);
    guest.attached();
  }

  protected override async attachRequest(response: DebugProtocol.AttachResponse, args: AttachArguments): Promise<void> {
    try {
      this.attachArgs = args;
      await this.startGdb(attachGdb(args), args.cwd).connect(args.target, 10);
      await this.offerStepBack();
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (err) {
      this.sendErrorResponse(response, 1, message(err));
      await this.endSession();
    }
  }

  /** Step Back and Reverse Continue, once gdb says the target runs backwards (an rv64 guest's recording). */
  private async offerStepBack(): Promise<void> {
    if (await this.gdb.canReverse().catch(() => false))
      this.sendEvent(new CapabilitiesEvent({ supportsStepBack: true }));
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    this.sendResponse(response);
    if (this.attachArgs) {
      // attached to a stopped target: show where it is
      this.sendStopped('entry', 1);
      return;
    }
    if (this.launchArgs?.stopAtEntry)
      this.entryBreakpoint = (
        await this.gdb.insertBreakpoint('start_kernel', { temporary: true }).catch(() => undefined)
      )?.number;
    await this.placeKunitBreakpoint();
    await this.resume(() => this.gdb.continue());
  }

  /** A KUnit launch stops where a test's expectation fails (set again for each new gdb: restart). */
  private async placeKunitBreakpoint(): Promise<void> {
    if (this.launchArgs?.kunit === undefined) return;
    const kunit = await this.gdb.insertBreakpoint(FAILED_ASSERTION).catch((err: unknown) => {
      this.sendEvent(new OutputEvent(`kwb: is KUnit built into this kernel? ${message(err)}\n`, 'stderr'));
      return undefined;
    });
    this.kunitBreakpoint = kunit?.number;
  }

  /** End gdb (killing a launch's guest, leaving an attached target running) and the kwb of a launch. */
  private async endSession(): Promise<void> {
    const runtime = this.runtime;
    this.runtime = undefined;
    this.variables = undefined;
    runtime?.removeAllListeners('exit');
    await runtime?.end(this.launchArgs ? 'kill' : 'detach');
    const guest = this.guest;
    this.guest = undefined;
    await guest?.gone();
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
      await this.endSession();
      await this.bootAndAttach(this.launchArgs);
      await this.breakpoints.placeAgain(this.gdb);
      await this.placeKunitBreakpoint();
      this.sendResponse(response);
      await this.resume(() => this.gdb.continue());
    } catch (err) {
      this.sendErrorResponse(response, 1, message(err));
    }
  }

  // --- running and stopping ---------------------------------------------------------------------------------------

  /** Let the target run (continue, a step): variable handles go stale. */
  private async resume(run: () => Promise<void>): Promise<void> {
    await this.variables?.invalidate();
    await run().catch((err: unknown) => this.sendEvent(new OutputEvent(`${message(err)}\n`, 'stderr')));
  }

  private async onStop(stop: MiStop): Promise<void> {
    if (stop.reason === 'exited') {
      this.sendEvent(new TerminatedEvent());
      return;
    }
    const log = stop.bkptno !== undefined ? this.breakpoints.logMessageOf(stop.bkptno) : undefined;
    if (log !== undefined) {
      await this.logAndContinue(log);
      return;
    }
    if (stop.bkptno !== undefined && stop.bkptno === this.kunitBreakpoint) {
      // the test is the caller: VS Code focuses the first frame whose source is not deemphasized (stackTrace)
      this.sendStopped('exception', stop.threadId, 'a KUnit expectation failed');
      return;
    }
    this.sendStopped(this.stopReason(stop), stop.threadId);
  }

  private stopReason(stop: MiStop): string {
    switch (stop.reason) {
      case 'breakpoint':
        if (stop.bkptno !== undefined && stop.bkptno === this.entryBreakpoint) return 'entry';
        return BREAKPOINT_REASON[(stop.bkptno && this.breakpoints.kindOf(stop.bkptno)) || 'source'];
      case 'watchpoint':
        return 'data breakpoint';
      case 'step':
        return 'step';
      case 'signal':
        return 'exception';
      default:
        return 'pause';
    }
  }

  /** gdb runs all-stop: every stop stops every thread (VS Code otherwise shows the other tasks as running). */
  private sendStopped(reason: string, thread: number, text?: string): void {
    const e: DebugProtocol.StoppedEvent = new StoppedEvent(reason, thread, text);
    e.body.allThreadsStopped = true;
    this.sendEvent(e);
  }

  /** A log point: its {expression} parts evaluated in the stopped frame, printed; then on. */
  private async logAndContinue(template: string): Promise<void> {
    const parts = await Promise.all(
      template
        .split(/(\{[^}]+\})/)
        .map((part) =>
          /^\{.*\}$/.test(part) ? this.gdb.evaluate(part.slice(1, -1)).catch((e: unknown) => `<${message(e)}>`) : part,
        ),
    );
    this.sendEvent(new OutputEvent(parts.join('') + '\n', 'console'));
    await this.resume(() => this.gdb.continue());
  }

  protected override async continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    await this.resume(() => this.gdb.continue());
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    this.sendResponse(response);
    await this.gdb.pause().catch(() => {});
  }

  protected override async nextRequest(
    response: DebugProtocol.NextResponse,
    args: DebugProtocol.NextArguments,
  ): Promise<void> {
    this.sendResponse(response);
    await this.resume(() => this.gdb.next(args.threadId, args.granularity === 'instruction'));
  }

  protected override async stepInRequest(
    response: DebugProtocol.StepInResponse,
    args: DebugProtocol.StepInArguments,
  ): Promise<void> {
    this.sendResponse(response);
    await this.resume(() => this.gdb.step(args.threadId, args.granularity === 'instruction'));
  }

  protected override async stepOutRequest(
    response: DebugProtocol.StepOutResponse,
    args: DebugProtocol.StepOutArguments,
  ): Promise<void> {
    this.sendResponse(response);
    await this.resume(() => this.gdb.finish(args.threadId));
  }

  protected override async stepBackRequest(
    response: DebugProtocol.StepBackResponse,
    args: DebugProtocol.StepBackArguments,
  ): Promise<void> {
    this.sendResponse(response);
    await this.resume(() => this.gdb.stepBack(args.threadId, args.granularity === 'instruction'));
  }

  protected override async reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): Promise<void> {
    this.sendResponse(response);
    await this.resume(() => this.gdb.reverseContinue());
  }

  // --- breakpoints: gdb changes them only while the target is stopped --------------------------------------------

  /** Change breakpoints; a running target is stopped unseen for it and let go on after. */
  private changeBreakpoints(
    change: () => Promise<DebugProtocol.Breakpoint[]>,
  ): Promise<{ breakpoints: DebugProtocol.Breakpoint[] }> {
    return this.gdb.whileStopped(change).then((breakpoints) => ({ breakpoints }));
  }

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): Promise<void> {
    return this.answer(response, () =>
      this.changeBreakpoints(() =>
        this.breakpoints.setSource(this.gdb, args.source.path ?? '', args.breakpoints ?? []),
      ),
    );
  }

  protected override setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): Promise<void> {
    return this.answer(response, () =>
      this.changeBreakpoints(() => this.breakpoints.setFunction(this.gdb, args.breakpoints)),
    );
  }

  protected override setInstructionBreakpointsRequest(
    response: DebugProtocol.SetInstructionBreakpointsResponse,
    args: DebugProtocol.SetInstructionBreakpointsArguments,
  ): Promise<void> {
    return this.answer(response, () =>
      this.changeBreakpoints(() => this.breakpoints.setInstruction(this.gdb, args.breakpoints)),
    );
  }

  protected override setDataBreakpointsRequest(
    response: DebugProtocol.SetDataBreakpointsResponse,
    args: DebugProtocol.SetDataBreakpointsArguments,
  ): Promise<void> {
    return this.answer(response, () =>
      this.changeBreakpoints(() => this.breakpoints.setData(this.gdb, args.breakpoints)),
    );
  }

  protected override dataBreakpointInfoRequest(
    response: DebugProtocol.DataBreakpointInfoResponse,
    args: DebugProtocol.DataBreakpointInfoArguments,
  ): void {
    // a variable of a scope or struct: watch it by its expression
    response.body = {
      dataId: this.vars.dataExpression(args.variablesReference, args.name),
      description: args.name,
      accessTypes: ['write', 'read', 'readWrite'],
      canPersist: true,
    };
    this.sendResponse(response);
  }

  // --- threads, stack, variables ----------------------------------------------------------------------------------

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    const threads = await this.gdb.threads().catch(() => [{ id: 1, name: 'kernel' }]);
    response.body = { threads: threads.map((th) => new Thread(th.id, threadName(th))) };
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): Promise<void> {
    try {
      const low = args.startFrame ?? 0;
      const frames = await this.gdb.stack(args.threadId, low, low + (args.levels || 200) - 1);
      response.body = {
        stackFrames: frames.map((f) => ({
          id: frameId(args.threadId, f.level),
          name: f.func ?? f.addr ?? '??',
          source: f.file
            ? {
                name: f.file.split('/').pop(),
                path: f.file,
                // in a KUnit launch, KUnit's failed-assertion path is not what the user is after: the test is
                ...(this.kunitBreakpoint && f.func === FAILED_ASSERTION ? { presentationHint: 'deemphasize' } : {}),
              }
            : undefined,
          line: f.line ?? 0,
          column: 1,
          instructionPointerReference: f.addr,
        })),
        totalFrames: await this.gdb.stackDepth(args.threadId, 1000).catch(() => frames.length),
      };
    } catch (err) {
      response.body = { stackFrames: [] };
      this.sendEvent(new OutputEvent(`${message(err)}\n`, 'stderr'));
    }
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    response.body = { scopes: this.vars.scopes(args.frameId) };
    this.sendResponse(response);
  }

  protected override async variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): Promise<void> {
    const variables = await this.vars.variables(args.variablesReference).catch((err: unknown) => {
      this.sendEvent(new OutputEvent(`${message(err)}\n`, 'stderr'));
      return [];
    });
    response.body = { variables };
    this.sendResponse(response);
  }

  protected override setVariableRequest(
    response: DebugProtocol.SetVariableResponse,
    args: DebugProtocol.SetVariableArguments,
  ): Promise<void> {
    return this.answer(response, async () => ({
      value: await this.vars.set(args.variablesReference, args.name, args.value),
    }));
  }

  protected override evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): Promise<void> {
    return this.answer(response, async () => {
      const raw = /^(?:`|-exec\s+)(.*)$/s.exec(args.expression);
      if (raw && args.context === 'repl') {
        // a gdb command typed in the debug console: `info registers, or -exec info registers
        return { result: (await this.gdb.console(raw[1]!)).trimEnd(), variablesReference: 0 };
      }
      const v = await this.vars.evaluate(args.expression, args.frameId);
      return {
        result: v.value,
        type: v.type,
        variablesReference: v.variablesReference,
        memoryReference: v.memoryReference,
      };
    });
  }

  // --- memory and disassembly -------------------------------------------------------------------------------------

  protected override async readMemoryRequest(
    response: DebugProtocol.ReadMemoryResponse,
    args: DebugProtocol.ReadMemoryArguments,
  ): Promise<void> {
    const address = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
    // memory gdb cannot read is no error in DAP: it is unreadable bytes
    const bytes = await this.gdb.readMemory(address, args.count).catch(() => Buffer.alloc(0));
    response.body = {
      address: `0x${address.toString(16)}`,
      data: bytes.toString('base64'),
      unreadableBytes: args.count - bytes.length,
    };
    this.sendResponse(response);
  }

  protected override writeMemoryRequest(
    response: DebugProtocol.WriteMemoryResponse,
    args: DebugProtocol.WriteMemoryArguments,
  ): Promise<void> {
    return this.answer(response, async () => {
      const bytes = Buffer.from(args.data, 'base64');
      await this.gdb.writeMemory(BigInt(args.memoryReference) + BigInt(args.offset ?? 0), bytes);
      return { bytesWritten: bytes.length };
    });
  }

  protected override disassembleRequest(
    response: DebugProtocol.DisassembleResponse,
    args: DebugProtocol.DisassembleArguments,
  ): Promise<void> {
    return this.answer(response, async () => {
      const base = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
      const before = Math.max(0, -(args.instructionOffset ?? 0));
      const after = args.instructionCount - before;
      // instructions are at most 15 bytes on x86 (4 on RISC-V): read generously around the address, then pick
      const start = base - BigInt(before * 15);
      const end = base + BigInt(Math.max(after, 1) * 15);
      // gdb groups by source line (inlined code makes the groups jump around): put them back in address order
      const all = (await this.gdb.disassemble(start, end)).sort((a, b) =>
        BigInt(a.address) < BigInt(b.address) ? -1 : 1,
      );
      const instructions: DebugProtocol.DisassembledInstruction[] = all.map((i) => ({
        address: i.address,
        instructionBytes: i.opcodes,
        instruction: i.inst,
        symbol: i.func ? `${i.func}+${i.offset ?? 0}` : undefined,
        location: i.file ? { path: i.file, name: i.file.split('/').pop() } : undefined,
        line: i.line || undefined,
      }));
      const at = instructions.findIndex((i) => BigInt(i.address) >= base);
      const from = Math.max(0, (at < 0 ? instructions.length : at) - before);
      const picked = instructions.slice(from, from + args.instructionCount);
      // pad at the end so VS Code gets exactly what it asked for
      while (picked.length < args.instructionCount)
        picked.push({
          address: `0x${(end + BigInt(picked.length)).toString(16)}`,
          instruction: '',
          presentationHint: 'invalid',
        });
      return { instructions: picked };
    });
  }
}
