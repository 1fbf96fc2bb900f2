// Builds kwb's rv64 test programs with Debian's riscv64-unknown-elf-gcc, caching each ELF outside the repo in
// ${KWB_CACHE:-~/.cache/kwb}/rv64-tests/<hash>/ (the hash covers the sources, shared files, flags, compiler and the
// checkout's path, which the debug info records).
// Also runs an ELF under QEMU (`-M spike -bios none`) for differential checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { cacheDir } from '../../engine/cache';

export const RV64_GCC = 'riscv64-unknown-elf-gcc';
export const QEMU = 'qemu-system-riscv64';
const COMMON = join(__dirname, 'common');

function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}
export const hasToolchain = (): boolean => have(RV64_GCC);
export const hasQemu = (): boolean => have(QEMU);

let gccVersion: string | undefined;

/** Where a program runs: bare metal in M-mode at 0x80000000 (HTIF result), or in S-mode where a kernel goes, under
 *  kwb's built-in SBI (supervisor/: the rv64 Machine boots it as it would a kernel). */
export type ProgramRuntime = 'bare-metal' | 'supervisor';

/**
 * Build an ELF from assembly/C sources (paths relative to test/rv64 or absolute). Assembly tests get
 * common/test.h; C programs get the runtime's crt.S (and common/htif.h). Returns the cached ELF path.
 */
export function buildProgram(sources: string[], flags: string[] = [], runtime: ProgramRuntime = 'bare-metal'): string {
  gccVersion ??= execFileSync(RV64_GCC, ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
  const abs = sources.map((s) => (s.startsWith('/') ? s : join(__dirname, s)));
  const isC = abs.some((s) => s.endsWith('.c'));
  const layout = runtime === 'supervisor' ? join(__dirname, 'supervisor') : COMMON;
  const all = isC ? [join(layout, 'crt.S'), ...abs] : abs;
  const args = [
    '-march=rv64gc',
    '-mabi=lp64d',
    '-static',
    '-nostdlib',
    '-nostartfiles',
    '-mcmodel=medany',
    '-ffreestanding',
    '-fno-tree-loop-distribute-patterns',
    '-O2',
    '-I',
    COMMON,
    '-Wl,--no-warn-rwx-segments',
    '-T',
    join(layout, 'link.ld'),
    ...flags,
  ];
  const h = createHash('sha256');
  // the debug info names each source by its absolute path: an ELF built in another checkout points gdb elsewhere
  h.update(gccVersion)
    .update(__dirname)
    .update(JSON.stringify(args.map((a) => a.replace(COMMON, '<common>').replace(layout, '<rt>'))));
  for (const f of [...all, join(layout, 'link.ld'), join(COMMON, 'test.h'), join(COMMON, 'htif.h')]) {
    h.update(basename(f)).update(existsSync(f) ? readFileSync(f) : '');
  }
  const dir = cacheDir('rv64-tests', h.digest('hex').slice(0, 16));
  const out = join(dir, basename(abs[abs.length - 1]!).replace(/\.[cS]$/, '') + '.elf');
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync(RV64_GCC, [...args, ...all, '-o', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(tmp, out);
  return out;
}

/** Run an ELF under QEMU's spike machine; exit status is the program's tohost code (0 = pass). */
export function runQemu(elf: string, timeoutMs = 60_000): { status: number | null; stdout: string; seconds: number } {
  // console output to a file: QEMU drops characters when a stdio pipe is momentarily full
  const dir = mkdtempSync(join(tmpdir(), 'kwb-qemu-'));
  try {
    const file = join(dir, 'console');
    const t0 = performance.now();
    const r = spawnSync(
      QEMU,
      [
        '-M',
        'spike',
        '-bios',
        'none',
        '-kernel',
        elf,
        '-display',
        'none',
        '-monitor',
        'none',
        '-serial',
        `file:${file}`,
      ],
      { stdio: 'ignore', timeout: timeoutMs },
    );
    const seconds = (performance.now() - t0) / 1000;
    return { status: r.status, stdout: existsSync(file) ? readFileSync(file, 'latin1') : '', seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
