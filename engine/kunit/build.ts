// Configure and build a KUnit kernel the kernel's own way: tools/testing/kunit/kunit.py build, with its
// kunitconfig conventions (a FILE, or a DIR holding .kunitconfig; by default BUILD_DIR/.kunitconfig, made from
// kunit.py's default config), plus kwb's debug options as --kconfig_add lines, so that the kernel can be debugged
// without a second build. ccache, distcc and the fixed build stamps are kwb build's (engine/build/toolchain.ts).
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { kernelOutput, runBuildTool, type BuildArch } from '../build/build.js';
import { KWB_FRAGMENT } from '../build/config.js';
import { CROSS, toolchain, type FarmChoice } from '../build/toolchain.js';
import { KwbError } from '../results.js';

export const KUNIT_PY = 'tools/testing/kunit/kunit.py';
/** kunit.py's own default build directory. */
export const DEFAULT_BUILD_DIR = '.kunit';

export interface KunitBuildOptions extends FarmChoice {
  source: string;
  buildDir: string;
  arch: BuildArch;
  /** --kunitconfig paths (files or directories, relative to the source tree); none: BUILD_DIR/.kunitconfig. */
  kunitconfigs: string[];
  /** Config lines beyond kwb's debug fragment. */
  kconfigAdd: string[];
  jobs?: number;
  log: string;
  /** kunit.py's own progress lines ("[12:00:00] Building KUnit Kernel ..."). */
  onStep?: (line: string) => void;
  signal?: AbortSignal;
}

export interface KunitBuildResult {
  ok: boolean;
  kernel: string;
  seconds: number;
  /** The last lines of the log when the build failed. */
  tail?: string;
}

/** kunit.py's arguments for `build` (pure: unit-tested). */
export function kunitBuildArgs(o: Omit<KunitBuildOptions, 'log' | 'source'>): string[] {
  const cross = CROSS[o.arch];
  return [
    'build',
    '--build_dir',
    o.buildDir,
    ...o.kunitconfigs.flatMap((k) => ['--kunitconfig', k]),
    ...[...KWB_FRAGMENT, ...o.kconfigAdd].flatMap((line) => ['--kconfig_add', line]),
    '--arch',
    o.arch,
    ...(cross ? ['--cross_compile', cross] : []),
    '--jobs',
    String(o.jobs ?? cpus().length),
  ];
}

const STEP = /^\[\d\d:\d\d:\d\d\] /;

export async function kunitBuild(o: KunitBuildOptions): Promise<KunitBuildResult> {
  const script = join(o.source, KUNIT_PY);
  if (!existsSync(script)) throw new KwbError(`${o.source} has no ${KUNIT_PY}; KUnit needs Linux 5.5 or newer`);
  // relative to the source tree, as kunit.py takes them (it runs from the tree's top)
  const kunitconfigs = o.kunitconfigs.map((k) => resolve(o.source, k));
  for (const [i, k] of kunitconfigs.entries()) {
    const file = existsSync(join(k, '.kunitconfig')) ? join(k, '.kunitconfig') : k;
    if (!existsSync(file))
      throw new KwbError(`--kunitconfig ${o.kunitconfigs[i]}: no such file, nor a directory with .kunitconfig`);
  }
  const { env, jobs } = toolchain(o.source, o.buildDir, o.arch, o, o.jobs);
  const t0 = performance.now();
  const log = createWriteStream(o.log);
  const args = kunitBuildArgs({ ...o, kunitconfigs, jobs });
  const code = await runBuildTool('python3', [script, ...args], o.source, env, log, o.signal, (line) => {
    if (STEP.test(line)) o.onStep?.(line);
  });
  await new Promise<void>((r) => log.end(r));
  const kernel = kernelOutput(o.buildDir, o.arch);
  // kunit.py exits 0 without building when its QEMU config cannot be used: the kernel must be there
  const ok = code === 0 && existsSync(kernel);
  const tail = ok ? undefined : readFileSync(o.log, 'utf8').split('\n').slice(-15).join('\n');
  return { ok, kernel, seconds: (performance.now() - t0) / 1000, tail };
}
