// `kwb bisect`: find the commit that broke a test. Build, boot and test each commit git bisect picks; the tree
// and branch are restored at the end; Ctrl-C leaves a state that --resume continues.
import { resolve } from 'node:path';
import { readFragment } from '../engine/build/config.js';
import { Bisect, loadState, resetBisect, stateDir, type BisectConfig } from '../engine/bisect/bisect.js';
import { Git } from '../engine/bisect/git.js';
import type { Verdict } from '../engine/bisect/verdict.js';
import { findKernelTree } from '../engine/kernel.js';
import { ExitCode, KwbError } from '../engine/results.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';
import { farmFrom, farmOptions } from './farm.js';
import { Progress } from './progress.js';
import { testKernel, testOptions } from './test.js';

const ownOptions: OptionTable = {
  tree: { value: 'DIR', help: 'the kernel git tree (default: the one around the current directory)' },
  good: { value: 'REV', help: 'a commit where the test passes' },
  bad: { value: 'REV', help: 'a commit where the test fails' },
  config: { value: 'FRAGMENT', help: 'extra config lines to merge for every build (as kwb build --config)' },
  arch: { value: 'um|riscv', help: 'the architecture to build (default um)' },
  kunitconfig: {
    value: 'FILE|DIR',
    repeat: true,
    help: 'a KUnit bisect: build each commit with kunit.py and this kunitconfig (in the tree), judge by KTAP',
  },
  ...farmOptions,
  resume: { help: 'continue an interrupted bisect' },
  reset: { help: 'abandon a bisect: restore the branch and forget the state' },
};

export const bisectOptions: OptionTable = {
  ...ownOptions,
  // each step boots the commit's own kernel and keeps its own console log
  ...Object.fromEntries(Object.entries(testOptions).filter(([name]) => !['kernel', 'json', 'log'].includes(name))),
};

/** Default per-step timeout: a hang must not stall the bisect forever. */
const DEFAULT_STEP_TIMEOUT = '300';

/** The `kwb test` arguments for every step: the test options given to bisect, then the command. */
function testArgsFrom(argv: string[]): string[] {
  const dashes = argv.indexOf('--');
  const before = dashes < 0 ? argv : argv.slice(0, dashes);
  const out: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    const name = word.replace(/^--/, '').replace(/=.*$/, '');
    const spec = bisectOptions[name];
    const takesNext = !!spec?.value && !word.includes('=');
    if (!(name in ownOptions)) out.push(word, ...(takesNext ? [before[i + 1]!] : []));
    if (takesNext) i++;
  }
  if (!out.some((w) => w.startsWith('--timeout'))) out.push('--timeout', DEFAULT_STEP_TIMEOUT);
  return [...out, '--', ...(dashes < 0 ? [] : argv.slice(dashes + 1))];
}

export async function bisectCommand(args: ParsedArgs, argv: string[]): Promise<number> {
  const treeArg = one(args, 'tree');
  const tree = treeArg ? resolve(treeArg) : findKernelTree()?.source;
  if (!tree) throw new KwbError('not in a kernel tree; run kwb bisect inside one or pass --tree DIR');
  const say = (line: string) => {
    progress.done();
    process.stderr.write(`kwb bisect: ${line}\n`);
  };
  const progress = new Progress(!args.flags.has('quiet'));

  if (args.flags.has('reset')) {
    const restored = resetBisect(tree);
    say(`bisect reset; the tree is on ${restored}`);
    return ExitCode.ok;
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  const tester = async (kernel: string, log: string) => {
    const outcome = await testKernel(
      ['--kernel', kernel, '--log', log, '--quiet', ...state.config.testArgs],
      () => {},
      'none',
    );
    const seconds = outcome.runs.reduce((sum, r) => sum + r.seconds, 0);
    return { verdict: outcome.verdict.verdict as Verdict, reason: outcome.verdict.reason, seconds };
  };
  const hooks = { say, progress: (line: string) => progress.update(line), test: tester, signal: abort.signal };

  let bisect: Bisect;
  let state: { config: BisectConfig };
  if (args.flags.has('resume')) {
    const saved = loadState(tree);
    if (!saved) throw new KwbError('no kwb bisect to resume in this tree; start one with --good REV --bad REV');
    if (saved.result)
      throw new KwbError(`this bisect already finished (${saved.result.message}); see ${stateDir(tree)}/report.md`);
    state = saved;
    say(`resuming: ${saved.steps.length} step(s) done`);
    bisect = new Bisect(saved, hooks);
  } else {
    const good = one(args, 'good');
    const bad = one(args, 'bad');
    if (!good || !bad) throw new KwbError('needs --good REV and --bad REV (or --resume / --reset)');
    const kunitconfigs = args.options.get('kunitconfig');
    const ktap = args.flags.has('ktap') || !!kunitconfigs;
    if (!args.rest.length && !ktap)
      throw new KwbError(
        'needs the test command after -- (or --ktap for KUnit), e.g. -- sh -c "test $(uname -r) = ..."',
      );
    const arch = one(args, 'arch') ?? 'um';
    if (arch !== 'um' && arch !== 'riscv') throw new KwbError(`--arch ${arch}: use um or riscv`);
    const git = new Git(tree);
    const goodCommit = git.resolve(good);
    const badCommit = git.resolve(bad);
    if (goodCommit === badCommit) throw new KwbError('--good and --bad name the same commit');
    const fragment = readFragment(one(args, 'config'));
    const config: BisectConfig = {
      tree,
      good,
      bad,
      goodCommit,
      badCommit,
      arch,
      fragment,
      ...(kunitconfigs ? { kunitconfigs } : {}),
      ...farmFrom(args),
      testArgs: [...(ktap && !args.flags.has('ktap') ? ['--ktap'] : []), ...testArgsFrom(argv)],
      original: git.branch() ?? git.head(),
    };
    state = { config };
    bisect = Bisect.start(config, hooks);
    say(
      `bisecting ${git.run(['rev-list', '--count', `${goodCommit}..${badCommit}`])} commits between ${good} and ${bad}`,
    );
  }

  try {
    const done = await bisect.run();
    const restored = resetBisect(tree);
    say(done.result!.message);
    say(`report: ${stateDir(tree)}/report.md (and report.json); the tree is back on ${restored}`);
    return done.result!.firstBad ? ExitCode.ok : 1;
  } catch (err) {
    progress.done();
    if (err instanceof KwbError && err.exitCode === ExitCode.interrupted) {
      say(err.message);
      return ExitCode.interrupted;
    }
    // anything else: put the user's tree back before reporting the error
    resetBisect(tree);
    throw err;
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(sig, onSignal);
  }
}
