// kwb bisect: check that good is good and bad is bad, then let git bisect pick commits while kwb builds
// (incrementally; a failed build is a skip), boots and tests each one. Every step is recorded in a state file next
// to git's own bisect state, so an interrupted bisect resumes; the report is written in Markdown and JSON.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildKernel, type BuildArch, type BuildResult } from '../build/build.js';
import type { CcacheStats } from '../build/ccache.js';
import { DEFAULT_BUILD_DIR, kunitBuild } from '../kunit/build.js';
import { describeProgress } from '../build/progress.js';
import type { FarmChoice } from '../build/toolchain.js';
import { ExitCode, KwbError } from '../results.js';
import { writeFileAtomic } from '../host.js';
import { Git } from './git.js';
import type { Verdict } from './verdict.js';

/** The farm (FarmChoice) is every step's; ccache is absent in states saved before kwb had the switch: on. */
export interface BisectConfig extends FarmChoice {
  tree: string;
  /** As the user named them (for the report) and resolved (HEAD~3 means something else once kwb checks out). */
  good: string;
  bad: string;
  goodCommit: string;
  badCommit: string;
  arch: BuildArch;
  fragment: string[];
  /** A KUnit bisect: each step is built by kunit.py with these kunitconfigs (paths in the tree; none: kunit.py's
   *  default) into <tree>/.kunit, the fragment added as --kconfig_add lines. */
  kunitconfigs?: string[];
  /** `kwb test` arguments for each step, without --kernel (kwb adds the step's build). */
  testArgs: string[];
  /** The original branch (or commit, when detached) to restore at the end. */
  original: string;
}

export interface Step {
  commit: string;
  subject: string;
  /** 'check-good' / 'check-bad': the first two runs, which confirm the endpoints. */
  role: 'check-good' | 'check-bad' | 'bisect';
  verdict: Verdict;
  reason: string;
  buildSeconds: number;
  testSeconds: number;
  /** What the build asked of ccache (absent without ccache). */
  ccache?: CcacheStats;
  /** The build's output, and the guest console of the test (absent when the build failed). */
  logs: { build: string; test?: string };
}

export interface BisectState {
  config: BisectConfig;
  steps: Step[];
  started: string;
  /** Set when the bisect concluded. */
  result?: { firstBad?: string; subject?: string; message: string };
}

/** Runs one step's test: returns the verdict and how long the boot+test took. */
export type StepTester = (
  kernel: string,
  log: string,
) => Promise<{ verdict: Verdict; reason: string; seconds: number }>;

export interface BisectHooks {
  say(line: string): void;
  progress(line: string): void;
  test: StepTester;
  /** Aborted on Ctrl-C: the step under way is dropped, not recorded, and the bisect can be resumed. */
  signal: AbortSignal;
}

export function stateDir(tree: string): string {
  return join(new Git(tree).gitDir(), 'kwb-bisect');
}

export function loadState(tree: string): BisectState | undefined {
  const file = join(stateDir(tree), 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BisectState) : undefined;
}

function saveState(tree: string, state: BisectState): void {
  // whole or not at all: `--resume` after a kill, and anyone watching the bisect, read it
  writeFileAtomic(join(stateDir(tree), 'state.json'), JSON.stringify(state, null, 2) + '\n');
}

export class Bisect {
  private readonly git: Git;
  private readonly dir: string;
  private readonly t0 = Date.now();

  constructor(
    private readonly state: BisectState,
    private readonly hooks: BisectHooks,
  ) {
    this.git = new Git(state.config.tree);
    this.dir = stateDir(state.config.tree);
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
  }

  static start(config: BisectConfig, hooks: BisectHooks): Bisect {
    const git = new Git(config.tree);
    if (git.bisecting() || loadState(config.tree)) {
      throw new KwbError(
        'a bisect is already in progress in this tree; continue it with kwb bisect --resume or clean up with kwb bisect --reset',
      );
    }
    const dirty = git.dirty();
    if (dirty.length)
      throw new KwbError(
        `the tree has uncommitted changes (${dirty[0]!.trim()}${dirty.length > 1 ? ', ...' : ''}); commit or stash them first`,
      );
    mkdirSync(stateDir(config.tree), { recursive: true });
    const state: BisectState = { config, steps: [], started: new Date().toISOString() };
    saveState(config.tree, state);
    return new Bisect(state, hooks);
  }

