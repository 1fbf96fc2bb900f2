// Start a guest with the engine the kernel file calls for (or the one the user named).
import { checkEngine, detectKernel, engineFor } from './detect.js';
import type { BootOptions, Guest } from './guest.js';
import { KwbError } from './results.js';
import { startUml } from './uml/guest.js';

export async function bootGuest(opts: BootOptions): Promise<Guest> {
  const kind = detectKernel(opts.kernel);
  const engine = opts.engine ?? engineFor(kind);
  checkEngine(opts.kernel, kind, engine);
  if (kind.kind === 'uml') return startUml(opts, { dynamic: kind.dynamic });
  throw new KwbError(`${opts.kernel} is a RISC-V kernel; the rv64 engine is not part of this kwb build yet`);
}
