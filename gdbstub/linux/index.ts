// Kernel awareness for the gdb stub: wrap a Target so that gdb sees the kernel's tasks as threads and gets the
// ps/dmesg/lsmod monitor commands. Anything missing (no debug info, no gdb, an unknown layout) leaves the target as
// it was, with one warning.
import type { Target } from '../target.js';
import { riscv64Arch } from './arch/riscv64.js';
import { umlArch } from './arch/uml.js';
import { COMMON_QUERIES, loadOffsets } from './offsets.js';
import { registerLayout } from './registers.js';
import { TASK_QUERIES_REQUIRED } from './tasks.js';
import { LinuxTarget } from './target.js';

export { LinuxTarget, CPU_THREAD_ID, IDLE_THREAD_ID } from './target.js';
export { loadOffsets, Offsets } from './offsets.js';

/** The Linux arch for an inner target: x86_64 targets kwb serves are UML kernels. */
export function linuxArchFor(arch: Target['arch']) {
  return arch === 'x86_64' ? umlArch : riscv64Arch;
}

/** `inner` made kernel-aware with the symbols of `vmlinux`, or `inner` itself (after `warn`) when that fails. */
export async function linuxAware(inner: Target, vmlinux: string, warn: (message: string) => void): Promise<Target> {
  try {
    const arch = linuxArchFor(inner.arch);
    const layout = registerLayout((annex) => inner.targetXml(annex));
    if (!layout) throw new Error('the target describes no registers');
    const offsets = await loadOffsets(vmlinux, { ...COMMON_QUERIES, ...arch.queries });
    const missing = [...TASK_QUERIES_REQUIRED, ...arch.required].filter((k) => !offsets.has(k));
    if (missing.length)
      throw new Error(`its debug info lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`);
    const target = new LinuxTarget(inner, offsets, arch, layout);
    await target.init();
    return target;
  } catch (err) {
    warn(
      `kernel awareness is off (${vmlinux}: ${err instanceof Error ? err.message : String(err)}); gdb sees the plain CPU`,
    );
    return inner;
  }
}
