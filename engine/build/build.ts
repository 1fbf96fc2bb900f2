// `kwb build`: configure a kernel tree with kwb's debugging fragment (and the user's) and make the bootable
// kernel, incrementally, with a progress line on a TTY and the full output in a log file.
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { killGroup, spawnGroup } from '../host.js';
import { KwbError } from '../results.js';

export type BuildArch = 'um' | 'riscv';

/** What every kwb kernel gets: DWARF for gdb, the kernel's gdb scripts, frame pointers for backtraces. */
export const KWB_FRAGMENT = [
  'CONFIG_DEBUG_KERNEL=y',
  'CONFIG_DEBUG_INFO_DWARF5=y',
  'CONFIG_GDB_SCRIPTS=y',
  'CONFIG_FRAME_POINTER=y',
];

export interface BuildOptions {
  tree: string;
  arch: BuildArch;
  /** Extra config lines (a fragment file's lines). */
  fragment?: string[];
  jobs?: number;
  /** Full make output goes here. */
  log: string;
  /** Called with a short status line while building (files compiled so far). */
  progress?: (line: string) => void;
  /** Aborting stops make and everything it started. */
  signal?: AbortSignal;
}

export interface BuildResult {
  ok: boolean;
  kernel: string;
  seconds: number;
  /** The last lines of output when the build failed. */
  tail?: string;
}

export function kernelOutput(tree: string, arch: BuildArch): string {
  return join(tree, arch === 'um' ? 'linux' : 'arch/riscv/boot/Image');
}

function makeArgs(arch: BuildArch, jobs: number): string[] {
  return [`ARCH=${arch}`, ...(arch === 'riscv' ? ['CROSS_COMPILE=riscv64-linux-gnu-'] : []), `-j${jobs}`];
}

/** The config lines of a Kconfig fragment file (`CONFIG_X=y` and `# CONFIG_X is not set`); none without a file. */
export function readFragment(file: string | undefined): string[] {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new KwbError(`cannot read config fragment ${file}`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(isConfigLine);
}

function isConfigLine(line: string): boolean {
  return line !== '' && (!line.startsWith('#') || / is not set$/.test(line));
}

/** Lines of `fragment` that .config does not have yet (`# CONFIG_X is not set` counts as a line). */
export function missingConfig(config: string, fragment: string[]): string[] {
  const have = new Set(config.split('\n'));
  return fragment.filter((line) => isConfigLine(line.trim()) && !have.has(line));
}

function run(
  args: string[],
  tree: string,
  log: NodeJS.WritableStream,
  signal?: AbortSignal,
  onLine?: (line: string) => void,
): Promise<number> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(130);
    // make in a process group of its own, so that an abort stops the compilers it started too
    const child = spawnGroup('make', args, { cwd: tree, stdio: ['ignore', 'pipe', 'pipe'] });
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

export async function buildKernel(o: BuildOptions): Promise<BuildResult> {
  if (!existsSync(join(o.tree, 'Makefile')) || !existsSync(join(o.tree, 'Kconfig'))) {
    throw new KwbError(`${o.tree} is not a kernel source tree (no Makefile and Kconfig); pass --tree DIR`);
  }
  const t0 = performance.now();
  const jobs = o.jobs ?? cpus().length;
  const log = createWriteStream(o.log);
  const args = makeArgs(o.arch, jobs);
  const fragment = [...KWB_FRAGMENT, ...(o.fragment ?? [])];
  const configPath = join(o.tree, '.config');
  const finish = async (ok: boolean): Promise<BuildResult> => {
    await new Promise<void>((r) => log.end(r));
    const tail = ok ? undefined : readFileSync(o.log, 'utf8').split('\n').slice(-15).join('\n');
    return { ok, kernel: kernelOutput(o.tree, o.arch), seconds: (performance.now() - t0) / 1000, tail };
  };
  if (!existsSync(configPath)) {
    o.progress?.(`configuring ${o.arch} defconfig + kwb's debug fragment`);
    if ((await run([...args, 'defconfig'], o.tree, log, o.signal)) !== 0) return finish(false);
  }
  const missing = missingConfig(readFileSync(configPath, 'utf8'), fragment);
  if (missing.length) {
    // append and let olddefconfig resolve dependencies; only when something is missing, so builds stay incremental
    writeFileSync(configPath, readFileSync(configPath, 'utf8') + missing.join('\n') + '\n');
    if ((await run([...args, 'olddefconfig'], o.tree, log, o.signal)) !== 0) return finish(false);
  }
  let compiled = 0;
  const targets = o.arch === 'um' ? ['linux'] : ['Image', 'vmlinux'];
  const code = await run([...args, ...targets, 'scripts_gdb'], o.tree, log, o.signal, (line) => {
    const step = /^\s+(CC|LD|AR|AS|LINK|OBJCOPY|GEN)\s+(\S+)/.exec(line);
    if (step && o.progress) o.progress(`${++compiled} steps, ${step[1]} ${step[2]}`);
  });
  return finish(code === 0);
}
