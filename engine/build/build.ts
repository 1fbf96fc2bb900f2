// `kwb build`: configure a kernel tree (in-tree or O=) with kwb's debugging fragment and the user's, and make the
// bootable kernel incrementally, through ccache when it is installed and on a distcc farm when given one; progress
// as events (with the farm's state), full output in a log.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, spawnGroup } from '../host.js';
import { KwbError } from '../results.js';
import type { CcacheStats } from './ccache.js';
import { configure, DEFAULT_BASE, KWB_FRAGMENT } from './config.js';
import { DistccLog, type DistccStats } from './distcc.js';
import { FarmWatch } from './farm.js';
import { buildsModules, installModules } from './modules.js';
import type { BuildProgress, BuildStage } from './progress.js';
import { readRecord, writeRecord } from './record.js';
import { toolchain, type FarmChoice } from './toolchain.js';

export type BuildArch = 'um' | 'riscv';

export interface BuildOptions extends FarmChoice {
  /** The kernel source tree. */
  source: string;
  /** Where objects and the kernel go (make's O=); the source tree itself by default. */
  out?: string;
  arch: BuildArch;
  /** The make target for a first .config (default defconfig). */
  base?: string;
  /** Extra config lines (a fragment file's lines). */
  fragment?: string[];
  jobs?: number;
  /** Full make output goes here. */
  log: string;
  onProgress?: (p: BuildProgress) => void;
  /** Aborting stops make and everything it started. */
  signal?: AbortSignal;
}

export interface BuildResult {
  ok: boolean;
  kernel: string;
  seconds: number;
  /** Objects this build compiled. */
  objects: number;
  /** What this build added to ccache's counters; undefined without ccache. */
  ccache?: CcacheStats;
  /** Where distcc ran the compiles; undefined without distcc. */
  distcc?: DistccStats;
  /** Config lines asked for that the kernel's dependencies dropped. */
  dropped: string[];
  /** The last lines of output when the build failed. */
  tail?: string;
}

export function kernelOutput(out: string, arch: BuildArch): string {
  return join(out, arch === 'um' ? 'linux' : 'arch/riscv/boot/Image');
}

/** A compile step in make's short output ("  CC      kernel/fork.o", "  CC [M]  fs/x.o", "  AS ..."). */
const OBJECT_STEP = /^\s+(CC|AS)(?:\s+\[M\])?\s+(\S+)/;
/** The start of the final link ("  LD      vmlinux.o"). */
const LINK_STEP = /^\s+LD\s+vmlinux\.o$/;

function runMake(
  args: string[],
  source: string,
  env: NodeJS.ProcessEnv,
  log: NodeJS.WritableStream,
  signal?: AbortSignal,
  onLine?: (line: string) => void,
): Promise<number> {
  return runBuildTool('make', args, source, env, log, signal, onLine);
}

/** Run a build program (make, kunit.py) in `cwd`, its output to `log` and, line by line, to `onLine`; resolves
 *  with its exit status (127: it could not start, 130: aborted before it started). */
export function runBuildTool(
  program: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log: NodeJS.WritableStream,
  signal?: AbortSignal,
  onLine?: (line: string) => void,
): Promise<number> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(130);
    // in a process group of its own, so that an abort stops the compilers it started too
    const child = spawnGroup(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const abort = () => killGroup(child.pid, 'SIGTERM');
    signal?.addEventListener('abort', abort, { once: true });
    child.on('close', () => signal?.removeEventListener('abort', abort));
    let partial = '';
    const feed = (chunk: Buffer) => {
      log.write(chunk);
      if (!onLine) return;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      lines.forEach(onLine);
    };
    child.stdout!.on('data', feed);
    child.stderr!.on('data', feed);
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

function checkTrees(source: string, out: string): void {
  if (!existsSync(join(source, 'Makefile')) || !existsSync(join(source, 'Kconfig')))
    throw new KwbError(`${source} is not a kernel source tree (no Makefile and Kconfig); pass --tree DIR`);
  if (out !== source && existsSync(join(source, '.config')))
    throw new KwbError(
      `${source} is configured for in-tree builds, which an O= build cannot share; run make mrproper there, or build without O=`,
    );
}

export async function buildKernel(o: BuildOptions): Promise<BuildResult> {
  const out = o.out ?? o.source;
  checkTrees(o.source, out);
  const { cross, ccache, distcc, env, jobs } = toolchain(o.source, out, o.arch, o, o.jobs);
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const log = createWriteStream(o.log);
  const args = [
    `ARCH=${o.arch}`,
    ...(cross ? [`CROSS_COMPILE=${cross}`] : []),
    ...(out !== o.source ? [`O=${out}`] : []),
    `-j${jobs}`,
  ];
  const make = (targets: string[], onLine?: (line: string) => void) =>
    runMake([...args, ...targets], o.source, env, log, o.signal, onLine);
  let stage: BuildStage = 'configure';
  let objects = 0;
  let expected: number | undefined;
  let step: string | undefined;
  const farm = new FarmWatch(ccache && { ccache, env }, distcc && new DistccLog(distcc));
  const report = () => o.onProgress?.({ stage, objects, expected, seconds: seconds(), step, ...farm.now() });
  await farm.start(report);
  const finish = async (ok: boolean, dropped: string[] = []): Promise<BuildResult> => {
    await new Promise<void>((r) => log.end(r));
    const tail = ok ? undefined : readFileSync(o.log, 'utf8').split('\n').slice(-15).join('\n');
    const { ccache: ccacheStats, distcc: distccStats } = await farm.stop();
    return {
      ok,
      kernel: kernelOutput(out, o.arch),
      seconds: seconds(),
      objects,
      ccache: ccacheStats,
      distcc: distccStats,
      dropped,
      tail,
    };
  };

  const config = await configure(
    out,
    o.base ?? DEFAULT_BASE,
    [...KWB_FRAGMENT, ...(o.fragment ?? [])],
    (targets) => make(targets),
    (what) => {
      step = what;
      report();
    },
  );
  if (!config.ok) return finish(false);

  // a build that starts with no linked objects compiles the whole tree: as many objects as the last such build
  const fromScratch = !existsSync(join(out, 'vmlinux.o'));
  expected = fromScratch ? readRecord(out)?.objects : undefined;
  stage = 'compile';
  step = undefined;
  report();
  const modules = buildsModules(out);
  const targets = [...(o.arch === 'um' ? ['linux'] : ['Image', 'vmlinux']), ...(modules ? ['modules'] : [])];
  let code = await make([...targets, 'scripts_gdb'], (line) => {
    if (stage === 'compile' && LINK_STEP.test(line)) {
      stage = 'link';
      step = undefined;
      report();
    }
    const object = OBJECT_STEP.exec(line);
    if (!object) return;
    objects++;
    step = `${object[1]} ${object[2]}`;
    report();
  });
  if (code === 0 && fromScratch) writeRecord(out, { objects, seconds: seconds() });
  if (code === 0 && modules) {
    stage = 'install';
    step = undefined;
    report();
    code = await installModules(out, (t) => make(t));
  }
  return finish(code === 0, config.dropped);
}
