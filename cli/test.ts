// `kwb test`: boot, run a command, and give a verdict with `git bisect run`'s exit codes: 0 good, 1 bad, 125 skip.
// Anything that stops kwb from testing (a missing kernel, a bad option) is also 125: a bisect must not call a
// commit bad because the test could not run.
import {
  combineRuns,
  judgeRun,
  VERDICT_EXIT,
  type KtapResults,
  type RunVerdict,
  type VerdictRules,
} from '../engine/bisect/verdict.js';
import type { BootOptions, Guest } from '../engine/guest.js';
import { kernelInfo } from '../engine/kernel.js';
import { casesRun, kunitSuites } from '../engine/kunit/suites.js';
import { KwbError } from '../engine/results.js';
import { bootOptionTable, one, parseArgs, type OptionTable, type ParsedArgs } from './args.js';
import { bootOptionsFrom, describeResult, runGuest } from './boot.js';
import { formatKtap } from './ktap-print.js';

export const testOptions: OptionTable = {
  ...bootOptionTable(['gdb', 'wait-gdb', 'json']),
  ktap: {
    help:
      'judge by the KTAP/KUnit results (any failed test is bad, a crash before the plan is complete too; none ' +
      'found is skip); passes kunit_shutdown=halt, and needs no command for a KUnit kernel',
  },
  runs: { value: 'N', help: 'boot and test N times (flaky tests); see --bad-threshold' },
  'bad-threshold': { value: 'K', help: 'bad when at least K of the runs are bad (default 1: any bad run)' },
  'warn-ok': { help: 'a kernel WARNING on the console does not make a run bad' },
  json: { help: 'print the verdict, every run and timings as JSON on stdout' },
};

function positive(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new KwbError(`${what} ${text}: give a whole number of at least 1`);
  return n;
}

export interface TestOutcome {
  verdict: RunVerdict;
  runs: (RunVerdict & { seconds: number })[];
  /** With --ktap: the KTAP results of the run the verdict names (the first bad one, else the last). */
  ktap?: KtapResults;
}

/** KUnit runs its built-in tests at boot and, with kunit_shutdown=halt (as kunit.py boots it), stops the kernel
 *  when they are done: no root and no command are needed. Without a command, UML's guest gets a no-op one (a kernel
 *  without KUnit then ends at once, with no KTAP: skip); rv64 boots with no root at all (stopsBeforeRoot). */
function kunitBoot(opts: BootOptions): void {
  if (!opts.append?.some((a) => a.startsWith('kunit_shutdown=')))
    opts.append = [...(opts.append ?? []), 'kunit_shutdown=halt'];
  const engine = opts.engine ?? kernelInfo(opts.kernel).engine;
  if (!opts.command && engine === 'uml') opts.command = ['true'];
}

/** Names the case a crash or hang happened in, from the kernel's suite tables (read once, only when needed). */
function caseNamer(opts: BootOptions): (suite: string, number: number) => string | undefined {
  let suites: Map<string, string[]> | undefined;
  const filter = opts.append?.find((a) => a.startsWith('kunit.filter_glob='))?.slice('kunit.filter_glob='.length);
  return (suite, number) => {
    suites ??= kunitSuites(kernelInfo(opts.kernel));
    const cases = suites.get(suite);
    return cases && casesRun(cases, suite, filter)[number - 1];
  };
}

/** Boot and judge `runs` times; used by `kwb test` and by each bisect step. */
export async function testKernel(
  argv: string[],
  say: (line: string) => void,
  consoleTo: 'stdout' | 'stderr' | 'none',
): Promise<TestOutcome> {
  return testWith(parseArgs(argv, testOptions), say, consoleTo);
}

/** A debugger for a test run (kwb kunit --gdb): the stub's address, and what to start once it listens. */
export interface TestDebug {
  gdb: string;
  onStart: (guest: Guest, port: number) => void;
}

