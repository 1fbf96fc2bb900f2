// The xstate shim (xstate-shim.c) lets 6.1-era UML kernels run on hosts whose XSAVE area is larger than UML's fixed
// buffer (AMX). It is compiled once with the host's cc into kwb's cache, keyed by its source, and preloaded into
// dynamically linked UML kernels.
import { compiledHelper } from './cc.js';

/** Path of the compiled shim, or an error string saying why there is none. */
export function xstateShim(): { path: string } | { error: string } {
  return compiledHelper('xstate-shim.c', 'xstate-shim', '.so', {
    before: ['-O2', '-shared', '-fPIC'],
    after: ['-ldl'],
  });
}
