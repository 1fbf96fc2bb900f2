// `kwb kunit`: KUnit as kernel developers run it. kunit.py configures and builds (its kunitconfig conventions, kwb's
// debug options added), kwb boots the kernel on its own engine with kunit.filter_glob and judges the KTAP as
// `kwb test --ktap` does; with --gdb, gdb in this terminal stops at the first failing expectation with the failing
// test's frame selected.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatSeconds } from '../engine/build/progress.js';
import { defaultLog } from '../engine/build/record.js';
import type { Guest } from '../engine/guest.js';
import { findTreeDir, gdbArgs } from '../engine/kernel.js';
import { DEFAULT_BUILD_DIR, kunitBuild } from '../engine/kunit/build.js';
import { FAILED_ASSERTION, kunitGdbScript } from '../engine/kunit/debug.js';
import { KwbError } from '../engine/results.js';
import { bootOptionTable, one, type OptionTable, type ParsedArgs } from './args.js';
import { formatKtap } from './ktap-print.js';
import { outcomeJson, testWith, type TestOutcome } from './test.js';
import { VERDICT_EXIT } from '../engine/bisect/verdict.js';

export const kunitOptions: OptionTable = {
  kunitconfig: {
    value: 'FILE|DIR',
    repeat: true,
    help: "the kunitconfig (a DIR means DIR/.kunitconfig; default: BUILD_DIR/.kunitconfig, kunit.py's default)",
  },
  filter: { value: 'GLOB', help: 'run only SUITE_GLOB[.TEST_GLOB] (kunit.filter_glob; also the FILTER_GLOB word)' },
  tree: { value: 'DIR', help: 'the kernel source tree (default: the one around the current directory)' },
  'build-dir': { value: 'DIR', help: `kunit.py's --build_dir (default: ${DEFAULT_BUILD_DIR} in the source tree)` },
  arch: { value: 'um|riscv', choices: ['um', 'riscv'], help: 'the architecture (default um)' },
  'kconfig-add': { value: 'CONFIG_X=y', repeat: true, help: 'one more config line (kunit.py --kconfig_add)' },
  jobs: { value: 'N', help: 'parallel build jobs (default: the number of CPUs)' },
  'no-build': { help: 'boot the kernel already built in the build directory' },
  gdb: {
    value: '[HOST:]PORT',
    help: "debug: gdb here, stopped at the first failing expectation in the failing test's frame (stub on PORT)",
  },
  ...bootOptionTable(['kernel', 'engine', 'rootfs', 'disk', 'share', 'initrd', 'bios', 'gdb', 'wait-gdb']),
  runs: { value: 'N', help: 'boot and test N times (flaky tests)' },
};

/** The positional FILTER_GLOB (kunit.py's syntax) is --filter GLOB. */
export function filterWord(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return [...out, ...argv.slice(i)];
    if (word.startsWith('--')) {
      out.push(word);
      const spec = kunitOptions[word.slice(2)];
      if (spec?.value && i + 1 < argv.length) out.push(argv[++i]!);
    } else if (word.startsWith('-')) out.push(word);
    else out.push('--filter', word);
  }
  return out;
}

/** Default test timeout: kunit.py's. */
const DEFAULT_TIMEOUT = '300';