  /** Build and test the checked-out commit, record the step. */
  private async runStep(role: Step['role'], index: number): Promise<Step> {
    const commit = this.git.head();
    const subject = this.git.subject(commit);
    const short = commit.slice(0, 12);
    const log = join(this.dir, 'logs', `${String(index).padStart(2, '0')}-${short}.build.log`);
    const testLog = log.replace(/\.build\.log$/, '.test.log');
    this.hooks.progress(`building ${short} ${subject}`);
    const { tree, arch, fragment, kunitconfigs, ccache, distcc } = this.state.config;
    // the same compile farm for kunit.py's builds as for kwb's own
    const farm = { ccache, distcc };
    const build: Pick<BuildResult, 'ok' | 'kernel' | 'seconds' | 'ccache'> = kunitconfigs
      ? await kunitBuild({
          source: tree,
          buildDir: join(tree, DEFAULT_BUILD_DIR),
          arch,
          kunitconfigs,
          kconfigAdd: fragment,
          ...farm,
          log,
          onStep: (line) => this.hooks.progress(`${this.where(index)} building ${short}: ${line.replace(/^\S+ /, '')}`),
          signal: this.hooks.signal,
        }).catch((err: unknown) => {
          // a commit without the kunitconfig (or without kunit.py) cannot be tested: skipped like a broken build
          if (!(err instanceof KwbError)) throw err;
          writeFileSync(log, `${err.message}\n`);
          return { ok: false, kernel: '', seconds: 0 };
        })
      : await buildKernel({
          source: tree,
          arch,
          fragment,
          ...farm,
          log,
          onProgress: (p) => this.hooks.progress(`${this.where(index)} building ${short}: ${describeProgress(p)}`),
          signal: this.hooks.signal,
        });
    this.checkAborted();
    let step: Step;
    if (!build.ok) {
      step = {
        commit,
        subject,
        role,
        verdict: 'skip',
        reason: 'the kernel does not build',
        buildSeconds: build.seconds,
        testSeconds: 0,
        ccache: build.ccache,
        logs: { build: log },
      };
    } else {
      this.hooks.progress(`${this.where(index)} testing ${short}`);
      const test = await this.hooks.test(build.kernel, testLog);
      this.checkAborted();
      step = {
        commit,
        subject,
        role,
        verdict: test.verdict,
        reason: test.reason,
        buildSeconds: build.seconds,
        testSeconds: test.seconds,
        ccache: build.ccache,
        logs: { build: log, test: testLog },
      };
    }
    this.state.steps.push(step);
    saveState(this.state.config.tree, this.state);
    const cached = step.ccache ? ` (ccache ${step.ccache.hits} hits, ${step.ccache.misses} misses)` : '';
    this.hooks.say(
      `${short} ${step.verdict.padEnd(4)} ${subject}  (${step.reason}; build ${step.buildSeconds.toFixed(0)}s${cached}, test ${step.testSeconds.toFixed(1)}s)`,
    );
    return step;
  }

  private checkAborted(): void {
    if (this.hooks.signal.aborted) {
      throw new KwbError(
        'bisect interrupted; continue it with kwb bisect --resume, or put the tree back with kwb bisect --reset',
        ExitCode.interrupted,
      );
    }
  }

  private stepsLeft = 0;

  private where(index: number): string {
    const elapsed = (Date.now() - this.t0) / 1000;
    const done = this.state.steps.length;
    const perStep = done ? elapsed / Math.max(1, index) : 0;
    const total = index + this.stepsLeft;
    const eta = perStep && this.stepsLeft ? `, ~${Math.round(perStep * (this.stepsLeft + 1))}s left` : '';
    return `[step ${index} of ~${total}, ${Math.round(elapsed)}s${eta}]`;
  }

