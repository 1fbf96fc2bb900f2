// The xstate shim (xstate-shim.c) lets 6.1-era UML kernels run on hosts whose XSAVE area is larger than UML's fixed
// buffer (AMX). It is compiled once with the host's cc into kwb's cache, keyed by its source, and preloaded into
// dynamically linked UML kernels.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, cacheKey } from '../cache.js';

function shimSourcePath(): string {
  // beside this module in the source tree; beside dist/cli.js in the bundle (scripts/build.mjs copies it)
  for (const dir of [__dirname, join(__dirname, '..', 'engine', 'uml')]) {
    const path = join(dir, 'xstate-shim.c');
    if (existsSync(path)) return path;
  }
  throw new Error('xstate-shim.c is missing from the kwb installation');
}

/** Path of the compiled shim, or an error string saying why there is none. */
export function xstateShim(): { path: string } | { error: string } {
  const source = readFileSync(shimSourcePath());
  const key = cacheKey(source).slice(0, 12);
  const out = cacheDir('bin', `xstate-shim-${key}.so`);
  if (existsSync(out)) return { path: out };
  mkdirSync(cacheDir('bin'), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O2', '-shared', '-fPIC', '-o', tmp, shimSourcePath(), '-ldl'], { encoding: 'utf8' });
  if (r.status !== 0) {
    return {
      error: `cannot compile kwb's xstate shim with ${cc}: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`,
    };
  }
  renameSync(tmp, out);
  return { path: out };
}
