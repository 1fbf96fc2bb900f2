// `kwb build`: make the kernel of a tree (the one here by default) with kwb's debugging config.
import { resolve } from 'node:path';
import { buildKernel, type BuildArch, type BuildOptions, type BuildResult } from '../engine/build/build.js';
import { hitRate } from '../engine/build/ccache.js';
import { checkBase, readFragment } from '../engine/build/config.js';
import type { DistccStats } from '../engine/build/distcc.js';
import { describeProgress, formatSeconds, type BuildStage } from '../engine/build/progress.js';
import { defaultLog } from '../engine/build/record.js';
import { findKernelTree, findTreeDir } from '../engine/kernel.js';
import { KwbError } from '../engine/results.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';
import { farmFrom, farmOptions } from './farm.js';
import { Progress } from './progress.js';

export const buildOptions: OptionTable = {
  tree: { value: 'DIR', help: 'the kernel source tree (default: the one around the current directory)' },
  out: { value: 'DIR', help: "build out of tree, as make's O=DIR (also: kwb build O=DIR, or KBUILD_OUTPUT)" },
  arch: { value: 'um|riscv', help: "the architecture (default: the tree's .config, else um)" },
  base: { value: 'TARGET', help: 'the config target for a tree with no .config (default defconfig; e.g. tinyconfig)' },
  config: { value: 'FRAGMENT', help: "extra config lines to merge with kwb's debug fragment (a Kconfig fragment)" },
  jobs: { value: 'N', help: 'parallel jobs (default: the number of CPUs; with distcc, what its hosts take)' },
  log: { value: 'FILE', help: "full build output (default: in kwb's cache, ~/.cache/kwb/builds/)" },
  ...farmOptions,
  stats: { help: 'print objects compiled, the ccache hit rate and where distcc compiled, at the end' },
  quiet: { help: 'no progress' },
};

/** `O=DIR` as make takes it is `--out DIR` (before any `--`). */
export function makeStyleArgs(argv: string[]): string[] {
  const dashes = argv.indexOf('--');
  const end = dashes < 0 ? argv.length : dashes;
  return argv.flatMap((w, i) => (i < end && w.startsWith('O=') ? ['--out', w.slice(2)] : [w]));
}

/** The source tree and output directory: from --tree/--out/O=, else the tree (or O= directory) around here;
 *  `hint` says what to do when there is none. */
export function locate(
  treeArg: string | undefined,
  outArg: string | undefined,
  hint = 'run kwb build inside one or pass --tree DIR',
): { source: string; out: string } {
  const found = findTreeDir(treeArg ? resolve(treeArg) : undefined);
  if (!found) throw new KwbError(`not in a kernel tree; ${hint}`);
  if (treeArg && found.dir !== resolve(treeArg))
    throw new KwbError(`${resolve(treeArg)} is not a kernel source tree (no Makefile and Kconfig)`);
  const out = outArg ?? process.env.KBUILD_OUTPUT;
  return { source: found.source, out: out ? resolve(out) : found.dir };
}

export function archOf(archArg: string | undefined, out: string): BuildArch {
  if (archArg !== undefined && archArg !== 'um' && archArg !== 'riscv')
    throw new KwbError(`--arch ${archArg}: use um or riscv`);
  if (archArg) return archArg;
  return findKernelTree(out)?.arch === 'riscv' ? 'riscv' : 'um';
}

const STAGE_LINE: Record<BuildStage, string> = {
  configure: 'configuring',
  compile: 'compiling',
  link: 'linking',
  install: "installing modules (for the guest's /lib/modules)",
};

export function ccacheLine(r: BuildResult): string {
  if (!r.ccache) return 'ccache: not used';
  const rate = hitRate(r.ccache);
  const percent = rate === undefined ? 'no cacheable compiles' : `${Math.round(rate * 100)}% hit rate`;
  return `ccache: ${r.ccache.hits} hits, ${r.ccache.misses} misses (${percent})`;
}

/** "distcc: 2 host(s) taking 16 compiles at once (a b); compiles: a 412, b 398; b failed 3 times (sent elsewhere)" */
export function distccLine(d: DistccStats | undefined): string {
  if (!d) return 'distcc: not used';
  const counts = Object.entries(d.compiles).map(([host, n]) => `${host} ${n}`);
  const where = counts.length ? `compiles: ${counts.join(', ')}` : 'no compiles reached distcc';
  const failures = Object.entries(d.failures).map(([host, n]) => `; ${host} failed ${n} time(s)`);
  const here = d.fallbacks ? ` (${d.fallbacks} compiled here when no host took them)` : '';
  const farm = `${d.hosts.length} host(s) taking ${d.jobs} compiles at once (${d.hosts.join(' ')})`;
  return `distcc: ${farm}; ${where}${failures.join('')}${here}`;
}

function statsLines(r: BuildResult): string[] {
  return [`objects compiled: ${r.objects}`, `time: ${formatSeconds(r.seconds)}`, ccacheLine(r), distccLine(r.distcc)];
}

/** Build, showing its stages and status line as kwb build does (`who` starts the lines), and warn of config lines
 *  that did not stick. */
export async function buildShowingProgress(
  o: Omit<BuildOptions, 'onProgress'>,
  progress: Progress,
  who: string,
): Promise<BuildResult> {
  let stage: BuildStage | undefined;
  const result = await buildKernel({
    ...o,
    onProgress: (p) => {
      if (p.stage !== stage) {
        stage = p.stage;
        const known = p.expected ? ` (${p.expected} objects last time)` : '';
        progress.stage(`${who}: ${p.stage === 'configure' && p.step ? p.step : STAGE_LINE[p.stage]}${known}`);
      }
      progress.update(`building ${o.arch}: ${describeProgress(p)}`);
    },
  });
  progress.done();
  for (const line of result.dropped)
    process.stderr.write(`kwb: warning: '${line}' did not stick in .config (unmet dependencies)\n`);
  return result;
}

export async function buildCommand(args: ParsedArgs): Promise<number> {
  const { source, out } = locate(one(args, 'tree'), one(args, 'out'));
  const arch = archOf(one(args, 'arch'), out);
  const baseArg = one(args, 'base');
  const base = baseArg === undefined ? undefined : checkBase(baseArg);
  const fragment = readFragment(one(args, 'config'));
  const jobs = one(args, 'jobs') ? Number(one(args, 'jobs')) : undefined;
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0))
    throw new KwbError('--jobs N: give a positive whole number');
  const log = resolve(one(args, 'log') ?? defaultLog(out));
  const progress = new Progress(!args.flags.has('quiet'));
  const result = await buildShowingProgress(
    { source, out, arch, base, fragment, jobs, log, ...farmFrom(args) },
    progress,
    'kwb build',
  );
  if (args.flags.has('stats')) process.stderr.write(statsLines(result).join('\n') + '\n');
  if (!result.ok) {
    process.stderr.write(
      `${result.tail ?? ''}\nkwb: build failed after ${formatSeconds(result.seconds)}; full log: ${log}\n`,
    );
    return 1;
  }
  process.stderr.write(`kwb: built ${result.kernel} in ${formatSeconds(result.seconds)} (log: ${log})\n`);
  return 0;
}
