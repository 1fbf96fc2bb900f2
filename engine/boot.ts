// Start a guest with the engine the kernel file calls for (or the one the user named).
import { checkEngine, detectKernel, engineFor } from './detect.js';
import type { BootOptions, Guest } from './guest.js';
import { startRv64 } from './rv64/guest.js';
import { startUml } from './uml/guest.js';

export async function bootGuest(opts: BootOptions): Promise<Guest> {
  const kind = detectKernel(opts.kernel);
  const engine = opts.engine ?? engineFor(kind);
  checkEngine(opts.kernel, kind, engine);
  if (kind.kind === 'uml') return startUml(opts, { dynamic: kind.dynamic });
  return startRv64(opts);
}
