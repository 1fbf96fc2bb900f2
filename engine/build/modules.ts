// A build's modules, installed for its guests: `make modules_install` into a staging directory in kwb's cache (keyed
// by the build directory, never inside the tree), which the guest sees as /lib/modules/$(uname -r), so that modprobe
// finds them (modules.dep comes from the host's depmod, as make runs it).
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { cacheDir, cacheKey } from '../cache.js';

/** Where a kernel's modules are on the host, and the release they are for (`uname -r` in the guest). */
export interface InstalledModules {
  /** The directory the guest sees as /lib/modules/RELEASE. */
  dir: string;
  release: string;
}

/** Debian's own UML kernel keeps its modules here, one directory per release. */
const DEBIAN_UML_MODULES = '/usr/lib/uml/modules';

/** Whether a configured build makes modules at all. */
export function buildsModules(build: string): boolean {
  try {
    return /^CONFIG_MODULES=y$/m.test(readFileSync(join(build, '.config'), 'utf8'));
  } catch {
    return false;
  }
}

/** The INSTALL_MOD_PATH of a build directory. */
export function moduleStaging(build: string): string {
  return cacheDir('modules', cacheKey(build));
}

function releaseOf(build: string): string | undefined {
  try {
    return readFileSync(join(build, 'include', 'config', 'kernel.release'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The installed modules of a build (kwb build installed them), or of Debian's linux.uml; none otherwise. */
export function installedModules(build: string | undefined, kernel: string): InstalledModules | undefined {
  if (build) {
    const release = releaseOf(build);
    const dir = release && join(moduleStaging(build), 'lib', 'modules', release);
    return dir && existsSync(join(dir, 'modules.dep')) ? { dir, release } : undefined;
  }
  if (kernel !== '/usr/bin/linux.uml') return undefined;
  try {
    const [release, ...more] = readdirSync(DEBIAN_UML_MODULES);
    return release && !more.length ? { dir: join(DEBIAN_UML_MODULES, release), release } : undefined;
  } catch {
    return undefined;
  }
}

/** Install a build's modules: make into a fresh staging dir, which then replaces the old one whole (a guest
 *  booting meanwhile sees the old set or the new, never half of one). The make status. */
export async function installModules(build: string, make: (targets: string[]) => Promise<number>): Promise<number> {
  const staging = moduleStaging(build);
  const fresh = `${staging}.new-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  const code = await make([`INSTALL_MOD_PATH=${fresh}`, 'modules_install']);
  if (code !== 0) {
    rmSync(fresh, { recursive: true, force: true });
    return code;
  }
  const old = `${staging}.old-${process.pid}`;
  if (existsSync(staging)) renameSync(staging, old);
  renameSync(fresh, staging);
  rmSync(old, { recursive: true, force: true });
  return 0;
}
/** How deep into a directory (a --share) kwb looks for .ko files that no modules.order lists. */
const SCAN_DEPTH = 3;

/** A module's name as the kernel keeps it: the file's name, '-' read as '_'. */
const moduleName = (file: string) => basename(file, '.ko').replace(/-/g, '_');

function koFilesIn(dir: string): string[] {
  // a build or an installed set lists its modules (6.1: as .ko; later kernels: as .o), relative to it, or by
  // absolute path for an out-of-tree build (M=DIR)
  try {
    return readFileSync(join(dir, 'modules.order'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => resolve(dir, line.replace(/\.o$/, '.ko')));
  } catch {
    // no list: look for them
  }
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      if (e.isFile() && e.name.endsWith('.ko')) found.push(join(d, e.name));
      else if (e.isDirectory() && depth > 0) walk(join(d, e.name), depth - 1);
    }
  };
  walk(dir, SCAN_DEPTH);
  return found;
}

/** Finds a loaded module's .ko on the host in `dirs` (searched in order, anew for each module: a rebuilt
 *  out-of-tree module is found as it is now). */
export function moduleFinder(dirs: string[]): (name: string) => string | undefined {
  return (name) => {
    for (const dir of dirs) {
      const hit = koFilesIn(dir).find((f) => moduleName(f) === name && existsSync(f));
      if (hit) return hit;
    }
    return undefined;
  };
}
