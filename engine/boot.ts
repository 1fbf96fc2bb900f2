// Start a guest with the engine the kernel file calls for (or the one the user named).
import type { BootOptions, Guest } from './guest.js';
import { checkEngine, kernelInfo, type KernelInfo } from './kernel.js';
import { startUml } from './uml/guest.js';

/** Boot `opts.kernel`; `kernel` is its KernelInfo when the caller has it already (it is computed once per boot). */
export async function bootGuest(opts: BootOptions, kernel: KernelInfo = kernelInfo(opts.kernel)): Promise<Guest> {
  checkEngine(kernel, opts.engine ?? kernel.engine);
  if (kernel.engine === 'uml') return startUml(opts, kernel);
  // loaded on demand: the RISC-V machine is a large module graph a UML boot has no use for
  const { startRv64 } = await import('./rv64/guest.js');
  return startRv64(opts, kernel);
}
