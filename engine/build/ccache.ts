// ccache for kwb's kernel builds: on when installed (KWB_CCACHE=0 or --no-ccache turn it off), through a directory
// of compiler-named links to ccache put first on make's PATH. The compiler command lines stay `gcc` (not
// `ccache gcc`), so turning ccache on or off does not make kbuild rebuild every object.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../cache.js';
import { findOnPath } from '../which.js';

export interface Ccache {
  binary: string;
  /** Put first on PATH: each compiler name links to ccache, which runs the next one of that name on PATH. */
  linkDir: string;
}

/** The ccache to use for a build with these compilers, or undefined when it is off or not installed. */
export function findCcache(wanted: boolean, compilers: string[], env = process.env): Ccache | undefined {
  if (!wanted || env.KWB_CCACHE === '0') return undefined;
  const binary = findOnPath('ccache', env.PATH);
  if (!binary) return undefined;
  const linkDir = cacheDir('ccache-links');
  mkdirSync(linkDir, { recursive: true });
  for (const compiler of compilers) linkTo(binary, join(linkDir, compiler));
  return { binary, linkDir };
}

function linkTo(target: string, link: string): void {
  let current: string | undefined;
  try {
    current = readlinkSync(link);
  } catch {
    // no link yet
  }
  if (current === target) return;
  rmSync(link, { force: true });
  try {
    symlinkSync(target, link);
  } catch (err) {
    // a concurrent build made the same link first
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

export interface CcacheStats {
  hits: number;
  misses: number;
}

/** ccache's counters for the cache the environment names (CCACHE_DIR or ccache's default). */
export function readCcacheStats(c: Ccache, env: NodeJS.ProcessEnv): CcacheStats | undefined {
  const r = spawnSync(c.binary, ['--print-stats'], { env, encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const counters = new Map(
    r.stdout.split('\n').map((line) => {
      const [name, value] = line.split('\t');
      return [name, Number(value)] as const;
    }),
  );
  const get = (name: string) => counters.get(name) ?? 0;
  return { hits: get('direct_cache_hit') + get('preprocessed_cache_hit'), misses: get('cache_miss') };
}

/** What one build added to the counters (other builds sharing the cache at the same time are counted too). */
export function statsSince(before: CcacheStats, after: CcacheStats): CcacheStats {
  return { hits: after.hits - before.hits, misses: after.misses - before.misses };
}

export function hitRate(s: CcacheStats): number | undefined {
  return s.hits + s.misses ? s.hits / (s.hits + s.misses) : undefined;
}
