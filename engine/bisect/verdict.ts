// From one guest run to a git-bisect verdict: good, bad or skip, with the reason. The sources, in order: a run
// that could not happen (skip), KTAP on the kernel console when asked for (a complete KUnit plan decides alone,
// whatever the kernel did after it), the kernel's own complaints on its console (panic, oops, BUG, optionally WARN;
// never the command's output), a timeout, KTAP in the command's output, and the command's exit status.
import type { GuestResult } from '../results.js';
import { countTests, failedTests, failures, flatten, parseKtap, type KtapReport, type KtapStatus } from './ktap.js';

export type Verdict = 'good' | 'bad' | 'skip';

export interface VerdictRules {
  /** A kernel WARNING on the console makes the run bad (default: yes). */
  warnIsBad: boolean;
  /** Judge by KTAP results in the console output instead of the command's status alone. */
  ktap: boolean;
  /** The name of a suite's Nth test case, when the kernel can tell (KUnit prints a case's name only once it ends:
   *  a crash or hang inside it is named from the kernel's own suite tables). */
  caseName?: (suite: string, number: number) => string | undefined;
}

/** One KTAP test for --json: its full name ("suite.case"), status, directive reason and diagnostic log. */
export interface KtapTestResult {
  name: string;
  status: KtapStatus;
  reason?: string;
  log?: string[];
}

/** The KTAP results of a run, counted as kunit.py counts them. */
export interface KtapResults {
  passed: number;
  failed: number;
  skipped: number;
  /** Failed cases ("suite.case"). */
  failures: string[];
  /** Every test without subtests, in the order they ran. */
  tests: KtapTestResult[];
  /** The test that never reported, when the kernel stopped before the plan was complete. */
  running?: string;
}

export interface RunVerdict {
  verdict: Verdict;
  reason: string;
  /** With --ktap, when KTAP was found: the results the verdict came from. */
  ktap?: KtapResults;
}

const KERNEL_COMPLAINTS: [RegExp, string][] = [
  [/^(?:\[[\s\d.]+\]\s*)?(BUG: .*)$/m, 'BUG'],
  [/^(?:\[[\s\d.]+\]\s*)?(Oops[:\s].*)$/m, 'oops'],
  [/^(?:\[[\s\d.]+\]\s*)?(general protection fault.*)$/m, 'oops'],
  [/^(?:\[[\s\d.]+\]\s*)?(kernel BUG at .*)$/m, 'BUG'],
];
const WARNING = /^(?:\[[\s\d.]+\]\s*)?(WARNING: .*)$/m;

/** What a run printed: the kernel's console, and the command's own stdout (where a test prints KTAP). */
export interface RunOutput {
  console: string;
  command: string;
}

export function judgeRun(result: GuestResult, output: RunOutput, rules: VerdictRules): RunVerdict {
  const { console } = output;
  if (result.kind === 'killed') return { verdict: 'skip', reason: `interrupted: ${result.detail ?? ''}` };
  if (rules.ktap) {
    // KUnit prints its KTAP on the kernel console while the kernel boots
    const report = parseKtap(console);
    if (report.found) return judgeKunit(result, report, rules);
  }
  if (result.kind === 'failed-to-start')
    return { verdict: 'skip', reason: `could not test: ${result.detail ?? 'the guest did not start'}` };
  if (result.kind === 'panic') return { verdict: 'bad', reason: result.detail ?? 'kernel panic' };
  if (result.kind === 'died')
    return { verdict: 'bad', reason: result.detail ?? 'the guest died while the command ran' };
  for (const [pattern, what] of KERNEL_COMPLAINTS) {
    const m = pattern.exec(console);
    if (m) return { verdict: 'bad', reason: `kernel ${what}: ${m[1]!.trim()}` };
  }
  if (rules.warnIsBad) {
    const m = WARNING.exec(console);
    if (m) return { verdict: 'bad', reason: `kernel warning: ${m[1]!.trim()}` };
  }
  if (result.kind === 'timeout') return { verdict: 'bad', reason: 'timeout: the guest hung or took too long' };
  if (rules.ktap) {
    // kselftests print KTAP on the command's stdout
    const report = parseKtap(output.command);
    if (!report.found)
      return {
        verdict: 'skip',
        reason: 'no KTAP output found (is the test built in, or does the command print KTAP?)',
      };
    const failed = failures(report);
    if (failed.length) return { verdict: 'bad', reason: `KTAP: ${failed.length} failed: ${listed(failed)}` };
    if (report.missing)
      return { verdict: 'bad', reason: `KTAP: ${report.missing} planned test(s) never reported (crash mid-run?)` };
  }
  const code = result.code ?? 0;
  if (code === 125) return { verdict: 'skip', reason: 'the command exited 125 (cannot test)' };
  if (code !== 0) return { verdict: 'bad', reason: `the command exited ${code}` };
  return { verdict: 'good', reason: rules.ktap ? 'all KTAP tests passed' : 'the command exited 0' };
}

