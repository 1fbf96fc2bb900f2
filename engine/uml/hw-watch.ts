// Whether the host's x86 debug registers fire for a traced process (see hw-watch-probe.c). Under nested
// virtualisation they may be accepted and never trap: gdbserver's watchpoints on UML then never trigger, and kwb's
// stub emulates them instead. The answer cannot change while the host runs, so it is worked out once per boot.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { cacheDir } from '../cache.js';
import { compiledHelper } from './cc.js';

export type HardwareWatchpoints = 'fire' | 'silent' | { unknown: string };

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

/** Run the probe, or read its answer for this boot (and this probe) from kwb's cache. */
export function hardwareWatchpoints(): HardwareWatchpoints {
  if (process.arch !== 'x64') return { unknown: `no probe for ${process.arch}` };
  const probe = compiledHelper('hw-watch-probe.c', 'hw-watch-probe', '', { before: ['-O2'], after: [] });
  if ('error' in probe) return { unknown: probe.error };
  const answerFile = cacheDir('hw-watch', `${basename(probe.path)}-${bootId()}`);
  if (existsSync(answerFile)) {
    const cached = readFileSync(answerFile, 'utf8').trim();
    if (cached === 'fire' || cached === 'silent') return cached;
  }
  const r = spawnSync(probe.path, [], { encoding: 'utf8', timeout: 10_000 });
  const answer = r.status === 0 ? 'fire' : r.status === 1 ? 'silent' : undefined;
  if (!answer) return { unknown: `the probe could not tell (${r.error?.message ?? `exit ${r.status}`})` };
  mkdirSync(cacheDir('hw-watch'), { recursive: true });
  writeFileSync(answerFile, answer + '\n');
  return answer;
}
