// The compile farm options of every command that builds a kernel (build, bisect, watch --build): one definition,
// read once into the FarmChoice the engine's builds take.
import { distccFarm, distccHostsFrom } from '../engine/build/distcc.js';
import type { FarmChoice } from '../engine/build/toolchain.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';

export const farmOptions: OptionTable = {
  'no-ccache': { help: 'compile without ccache (also KWB_CCACHE=0); by default ccache is used when installed' },
  distcc: {
    value: 'HOSTS',
    help: "compile on these distcc hosts, in distcc's syntax (e.g. '10.0.0.5/8 10.0.0.6/8'; DISTCC_HOSTS works the same); make's -j is what they take together",
  },
};

/** The farm options' values: ccache on or off, and the distcc host list (checked by distcc now, before anything
 *  is built: a list distcc cannot read is a usage error) if any. */
export function farmFrom(args: ParsedArgs): FarmChoice {
  const distcc = distccHostsFrom(one(args, 'distcc'));
  if (distcc) distccFarm(distcc);
  return { ccache: !args.flags.has('no-ccache'), distcc };
}
