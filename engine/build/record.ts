// What kwb keeps about each build output directory, in its cache (never in the tree, so `git status` stays clean):
// the last build's log, and how many objects the last from-scratch build compiled (the 100% of the progress line).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheDir, cacheKey } from '../cache.js';

export interface BuildRecord {
  /** Objects (CC/AS steps) a build starting from no objects compiled. */
  objects: number;
  seconds: number;
}

/** kwb's directory for the build output directory `out` (created). */
export function recordDir(out: string): string {
  const dir = cacheDir('builds', `${basename(out)}-${cacheKey(out)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function defaultLog(out: string): string {
  return join(recordDir(out), 'build.log');
}

export function readRecord(out: string): BuildRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(recordDir(out), 'last.json'), 'utf8')) as Partial<BuildRecord>;
    return typeof r.objects === 'number' && r.objects > 0 && typeof r.seconds === 'number'
      ? { objects: r.objects, seconds: r.seconds }
      : undefined;
  } catch {
    return undefined;
  }
}

export function writeRecord(out: string, record: BuildRecord): void {
  writeFileSync(join(recordDir(out), 'last.json'), JSON.stringify(record) + '\n');
}