function listed(names: string[]): string {
  return `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}`;
}

/** KTAP on the console: once the plan is complete the results alone decide (kunit_shutdown=halt, a panic on a
 *  missing root, a WARN from a test that provokes one); a kernel that stopped before that is bad, naming the test
 *  that was running. */
function judgeKunit(result: GuestResult, report: KtapReport, rules: VerdictRules): RunVerdict {
  const ktap = ktapResults(report, rules);
  if (!report.complete) {
    const end =
      result.kind === 'panic'
        ? `kernel panic (${result.detail ?? 'no message'})`
        : result.kind === 'timeout'
          ? 'timeout'
          : result.kind === 'died'
            ? (result.detail ?? 'the guest died')
            : 'the kernel stopped';
    return { verdict: 'bad', reason: `KTAP: ${end} in ${ktap.running} before the plan was complete`, ktap };
  }
  const summary = `${ktap.passed} passed, ${ktap.failed} failed, ${ktap.skipped} skipped`;
  if (ktap.failed) return { verdict: 'bad', reason: `KTAP: ${summary}; failed: ${listed(ktap.failures)}`, ktap };
  if (!ktap.passed) return { verdict: 'skip', reason: `KTAP: no test passed or failed (${summary})`, ktap };
  return { verdict: 'good', reason: `KTAP: ${summary}`, ktap };
}

function ktapResults(report: KtapReport, rules: VerdictRules): KtapResults {
  const counts = countTests(report.tests);
  const tests = flatten(report.tests)
    .filter(({ test }) => !test.subtests.length)
    .map(({ path, test }) => ({
      name: path,
      status: test.status,
      ...(test.reason ? { reason: test.reason } : {}),
      ...(test.status === 'fail' && test.log.length ? { log: dedent(test.log) } : {}),
    }));
  return {
    ...counts,
    failures: failedTests(report).map(({ path }) => path),
    tests,
    running: report.running && runningName(report.running.path, report.running.number, rules),
  };
}

/** Lines without the indent they all share (as kunit.py prints a failed test's log). */
function dedent(lines: string[]): string[] {
  const margin = Math.min(...lines.map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(margin));
}

/** "suite.case" for the test that never reported; its number when the kernel cannot name it. */
function runningName(path: string[], number: number, rules: VerdictRules): string {
  if (!path.length) return `top-level test ${number}`;
  const name = path.length === 1 ? rules.caseName?.(path[0]!, number) : undefined;
  return name ? `${path[0]}.${name}` : `${path.join('.')} test ${number}`;
}

export interface RunsRule {
  /** The number of bad runs that make the verdict bad (default 1: any bad run). */
  badThreshold: number;
}

/** Combine several runs of the same kernel: skipped runs don't count; bad when at least `badThreshold` runs are
 *  bad; skip when no run could test. */
export function combineRuns(runs: RunVerdict[], rule: RunsRule): RunVerdict {
  const tested = runs.filter((r) => r.verdict !== 'skip');
  if (!tested.length) return { verdict: 'skip', reason: runs[0]?.reason ?? 'no runs' };
  const bad = tested.filter((r) => r.verdict === 'bad');
  // one run that decides alone says it all: its own reason, no "1 of 1"
  if (tested.length === 1 && rule.badThreshold <= 1) return tested[0]!;
  const counts = `${bad.length} of ${tested.length} runs bad`;
  if (bad.length >= rule.badThreshold) return { verdict: 'bad', reason: `${counts}; first: ${bad[0]!.reason}` };
  return {
    verdict: 'good',
    reason: bad.length
      ? `${counts}, below the threshold of ${rule.badThreshold}`
      : tested.length > 1
        ? `all ${tested.length} runs good`
        : tested[0]!.reason,
  };
}

export const VERDICT_EXIT: Record<Verdict, number> = { good: 0, bad: 1, skip: 125 };
