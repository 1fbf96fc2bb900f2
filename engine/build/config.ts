// The kernel config kwb builds with: the tree's own .config, else a base target (defconfig), plus kwb's debugging
// fragment and the user's; lines are added only when missing, so a configured tree keeps building incrementally.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KwbError } from '../results.js';

/** What every kwb kernel gets: DWARF for gdb, the kernel's gdb scripts, frame pointers for backtraces; debugfs,
 *  loadable modules (which kwb installs for the guest and shows to gdb) and tracefs with the kernel's trace events
 *  (ENABLE_DEFAULT_TRACERS: the tracing both UML and riscv support without the function tracer). */
export const KWB_FRAGMENT = [
  'CONFIG_DEBUG_KERNEL=y',
  'CONFIG_DEBUG_INFO_DWARF5=y',
  'CONFIG_GDB_SCRIPTS=y',
  'CONFIG_FRAME_POINTER=y',
  'CONFIG_DEBUG_FS=y',
  'CONFIG_MODULES=y',
  'CONFIG_MODULE_UNLOAD=y',
  'CONFIG_FTRACE=y',
  'CONFIG_ENABLE_DEFAULT_TRACERS=y',
];

/** The make target that writes a first .config when the tree has none. */
export const DEFAULT_BASE = 'defconfig';

/** The config lines of a Kconfig fragment file (`CONFIG_X=y` and `# CONFIG_X is not set`); none without a file. */
export function readFragment(file: string | undefined): string[] {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new KwbError(`cannot read config fragment ${file}`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(isConfigLine);
}

function isConfigLine(line: string): boolean {
  return line !== '' && (!line.startsWith('#') || / is not set$/.test(line));
}

/** Lines of `fragment` that .config does not have yet (`# CONFIG_X is not set` counts as a line). */
export function missingConfig(config: string, fragment: string[]): string[] {
  const have = new Set(config.split('\n'));
  return fragment.filter((line) => isConfigLine(line.trim()) && !have.has(line));
}

/** A base must be a config target of the kernel's Makefile (defconfig, tinyconfig, x86_64_defconfig, ...). */
export function checkBase(base: string): string {
  if (!/^[A-Za-z0-9_.-]*config$/.test(base))
    throw new KwbError(`--base ${base}: give a config target such as defconfig or tinyconfig`);
  return base;
}

export type MakeRunner = (targets: string[]) => Promise<number>;

export interface ConfigureResult {
  ok: boolean;
  /** Fragment lines that olddefconfig dropped (unmet dependencies): the kernel is built without them. */
  dropped: string[];
}

/**
 * Give `out` a .config holding every fragment line: the base target first when there is none, then the missing
 * lines appended and resolved by olddefconfig. `announce` is called before make runs at all.
 */
export async function configure(
  out: string,
  base: string,
  fragment: string[],
  make: MakeRunner,
  announce: (what: string) => void,
): Promise<ConfigureResult> {
  const configPath = join(out, '.config');
  const fresh = !existsSync(configPath);
  if (fresh) {
    announce(`configuring: ${base} + kwb's debug fragment`);
    if ((await make([base])) !== 0) return { ok: false, dropped: [] };
  }
  const missing = missingConfig(readFileSync(configPath, 'utf8'), fragment);
  if (!missing.length) return { ok: true, dropped: [] };
  if (!fresh) announce(`configuring: adding ${missing.length} config line(s)`);
  writeFileSync(configPath, readFileSync(configPath, 'utf8') + missing.join('\n') + '\n');
  if ((await make(['olddefconfig'])) !== 0) return { ok: false, dropped: [] };
  return { ok: true, dropped: missingConfig(readFileSync(configPath, 'utf8'), missing) };
}
