// Host resources a guest owns: temp dirs and child process groups. Each is registered so that it is released on
// every exit path: the normal one (release()), and process exit (the 'exit' hook kills groups and removes dirs
// synchronously, for when kwb is ending because of a signal or an uncaught error).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './sessions.js';

const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Where guests keep their temporary files: $KWB_RUNTIME_DIR, else /dev/shm (RAM, like UML's own memory file: a root
 * of a few hundred small files is made there in about a millisecond, against tens on a journaling disk), else $TMPDIR.
 */
export function runtimeDir(): string {
  for (const dir of [process.env.KWB_RUNTIME_DIR, '/dev/shm']) {
    if (!dir) continue;
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
      if (statSync(dir).isDirectory()) return dir;
    } catch {
      // not usable: try the next
    }
  }
  return tmpdir();
}

/** A fresh private temp dir, removed by removeTempDir() or at process exit; its name carries kwb's pid, so that a
 *  later kwb can tell when its owner died without cleaning up (SIGKILL) and remove it (sweepDeadDirs). */
export function makeTempDir(prefix: string, parent = runtimeDir()): string {
  hookExit();
  const dir = mkdtempSync(join(parent, `kwb-${prefix}-${process.pid}-`));
  liveDirs.add(dir);
  return dir;
}

const OWNED_DIR = /^kwb-[\w-]+?-(\d+)-\w{6}$/;

/** Remove the temp dirs in `parent` whose kwb is gone. */
export function sweepDeadDirs(parent = runtimeDir()): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = OWNED_DIR.exec(name)?.[1];
    if (owner && !processAlive(Number(owner))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** A process group kwb did not start itself but owns (gdbserver's inferior): killed at exit like our own. */
export function adoptGroup(pgid: number): void {
  hookExit();
  liveGroups.add(pgid);
}

/** Kill an adopted group now and forget it. */
export function releaseGroup(pgid: number, signal: NodeJS.Signals): void {
  killGroup(pgid, signal);
  liveGroups.delete(pgid);
}

/** Whether any process of the group is still alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once no process of the group is left: its stragglers get `graceMs` to exit on their own (UML's helpers
 *  follow their kernel out), then SIGKILL. A guest is over only when nothing of it runs. */
export async function groupGone(pgid: number, graceMs = 1000): Promise<void> {
  const pause = () => new Promise((r) => setTimeout(r, 20));
  for (const end = Date.now() + graceMs; groupAlive(pgid) && Date.now() < end;) await pause();
  if (!groupAlive(pgid)) return;
  killGroup(pgid, 'SIGKILL');
  for (const end = Date.now() + graceMs; groupAlive(pgid) && Date.now() < end;) await pause();
}

/** Spawn a child as the leader of its own process group, so that the whole tree it starts can be killed at once. */
export function spawnGroup(command: string, args: string[], options: SpawnOptions): ChildProcess & { pid: number } {
  hookExit();
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid === undefined) {
    // spawn failed (ENOENT etc.): the 'error' event carries the reason; give the caller a usable object anyway
    return child as ChildProcess & { pid: number };
  }
  const pgid = child.pid;
  liveGroups.add(pgid);
  child.once('exit', () => {
    // the leader is gone; helpers it left behind in the group are killed too
    killGroup(pgid, 'SIGKILL');
    liveGroups.delete(pgid);
  });
  return child as ChildProcess & { pid: number };
}

/** Write a file whole or not at all (a temp file renamed over it): a reader, or a kwb killed mid-write, never sees
 *  half of it. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
