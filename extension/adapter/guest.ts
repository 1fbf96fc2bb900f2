// The kwb process that boots a launch's guest and serves it to gdb: in VS Code's terminal (where the user can type
// into the guest console) when the client offers one, else as a child whose output goes to the debug console.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { liveSessions, processAlive } from '../../engine/sessions.js';
import { freePort, kwbBootArgs, type LaunchArguments } from './launch.js';

/** Run a command in the client's terminal (DAP's runInTerminal); resolves when the terminal runs it. */
export type RunInTerminal = (args: DebugProtocol.RunInTerminalRequestArguments) => Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KwbGuest {
  /** the kwb in the terminal, found through its gdb session record once gdb is attached */
  private terminalPid?: number;
  /** host:port where kwb's stub listens (once the guest is at its first instruction) */
  readonly target: string;
  /** Rejects with kwb's last error line when the child kwb exits (a bad option, a kernel it cannot boot). */
  readonly failed: Promise<never>;

  private constructor(
    private readonly port: number,
    private readonly child: ChildProcess | undefined,
    failed: Promise<never> | undefined,
  ) {
    this.failed = failed ?? new Promise<never>(() => {});
    this.target = `127.0.0.1:${port}`;
    this.failed.catch(() => {});
  }

  static async start(
    args: LaunchArguments,
    terminal: RunInTerminal | undefined,
    output: (text: string, category: 'stdout' | 'stderr') => void,
  ): Promise<KwbGuest> {
    const port = await freePort();
    const kwb = [process.execPath, args.kwbPath ?? join(__dirname, 'cli.js'), ...kwbBootArgs(args, port)];
    if (terminal) {
      await terminal({ kind: 'integrated', title: 'kwb guest', cwd: args.cwd ?? process.cwd(), args: kwb });
      return new KwbGuest(port, undefined, undefined);
    }
    const child = spawn(kwb[0]!, kwb.slice(1), { cwd: args.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let errors = '';
    child.stdout!.on('data', (d: Buffer) => output(d.toString(), 'stdout'));
    child.stderr!.on('data', (d: Buffer) => {
      errors += d.toString();
      output(d.toString(), 'stderr');
    });
    const failed = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new Error(errors.trim().split('\n').pop() || `kwb boot exited with ${code}`)),
      ),
    );
    return new KwbGuest(port, child, failed);
  }

  /** gdb is attached: kwb has written its session record. */
  attached(): void {
    if (!this.child) this.terminalPid = liveSessions().find((s) => s.port === this.port)?.pid;
  }

  /** After gdb's kill (which makes kwb's stub shut the guest down): wait for kwb to exit, and stop it if it does
   *  not. In a terminal, wait (a while) so that VS Code runs the next kwb in the same terminal. */
  async gone(): Promise<void> {
    const child = this.child;
    if (!child) {
      for (let i = 0; this.terminalPid !== undefined && processAlive(this.terminalPid) && i < 150; i++)
        await sleep(100);
      return;
    }
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
  }
}
