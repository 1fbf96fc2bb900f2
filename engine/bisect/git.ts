// The few git operations a bisect needs, run in the kernel tree. git's own `bisect` keeps the search state, so an
// interrupted kwb bisect resumes from exactly where git is.
import { execFileSync, spawnSync } from 'node:child_process';
import { KwbError } from '../results.js';

export class Git {
  constructor(readonly dir: string) {}

  run(args: string[]): string {
    const r = spawnSync('git', ['-C', this.dir, ...args], { encoding: 'utf8' });
    if (r.status !== 0)
      throw new KwbError(`git ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
    return r.stdout.trim();
  }

  tryRun(args: string[]): { ok: boolean; out: string } {
    const r = spawnSync('git', ['-C', this.dir, ...args], { encoding: 'utf8' });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
  }

  gitDir(): string {
    return execFileSync('git', ['-C', this.dir, 'rev-parse', '--absolute-git-dir'], { encoding: 'utf8' }).trim();
  }

  resolve(rev: string): string {
    const r = this.tryRun(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
    if (!r.ok) throw new KwbError(`'${rev}' is not a commit in ${this.dir}`);
    return r.out;
  }

  subject(commit: string): string {
    return this.run(['log', '-1', '--format=%s', commit]);
  }

  head(): string {
    return this.run(['rev-parse', 'HEAD']);
  }

  /** The branch HEAD is on, or undefined when detached. */
  branch(): string | undefined {
    const r = this.tryRun(['symbolic-ref', '--quiet', '--short', 'HEAD']);
    return r.ok ? r.out : undefined;
  }

  /** Tracked files with changes (untracked build output does not count). */
  dirty(): string[] {
    return this.run(['status', '--porcelain', '--untracked-files=no']).split('\n').filter(Boolean);
  }

  checkout(commit: string): void {
    this.run(['checkout', '--quiet', '--detach', commit]);
  }

  bisecting(): boolean {
    return this.tryRun(['bisect', 'log']).ok;
  }
}
