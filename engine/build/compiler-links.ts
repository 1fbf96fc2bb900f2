// A directory of links named after the compilers, all pointing at one wrapper (ccache, or distcc in its masquerade
// mode), put first on make's PATH: the kernel's compiler command lines stay plain `gcc`, so turning a wrapper on or
// off does not make kbuild rebuild every object. The wrapper runs the next compiler of that name on PATH.
import { mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheDir } from '../cache.js';

/** The link directory for `wrapper` (kept in kwb's cache, one per wrapper), with a link for each compiler. */
export function compilerLinks(wrapper: string, compilers: string[]): string {
  const dir = cacheDir(`${basename(wrapper)}-links`);
  mkdirSync(dir, { recursive: true });
  for (const compiler of compilers) linkTo(wrapper, join(dir, compiler));
  return dir;
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
