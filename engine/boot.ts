// Start a guest with the engine the kernel file calls for (or the one the user named).
import { checkEngine, detectKernel, engineFor } from './detect.js';
import type { BootOptions, Guest } from './guest.js';
import { startUml } from './uml/guest.js';

export async function bootGuest(opts: BootOptions): Promise<Guest> {
  const kind = detectKernel(opts.kernel);
  const engine = opts.engine ?? engineFor(kind);
  checkEngine(opts.kernel, kind, engine);
  if (kind.kind === 'uml') return startUml(opts, { dynamic: kind.dynamic });
  // loaded on demand: the RISC-V machine is a large module graph a UML boot has no use for
  const { startRv64 } = await import('./rv64/guest.js');
  return startRv64(opts);
}
