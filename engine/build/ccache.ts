// ccache for kwb's kernel builds: on when installed (KWB_CCACHE=0 or --no-ccache turn it off), through compiler-named
// links to ccache (compiler-links.ts), so the compiler command lines stay `gcc`, not `ccache gcc`.
import { execFile } from 'node:child_process';
import { findOnPath } from '../which.js';
import { compilerLinks } from './compiler-links.js';

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
  return { binary, linkDir: compilerLinks(binary, compilers) };
}

export interface CcacheStats {
  hits: number;
  misses: number;
}

/** ccache's counters for the cache the environment names (CCACHE_DIR or ccache's default); read without blocking,
 *  as the progress line reads them while make runs. */
export function readCcacheStats(c: Ccache, env: NodeJS.ProcessEnv): Promise<CcacheStats | undefined> {
  return new Promise((resolve) =>
    execFile(c.binary, ['--print-stats'], { env, encoding: 'utf8' }, (err, stdout) =>
      resolve(err ? undefined : parseStats(stdout)),
    ),
  );
}

function parseStats(printStats: string): CcacheStats {
  const counters = new Map(
    printStats.split('\n').map((line) => {
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
