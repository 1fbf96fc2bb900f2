// Run the real `kwb` CLI (dist/cli.js, built by `npm test`) the way a user does, with a private TMPDIR so each
// test can prove that nothing was left behind: no temp dir, no process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export interface KwbRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A scratch TMPDIR and runtime dir for kwb; leftovers() lists what kwb left in it and which processes still mention it. */
export class Sandbox {
  // in RAM when possible, as kwb's own default runtime dir is
  readonly tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kwb-test-'));

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, TMPDIR: this.tmp, KWB_RUNTIME_DIR: this.tmp, ...extra };
  }

  start(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): ChildProcess {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: this.env(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    return child;
  }

  /** Run kwb to its end; with `timeoutMs`, a kwb still running then gets SIGTERM (a hung guest fails its test with
   *  what it printed, rather than holding the whole run until the suite's own timeout). */
  run(
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
  ): Promise<KwbRun> {
    const child = this.start(args, opts);
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    return collect(child).finally(() => clearTimeout(timer));
  }

  /** Temp files and live processes that belong to guests started from this sandbox. */
  leftovers(): { files: string[]; processes: string[] } {
    const processes: string[] = [];
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        // a confined guest's processes name paths inside their session dir, which is their root
        const root = readlinkSync(`/proc/${pid}/root`);
        if (cmdline.includes(this.tmp) || root.startsWith(this.tmp)) processes.push(`${pid}: ${cmdline.slice(0, 120)}`);
      } catch {
        // exited meanwhile
      }
    }
    return { files: readdirSync(this.tmp), processes };
  }

  dispose(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

export function collect(child: ChildProcess): Promise<KwbRun> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Wait until `predicate` holds, polling; for readiness checks that have no event to wait on. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
