// From one guest run to a git-bisect verdict: good, bad or skip, with the reason. The sources, in order: a run
// that could not happen (skip), the kernel's own complaints on its console (panic, oops, BUG, optionally WARN; never
// the command's output),
// a timeout, KTAP results when asked for, and the command's exit status.
import type { GuestResult } from '../results.js';
import { failures, parseKtap } from './ktap.js';

export type Verdict = 'good' | 'bad' | 'skip';

export interface VerdictRules {
  /** A kernel WARNING on the console makes the run bad (default: yes). */
  warnIsBad: boolean;
  /** Judge by KTAP results in the console output instead of the command's status alone. */
  ktap: boolean;
}

export interface RunVerdict {
  verdict: Verdict;
  reason: string;
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
  if (result.kind === 'failed-to-start')
    return { verdict: 'skip', reason: `could not test: ${result.detail ?? 'the guest did not start'}` };
  if (result.kind === 'killed') return { verdict: 'skip', reason: `interrupted: ${result.detail ?? ''}` };
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
    // KUnit prints its KTAP on the kernel console, kselftests on the command's stdout
    const fromConsole = parseKtap(console);
    const report = fromConsole.found ? fromConsole : parseKtap(output.command);
    if (!report.found)
      return {
        verdict: 'skip',
        reason: 'no KTAP output found (is the test built in, or does the command print KTAP?)',
      };
    const failed = failures(report);
    if (failed.length)
      return {
        verdict: 'bad',
        reason: `KTAP: ${failed.length} failed: ${failed.slice(0, 5).join(', ')}${failed.length > 5 ? ', ...' : ''}`,
      };
    if (report.missing)
      return { verdict: 'bad', reason: `KTAP: ${report.missing} planned test(s) never reported (crash mid-run?)` };
  }
  const code = result.code ?? 0;
  if (code === 125) return { verdict: 'skip', reason: 'the command exited 125 (cannot test)' };
  if (code !== 0) return { verdict: 'bad', reason: `the command exited ${code}` };
  return { verdict: 'good', reason: rules.ktap ? 'all KTAP tests passed' : 'the command exited 0' };
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
  const counts = `${bad.length} of ${tested.length} run(s) bad`;
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
