// Kernel awareness for the gdb stub: wrap a Target so that gdb sees the kernel's tasks as threads and gets the
// ps/dmesg/lsmod monitor commands. Anything missing (no debug info, no gdb, an unknown layout) leaves the target as
// it was, with one warning.
import type { Target } from '../target.js';
import type { LinuxArch } from './arch/types.js';
import { riscv64Arch } from './arch/riscv64.js';
import { umlArch } from './arch/uml.js';
import { DeferredLinuxTarget } from './deferred.js';
import { COMMON_QUERIES, loadOffsets, type Offsets } from './offsets.js';
import { registerLayout, type RegisterLayout } from '../registers.js';
import { TASK_QUERIES_REQUIRED } from './tasks.js';
import type { ModuleFinder } from './libraries.js';
import { LinuxTarget } from './target.js';

export { LinuxTarget, CPU_THREAD_ID, IDLE_THREAD_ID } from './target.js';
export { DeferredLinuxTarget } from './deferred.js';
export { loadOffsets, Offsets } from './offsets.js';
export type { ModuleFinder } from './libraries.js';

/** The Linux arch for an inner target: x86_64 targets kwb serves are UML kernels. */
export function linuxArchFor(arch: Target['arch']) {
  return arch === 'x86_64' ? umlArch : riscv64Arch;
}

/** The structure offsets the kernel-aware layer reads `vmlinux`'s tasks, log and modules by (cached by build-id). */
export function learnOffsets(vmlinux: string, arch: Target['arch']): Promise<Offsets> {
  return loadOffsets(vmlinux, { ...COMMON_QUERIES, ...linuxArchFor(arch).queries });
}

/** What the kernel-aware layer needs besides the inner target: learnt once per kernel build. */
export interface LinuxKnowledge {
  arch: LinuxArch;
  layout: RegisterLayout;
  offsets: Offsets;
}

/** Learn what `inner` needs to be made kernel-aware with the symbols of `vmlinux` (gdb reads its debug info on the
 *  first run for a build: seconds; cached by build-id after that). Throws, saying why, when it cannot be. */
export async function learnLinux(inner: Target, vmlinux: string): Promise<LinuxKnowledge> {
  const arch = linuxArchFor(inner.arch);
  const layout = registerLayout((annex) => inner.targetXml(annex));
  if (!layout) throw new Error('the target describes no registers');
  const offsets = await learnOffsets(vmlinux, inner.arch);
  const missing = [...TASK_QUERIES_REQUIRED, ...arch.required].filter((k) => !offsets.has(k));
  if (missing.length)
    throw new Error(`its debug info lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`);
  return { arch, layout, offsets };
}

/** The kernel-aware target over a stopped `inner` (it looks at the CPU once to name the thread of the stop). */
export async function linuxTarget(
  inner: Target,
  known: LinuxKnowledge,
  findModule?: ModuleFinder,
): Promise<LinuxTarget> {
  const target = new LinuxTarget(inner, known.offsets, known.arch, known.layout, findModule);
  await target.init();
  return target;
}

function awarenessOff(vmlinux: string, err: unknown): string {
  const why = err instanceof Error ? err.message : String(err);
  return `kernel awareness is off (${vmlinux}: ${why}); gdb sees the plain CPU`;
}

/** `inner` made kernel-aware with the symbols of `vmlinux`, or `inner` itself (after `warn`) when that fails. */
export async function linuxAware(inner: Target, vmlinux: string, warn: (message: string) => void): Promise<Target> {
  try {
    return await linuxTarget(inner, await learnLinux(inner, vmlinux));
  } catch (err) {
    warn(awarenessOff(vmlinux, err));
    return inner;
  }
}

/** `inner` served at once, made kernel-aware when what that needs has been learnt (in the background, starting now):
 *  a client never waits for gdb reading the debug info. `warn` is told once if it cannot be. With `findModule`,
 *  loaded modules are offered to the client as libraries. */
export function linuxAwareWhenReady(
  inner: Target,
  vmlinux: string,
  warn: (message: string) => void,
  findModule?: ModuleFinder,
): DeferredLinuxTarget {
  const off = (err: unknown) => warn(awarenessOff(vmlinux, err));
  const upgrade = learnLinux(inner, vmlinux).then(
    (known) => () => linuxTarget(inner, known, findModule),
    (err: unknown) => void off(err),
  );
  return new DeferredLinuxTarget(inner, upgrade, off, !!findModule);
}
