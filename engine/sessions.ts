// Guests being served to gdb, recorded so that `kwb gdb` can find one: a small JSON file per kwb process in kwb's
// runtime dir, removed when that kwb exits (a file whose process is gone is ignored and cleaned up).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';
import type { DebugInfo } from './kernel.js';

export interface GdbSession {
  pid: number;
  host: string;
  port: number;
  kernel: string;
  /** The served kernel's symbols and gdb, so that a client needs not work them out again. */
  debug: DebugInfo;
  started: number;
}

const dir = () => cacheDir('sessions');

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function recordSession(session: Omit<GdbSession, 'pid' | 'started'>): () => void {
  mkdirSync(dir(), { recursive: true });
  const file = join(dir(), `${process.pid}-${session.port}.json`);
  writeFileSync(file, JSON.stringify({ ...session, pid: process.pid, started: Date.now() }));
  const remove = () => rmSync(file, { force: true });
  process.once('exit', remove);
  return remove;
}

/** Live sessions, newest first. */
export function liveSessions(): GdbSession[] {
  let names: string[];
  try {
    names = readdirSync(dir());
  } catch {
    return [];
  }
  const sessions: GdbSession[] = [];
  for (const name of names) {
    const file = join(dir(), name);
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as GdbSession;
      if (processAlive(s.pid)) sessions.push(s);
      else rmSync(file, { force: true });
    } catch {
      rmSync(file, { force: true });
    }
  }
  return sessions.sort((a, b) => b.started - a.started);
}
