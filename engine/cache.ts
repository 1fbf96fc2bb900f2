// kwb's cache directory (built kernels, compiled helpers, test programs): outside any repo, reused across runs.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(...parts: string[]): string {
  const base = process.env.KWB_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kwb');
  return join(base, ...parts);
}
