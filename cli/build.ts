// `kwb build`: make the kernel of a tree (the one here by default) with kwb's debugging config.
import { resolve } from 'node:path';
import { buildKernel, readFragment, type BuildArch } from '../engine/build/build.js';
import { findKernelTree } from '../engine/kernel.js';
import { KwbError } from '../engine/results.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';
import { Progress } from './progress.js';

export const buildOptions: OptionTable = {
  tree: { value: 'DIR', help: 'the kernel source tree (default: the one around the current directory)' },
  arch: { value: 'um|riscv', help: "the architecture (default: the tree's .config, else um)" },
  config: { value: 'FRAGMENT', help: 'extra config lines to merge (a Kconfig fragment file)' },
  jobs: { value: 'N', help: 'parallel jobs (default: the number of CPUs)' },
  log: { value: 'FILE', help: 'full build output (default: TREE/kwb-build.log)' },
  quiet: { help: 'no progress line' },
};

export async function buildCommand(args: ParsedArgs): Promise<number> {
  const treeArg = one(args, 'tree');
  const found = findKernelTree(treeArg ? resolve(treeArg) : undefined);
  const tree = treeArg ? resolve(treeArg) : found?.source;
  if (!tree) throw new KwbError('not in a kernel tree; run kwb build inside one or pass --tree DIR');
  const archArg = one(args, 'arch');
  if (archArg !== undefined && archArg !== 'um' && archArg !== 'riscv')
    throw new KwbError(`--arch ${archArg}: use um or riscv`);
  const arch: BuildArch = (archArg as BuildArch | undefined) ?? (found?.arch === 'riscv' ? 'riscv' : 'um');
  const fragment = readFragment(one(args, 'config'));
  const jobs = one(args, 'jobs') ? Number(one(args, 'jobs')) : undefined;
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0))
    throw new KwbError('--jobs N: give a positive whole number');
  const log = resolve(one(args, 'log') ?? `${tree}/kwb-build.log`);
  const progress = new Progress(!args.flags.has('quiet'));
  const result = await buildKernel({
    tree,
    arch,
    fragment,
    jobs,
    log,
    progress: (line) => progress.update(`building ${arch}: ${line}`),
  });
  progress.done();
  if (!result.ok) {
    process.stderr.write(
      `${result.tail ?? ''}\nkwb: build failed after ${result.seconds.toFixed(0)}s; full log: ${log}\n`,
    );
    return 1;
  }
  process.stderr.write(`kwb: built ${result.kernel} in ${result.seconds.toFixed(0)}s\n`);
  return 0;
}
