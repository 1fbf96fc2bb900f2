// Debian roots made by Debian's own mmdebstrap: an ext2 image per suite and package set, built once into kwb's
// cache (atomically: a failed or interrupted build leaves nothing there) and booted behind a copy-on-write overlay,
// so that no guest ever changes it. mmdebstrap runs in its unshare mode, which needs no root: an ordinary user with
// subordinate ids (/etc/subuid, /etc/subgid; Debian's adduser gives every new user a range) builds the same image.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheDir, cacheKey } from '../cache.js';
import { killGroup, makeTempDir, removeTempDir, spawnGroup, sweepDeadDirs } from '../host.js';
import { ExitCode, KwbError } from '../results.js';
import { findOnPath } from '../which.js';
import { hostCodename, hostMirror } from './mirror.js';

export interface DebianRootSpec {
  suite: string;
  /** Packages beyond the minbase variant (Essential and apt). */
  packages: string[];
}

export const DEFAULT_SUITE = 'bookworm';
/** The `--rootfs` value that names the default Debian root (a directory called so is given as ./debian). */
export const DEBIAN_ROOT = 'debian';

/** What `--rootfs debian` boots: enough to build and run kernel selftests and the usual tools of a kernel developer. */
export const DEFAULT_PACKAGES = [
  'bash',
  'make',
  'gcc',
  'libc6-dev',
  'python3',
  'kmod',
  'iproute2',
  'procps',
  'strace',
  'util-linux',
  'less',
  'file',
];

/** How kwb asks mmdebstrap for a root; part of the cache key, so changing it builds the roots again. */
const RECIPE = [
  '--mode=unshare',
  '--variant=minbase',
  '--format=ext2',
  // a guest has no use for documentation: a smaller image builds and boots faster
  '--dpkgopt=path-exclude=/usr/share/man/*',
  '--dpkgopt=path-exclude=/usr/share/doc/*',
  '--dpkgopt=path-exclude=/usr/share/locale/*',
  '--dpkgopt=path-exclude=/usr/share/info/*',
];
/** Free space the guest gets on top of what the packages use (writes go to the overlay, but need room). */
const FREE_BYTES = 1 << 30;
const IMAGE = 'root.ext2';
const INFO = 'info.json';

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const SUITE_NAME = /^[a-z][a-z0-9-]*$/;

/** A spec with its packages checked, sorted and unique (the same set is the same root). */
export function debianSpec(suite: string, packages: string[]): DebianRootSpec {
  if (!SUITE_NAME.test(suite)) throw new KwbError(`--suite ${suite}: give a Debian suite name such as bookworm`);
  for (const p of packages)
    if (!PACKAGE_NAME.test(p)) throw new KwbError(`--packages: '${p}' is not a Debian package name`);
  return { suite, packages: [...new Set(packages)].sort() };
}

export const DEFAULT_SPEC = debianSpec(DEFAULT_SUITE, DEFAULT_PACKAGES);

/** The cache directory of a root: its suite and a key of everything that decides its content. */
export function debianRootDir(spec: DebianRootSpec): string {
  return cacheDir('rootfs', `${spec.suite}-${cacheKey(JSON.stringify([spec, RECIPE, FREE_BYTES]))}`);
}

/** The cached image of a root, if it was built. */
export function cachedDebianImage(spec: DebianRootSpec): string | undefined {
  const image = join(debianRootDir(spec), IMAGE);
  return existsSync(image) ? image : undefined;
}

/** mmdebstrap's reason for failing, in one line: its (or apt's) first error. */
export function failureReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const error = lines.find((l) => l.startsWith('E: ')) ?? lines.filter(Boolean).pop() ?? 'no output';
  return error.replace(/^E:\s*/, '');
}

/** A stage line of mmdebstrap's ("I: downloading packages with apt..."), without the prefix and the dots. */
export function stageOf(line: string): string | undefined {
  const m = /^I: ([a-z][^:]*?)\.\.\.$/.exec(line.trim());
  return m?.[1];
}

function checkTools(): void {
  if (!findOnPath('mmdebstrap'))
    throw new KwbError(
      "mmdebstrap is missing: kwb builds Debian roots with it (run kwb's scripts/setup.sh, or apt-get install mmdebstrap uidmap genext2fs)",
      ExitCode.couldNotTest,
    );
  if (process.getuid?.() === 0) return;
  // unshare mode maps the root's users to the caller's subordinate ids
  const user = userInfo().username;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // missing: same as no range
    }
    if (!text.split('\n').some((l) => l.split(':')[0] === user || l.split(':')[0] === String(process.getuid?.())))
      throw new KwbError(
        `${file} gives ${user} no subordinate ids, which mmdebstrap's unshare mode needs to build a root without root; as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`,
        ExitCode.couldNotTest,
      );
  }
}

/** Give an image made to fit its files room to write (a sparse file: the space costs nothing until used). */
function growImage(image: string): void {
  const size = statSync(image).size + FREE_BYTES;
  for (const [tool, args] of [
    ['e2fsck', ['-fp', image]],
    ['resize2fs', ['-f', image, `${Math.ceil(size / 1024)}K`]],
  ] as const) {
    const r = spawnSync(`/sbin/${tool}`, args, { encoding: 'utf8' });
    if (r.status !== 0 && !(tool === 'e2fsck' && r.status === 1))
      throw new KwbError(`${tool} on the new root failed: ${(r.stderr || r.stdout || '').trim().split('\n').pop()}`);
  }
}

