// How one build compiles, decided once for make and for kunit.py alike: the compilers of the architecture, ccache
// and distcc around them (as the user chose), make's environment and its -j.
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BuildArch } from './build.js';
import { findCcache, type Ccache } from './ccache.js';
import { distccFarm, useDistcc, type Distcc } from './distcc.js';
import { makeEnv } from './env.js';
import { recordDir } from './record.js';

/** The CROSS_COMPILE prefix of each architecture kwb builds. */
export const CROSS: Record<BuildArch, string> = { um: '', riscv: 'riscv64-linux-gnu-' };

/** The compile farm as the user asked for it: the same for kwb build, bisect and watch (cli/farm.ts). */
export interface FarmChoice {
  /** Compile through ccache when it is installed (default true; KWB_CCACHE=0 in the environment turns it off). */
  ccache?: boolean;
  /** A distcc host list (distcc's syntax): compiles go to these hosts, with -j from distcc unless jobs is given. */
  distcc?: string;
}

export interface Toolchain {
  /** CROSS_COMPILE. */
  cross: string;
  ccache?: Ccache;
  distcc?: Distcc;
  /** make's environment: the wrappers' links on PATH, their variables, the fixed build stamps. */
  env: NodeJS.ProcessEnv;
  /** make's -j. */
  jobs: number;
}

/** The toolchain of a build of `source` into `out` (distcc's client log goes to kwb's record of `out`). */
export function toolchain(source: string, out: string, arch: BuildArch, farm: FarmChoice, jobs?: number): Toolchain {
  const cross = CROSS[arch];
  const compilers = [...new Set(['gcc', `${cross}gcc`])];
  const ccache = findCcache(farm.ccache ?? true, compilers);
  const distcc = farm.distcc
    ? useDistcc(distccFarm(farm.distcc), !!ccache, compilers, join(recordDir(out), 'distcc.log'))
    : undefined;
  return { cross, ccache, distcc, env: makeEnv(source, ccache, distcc), jobs: jobs ?? distcc?.jobs ?? cpus().length };
}