export async function kunitCommand(args: ParsedArgs): Promise<number> {
  if (args.rest.length) throw new KwbError('takes no guest command; give the tests as FILTER_GLOB');
  const treeArg = one(args, 'tree');
  const found = findTreeDir(treeArg ? resolve(treeArg) : undefined);
  if (!found) throw new KwbError('not in a kernel tree; run kwb kunit inside one or pass --tree DIR');
  const source = found.source;
  const buildDir = resolve(source, one(args, 'build-dir') ?? DEFAULT_BUILD_DIR);
  const arch = (one(args, 'arch') ?? 'um') as 'um' | 'riscv';
  const jobs = one(args, 'jobs') ? Number(one(args, 'jobs')) : undefined;
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0))
    throw new KwbError('--jobs N: give a positive whole number');
  const json = args.flags.has('json');
  const quiet = args.flags.has('quiet');
  const say = (line: string) => !quiet && process.stderr.write(`kwb kunit: ${line}\n`);

  let kernel: string;
  if (args.flags.has('no-build')) {
    kernel = join(buildDir, arch === 'um' ? 'linux' : 'arch/riscv/boot/Image');
  } else {
    const log = defaultLog(buildDir);
    say(`kunit.py build in ${buildDir} (log: ${log})`);
    const built = await kunitBuild({
      source,
      buildDir,
      arch,
      kunitconfigs: args.options.get('kunitconfig') ?? [],
      kconfigAdd: args.options.get('kconfig-add') ?? [],
      jobs,
      log,
      onStep: (line) => say(line.replace(/^\[[\d:]+\] /, '')),
    });
    if (!built.ok) {
      process.stderr.write(`${built.tail ?? ''}\n`);
      throw new KwbError(`kunit.py build failed after ${formatSeconds(built.seconds)}; full log: ${log}`, 1);
    }
    say(`built ${built.kernel} in ${formatSeconds(built.seconds)}`);
    kernel = built.kernel;
  }

  // the test run: kwb test --ktap on that kernel, its console in BUILD_DIR/test.log as kunit.py keeps it
  args.options.set('kernel', [kernel]);
  args.flags.add('ktap');
  const filter = one(args, 'filter');
  if (filter) args.options.set('append', [...(args.options.get('append') ?? []), `kunit.filter_glob=${filter}`]);
  if (!args.options.has('timeout')) args.options.set('timeout', [DEFAULT_TIMEOUT]);
  if (!args.options.has('log')) args.options.set('log', [join(buildDir, 'test.log')]);
  const gdb = one(args, 'gdb');
  const outcome = gdb ? await debugRun(args, gdb, say) : await testWith(args, say, 'none');
  report(outcome, json);
  return VERDICT_EXIT[outcome.verdict.verdict];
}

function report(outcome: TestOutcome, json: boolean): void {
  if (json) process.stdout.write(outcomeJson(outcome) + '\n');
  else if (outcome.ktap) process.stdout.write(formatKtap(outcome.ktap).join('\n') + '\n');
  process.stderr.write(`kwb kunit: ${outcome.verdict.verdict}: ${outcome.verdict.reason}\n`);
}

/** Boot held for gdb, and run gdb in this terminal with a breakpoint on KUnit's failed-assertion path that selects
 *  the failing test's frame; the run ends when gdb does (or when the kernel does: gdb then stays at its prompt). */
async function debugRun(args: ParsedArgs, address: string, say: (line: string) => void): Promise<TestOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-kunit-gdb-'));
  let gdbDone: Promise<void> | undefined;
  try {
    const script = join(dir, 'kunit.gdb');
    writeFileSync(script, kunitGdbScript());
    const onStart = (guest: Guest, port: number) => {
      say(`gdb stops at the first failing expectation (${FAILED_ASSERTION}), in the failing test's frame`);
      const child = spawn(
        guest.kernel.gdb,
        ['-q', ...gdbArgs(guest.kernel), '-ex', `target remote 127.0.0.1:${port}`, '-x', script],
        { stdio: 'inherit' },
      );
      gdbDone = new Promise((done) => {
        child.on('error', (err) => {
          process.stderr.write(`kwb kunit: cannot run ${guest.kernel.gdb}: ${err.message}\n`);
          void guest.stop('gdb could not start');
          done();
        });
        child.on('exit', () => {
          void guest.stop('gdb quit');
          done();
        });
      });
    };
    // gdb owns the terminal: Ctrl-C is for it
    const ignore = () => {};
    process.on('SIGINT', ignore);
    try {
      const outcome = await testWith(args, say, 'none', { gdb: address, onStart });
      await gdbDone;
      return outcome;
    } finally {
      process.removeListener('SIGINT', ignore);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