/** Packages this host's apt does not know, when the root is of the host's own suite (its package lists answer in
 *  milliseconds what mmdebstrap would find out only after minutes of building); none to tell otherwise. */
export function unknownPackages(spec: DebianRootSpec, hostSuite = hostCodename()): string[] {
  if (spec.suite !== hostSuite || !spec.packages.length) return [];
  const r = spawnSync('apt-cache', ['policy', 'bash', ...spec.packages], { encoding: 'utf8' });
  const known = new Set([...(r.stdout ?? '').matchAll(/^(\S+):$/gm)].map((m) => m[1]!.replace(/:\w+$/, '')));
  if (r.status !== 0 || !known.has('bash')) return []; // no package lists here
  return spec.packages.filter((p) => !known.has(p));
}

export interface BuildRootOptions {
  /** Where the image goes (DIR/root.ext2); kwb's cache by default. */
  out?: string;
  /** Each stage of the build as it starts ("downloading packages with apt"). */
  onStage?: (stage: string) => void;
  /** Every line mmdebstrap prints (for a status line). */
  onLine?: (line: string) => void;
}

/** Build a root with mmdebstrap into a temp dir beside its destination, then move it in place; the image's path. */
export async function buildDebianRoot(spec: DebianRootSpec, o: BuildRootOptions = {}): Promise<string> {
  checkTools();
  const unknown = unknownPackages(spec);
  if (unknown.length)
    throw new KwbError(
      `mmdebstrap would fail: Unable to locate package ${unknown.join(', ')} (apt on this ${spec.suite} host knows no such package; apt-cache search finds names)`,
    );
  o.onStage?.(`building Debian ${spec.suite} with mmdebstrap (${spec.packages.length} packages)`);
  const dest = o.out ?? debianRootDir(spec);
  const parent = dirname(dest);
  mkdirSync(parent, { recursive: true });
  sweepDeadDirs(parent); // what a killed kwb left half-built
  const tmp = makeTempDir('rootfs', parent);
  try {
    const image = join(tmp, IMAGE);
    const mirror = hostMirror();
    const args = [
      ...RECIPE,
      ...(spec.packages.length ? [`--include=${spec.packages.join(',')}`] : []),
      spec.suite,
      image,
      mirror,
    ];
    const t0 = performance.now();
    const stderr = await runMmdebstrap(args, (line) => {
      o.onLine?.(line);
      const stage = stageOf(line);
      if (stage) o.onStage?.(stage);
    });
    if (stderr !== undefined) throw new KwbError(`mmdebstrap failed: ${failureReason(stderr)}`);
    o.onStage?.('making room for the guest to write');
    growImage(image);
    writeFileSync(
      join(tmp, INFO),
      JSON.stringify({ ...spec, mirror, recipe: RECIPE, seconds: Math.round((performance.now() - t0) / 1000) }) + '\n',
    );
    if (o.out && existsSync(dest)) {
      // the user's directory: only kwb's two files in it are replaced
      renameSync(image, join(dest, IMAGE));
      renameSync(join(tmp, INFO), join(dest, INFO));
    } else {
      try {
        renameSync(tmp, dest);
      } catch (err) {
        // another kwb built the same root meanwhile: use that one
        if (!existsSync(join(dest, IMAGE))) throw err;
      }
    }
    return join(dest, IMAGE);
  } finally {
    removeTempDir(tmp);
  }
}

/** Run mmdebstrap; undefined when it succeeded, its stderr when it failed. A SIGINT/SIGTERM to kwb stops it
 *  cleanly (mmdebstrap removes its own temp dirs on SIGTERM) before kwb leaves with 122. */
function runMmdebstrap(args: string[], onLine: (line: string) => void): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    // the system's tools: mmdebstrap's helpers (mmtarfilter) are scripts for Debian's python3, not one on the
    // user's PATH (pyenv, a virtualenv), which may lack their modules or start slowly once per package
    const env = { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
    const child = spawnGroup('mmdebstrap', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let partial = '';
    const feed = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-65536);
      const lines = (partial + text).split(/[\n\r]/);
      partial = lines.pop()!;
      lines.filter(Boolean).forEach(onLine);
    };
    child.stdout!.on('data', feed);
    child.stderr!.on('data', feed);
    let interrupted: NodeJS.Signals | undefined;
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const onSignal = (sig: NodeJS.Signals) => {
      interrupted = sig;
      killGroup(child.pid, 'SIGTERM');
    };
    for (const sig of signals) process.on(sig, onSignal);
    child.once('error', (err) => reject(new KwbError(`cannot run mmdebstrap: ${err.message}`, ExitCode.couldNotTest)));
    child.once('close', (code) => {
      for (const sig of signals) process.off(sig, onSignal);
      if (interrupted) reject(new KwbError(`interrupted by ${interrupted}`, ExitCode.interrupted));
      else resolve(code === 0 ? undefined : stderr);
    });
  });
}

/** The image of the default root, built on first use (stages reported through `note`). */
export async function defaultDebianImage(note: (line: string) => void): Promise<string> {
  const cached = cachedDebianImage(DEFAULT_SPEC);
  if (cached) return cached;
  note(
    `building the Debian ${DEFAULT_SPEC.suite} root for --rootfs debian (once; cached in ${debianRootDir(DEFAULT_SPEC)})`,
  );
  return buildDebianRoot(DEFAULT_SPEC, { onStage: (stage) => note(`debian root: ${stage}`) });
}
