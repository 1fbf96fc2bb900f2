// kwb's C helpers (xstate-shim.c, hw-watch-probe.c) are compiled once with the host's cc into kwb's cache, keyed by
// their source, so that an edited helper is rebuilt and an unchanged one never is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, cacheKey } from '../cache.js';

function sourcePath(file: string): string {
  // beside this module in the source tree; beside dist/cli.js in the bundle (scripts/build.mjs copies it)
  for (const dir of [__dirname, join(__dirname, '..', 'engine', 'uml')]) {
    const path = join(dir, file);
    if (existsSync(path)) return path;
  }
  throw new Error(`${file} is missing from the kwb installation`);
}

/** Path of `source` (a .c file beside this module) compiled with `flags` into `<name>-<key><suffix>`, or an error
 *  string saying why there is none. */
export function compiledHelper(
  source: string,
  name: string,
  suffix: string,
  flags: { before: string[]; after: string[] },
): { path: string } | { error: string } {
  const src = sourcePath(source);
  const key = cacheKey(readFileSync(src)).slice(0, 12);
  const out = cacheDir('bin', `${name}-${key}${suffix}`);
  if (existsSync(out)) return { path: out };
  mkdirSync(cacheDir('bin'), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, [...flags.before, '-o', tmp, src, ...flags.after], { encoding: 'utf8' });
  if (r.status !== 0) {
    return {
      error: `cannot compile kwb's ${source} with ${cc}: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`,
    };
  }
  renameSync(tmp, out);
  return { path: out };
}