  async run(): Promise<BisectState> {
    const { goodCommit: good, badCommit: bad } = this.state.config;
    const recorded = (role: Step['role']) => this.state.steps.find((s) => s.role === role);
    // 1. the endpoints must behave as the user says, or the bisect would blame the wrong commit
    for (const [role, rev, expect] of [
      ['check-good', good, 'good'],
      ['check-bad', bad, 'bad'],
    ] as const) {
      let step = recorded(role);
      if (!step) {
        this.git.checkout(rev);
        step = await this.runStep(role, this.state.steps.length + 1);
      }
      if (step.verdict !== expect) {
        const name = expect === 'good' ? this.state.config.good : this.state.config.bad;
        return this.finish(`the ${expect} commit ${name} tests ${step.verdict} (${step.reason}); nothing to bisect`);
      }
    }
    // 2. git picks the commits
    if (!this.git.bisecting()) {
      const out = this.git.run(['bisect', 'start', bad, good]);
      this.noteGit(out);
    }
    for (;;) {
      const done = this.conclusion();
      if (done) return done;
      const step = await this.runStep('bisect', this.state.steps.length + 1);
      const out = this.git.tryRun(['bisect', step.verdict, step.commit]);
      this.noteGit(out.out);
      if (!out.ok) return this.finish(`git bisect stopped: ${out.out.split('\n').pop()}`);
    }
  }

  private noteGit(out: string): void {
    const m = /roughly (\d+) steps?/.exec(out);
    if (m) this.stepsLeft = Number(m[1]) + 1;
  }

  /** git's verdict, once it has one: the first bad commit, or only skipped commits left. */
  private conclusion(): BisectState | undefined {
    const log = this.git.run(['bisect', 'log']);
    const first = /^# first bad commit: \[([0-9a-f]+)\] (.*)$/m.exec(log);
    if (first) return this.finish(`first bad commit: ${first[1]!.slice(0, 12)} ${first[2]}`, first[1], first[2]);
    const only = /^# only skipped commits left to test/m.exec(log);
    if (only)
      return this.finish(
        'only commits that could not be tested are left; the first bad commit is one of the skipped ones',
      );
    return undefined;
  }

  private finish(message: string, firstBad?: string, subject?: string): BisectState {
    this.state.result = { firstBad, subject, message };
    saveState(this.state.config.tree, this.state);
    writeReports(this.dir, this.state);
    return this.state;
  }
}

/** Put the user's tree back: end git's bisect, return to the original branch, forget kwb's state (not the report). */
export function resetBisect(tree: string): string {
  const git = new Git(tree);
  const state = loadState(tree);
  if (git.bisecting()) git.run(['bisect', 'reset']);
  if (state && git.dirty().length === 0) {
    const original = state.config.original;
    const here = git.branch() ?? git.head();
    if (here !== original) git.run(['checkout', '--quiet', original]);
  }
  rmSync(join(stateDir(tree), 'state.json'), { force: true });
  return state?.config.original ?? git.branch() ?? git.head();
}

export function reportMarkdown(state: BisectState): string {
  const r = state.result;
  const lines = [
    '# kwb bisect report',
    '',
    `- tree: \`${state.config.tree}\``,
    `- good: \`${state.config.good}\`, bad: \`${state.config.bad}\``,
    `- test: \`kwb test ${state.config.testArgs.join(' ')}\``,
    `- started: ${state.started}`,
    '',
    `**${r?.firstBad ? `First bad commit: \`${r.firstBad.slice(0, 12)}\` ${r.subject}` : (r?.message ?? 'unfinished')}**`,
    '',
    '| # | commit | subject | role | verdict | reason | build s | test s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...state.steps.map(
      (s, i) =>
        `| ${i + 1} | \`${s.commit.slice(0, 12)}\` | ${s.subject.replace(/\|/g, '\\|')} | ${s.role} | ${s.verdict} | ${s.reason.replace(/\|/g, '\\|')} | ${s.buildSeconds.toFixed(1)} | ${s.testSeconds.toFixed(1)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

export function writeReports(dir: string, state: BisectState): { markdown: string; json: string } {
  const markdown = join(dir, 'report.md');
  const json = join(dir, 'report.json');
  writeFileSync(markdown, reportMarkdown(state));
  writeFileSync(
    json,
    JSON.stringify({ ...state.result, good: state.config.good, bad: state.config.bad, steps: state.steps }, null, 2) +
      '\n',
  );
  return { markdown, json };
}