/** `kwb test` on parsed arguments (kwb kunit passes its own, with --ktap and --kernel set). */
export async function testWith(
  args: ParsedArgs,
  say: (line: string) => void,
  consoleTo: 'stdout' | 'stderr' | 'none',
  debug?: TestDebug,
): Promise<TestOutcome> {
  const ktap = args.flags.has('ktap');
  if (!args.rest.length && !ktap)
    throw new KwbError('needs a guest command after -- (or --ktap for a KUnit kernel), e.g. kwb test -- ./my-test.sh');
  const runs = positive(one(args, 'runs'), '--runs', 1);
  const badThreshold = positive(one(args, 'bad-threshold'), '--bad-threshold', 1);
  if (badThreshold > runs) throw new KwbError(`--bad-threshold ${badThreshold} is more than --runs ${runs}`);
  const quiet = args.flags.has('quiet');
  const opts = bootOptionsFrom(args, args.rest.length ? args.rest : undefined, (s) => !quiet && say(s));
  if (ktap) kunitBoot(opts);
  if (debug) opts.debug = { wait: true };
  const rules: VerdictRules = {
    warnIsBad: !args.flags.has('warn-ok'),
    ktap,
    caseName: ktap ? caseNamer(opts) : undefined,
  };
  // WARN splats are KERN_WARNING, KUnit's KTAP lines KERN_INFO: show the console levels the verdict reads
  opts.kernelLog = rules.ktap ? 'info' : 'warnings';
  const results: (RunVerdict & { seconds: number })[] = [];
  for (let i = 1; i <= runs; i++) {
    const seen = { console: '', command: '' };
    const { result, timings } = await runGuest(opts, {
      interactive: false,
      consoleTo,
      runMode: true,
      note: say,
      capture: (chunk, from) => (seen[from] += chunk.toString()),
      gdb: debug?.gdb,
      onStart: debug && ((guest, port) => debug.onStart(guest, port!)),
      debuggerHere: !!debug,
    });
    const verdict = judgeRun(result, seen, rules);
    // a complete KTAP plan decides alone: how the guest ended after it (KUnit halts before any command) is no news
    const message = verdict.ktap && !verdict.ktap.running ? undefined : describeResult(result);
    if (message && !quiet) say(message.replace(/^kwb: /, ''));
    results.push({ ...verdict, seconds: timings.totalMs / 1000 });
    if (runs > 1 && !quiet) say(`run ${i}/${runs}: ${verdict.verdict} (${verdict.reason})`);
  }
  const verdict = combineRuns(results, { badThreshold });
  const named =
    results.find((r) => r.verdict === verdict.verdict && r.ktap) ?? [...results].reverse().find((r) => r.ktap);
  return { verdict, runs: results, ktap: named?.ktap };
}

/** The outcome as --json prints it. */
export function outcomeJson(outcome: TestOutcome): string {
  return JSON.stringify({
    verdict: outcome.verdict.verdict,
    reason: outcome.verdict.reason,
    exitCode: VERDICT_EXIT[outcome.verdict.verdict],
    ...(outcome.ktap ? { ktap: outcome.ktap } : {}),
    runs: outcome.runs,
  });
}

export async function testCommand(argv: string[]): Promise<number> {
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined).includes('--json');
  const say = (line: string) => process.stderr.write(`kwb test: ${line}\n`);
  try {
    const outcome = await testKernel(argv, say, json ? 'stderr' : 'stdout');
    if (outcome.ktap) for (const line of formatKtap(outcome.ktap)) process.stderr.write(`${line}\n`);
    say(`${outcome.verdict.verdict}: ${outcome.verdict.reason}`);
    if (json) process.stdout.write(outcomeJson(outcome) + '\n');
    return VERDICT_EXIT[outcome.verdict.verdict];
  } catch (err) {
    if (!(err instanceof KwbError)) throw err;
    say(`skip: cannot test: ${err.message}`);
    return VERDICT_EXIT.skip;
  }
}
