// The environment kwb runs make in: build stamps fixed so that repeated builds of the same source compile to the
// same objects (and hit ccache), and the compiler wrappers (ccache, distcc) through their compiler links on PATH.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Ccache } from './ccache.js';
import { distccEnv, type Distcc } from './distcc.js';

/**
 * The kernel's knobs for what would otherwise change on every build (KBUILD_BUILD_TIMESTAMP/USER/HOST), set unless
 * the user set them: the timestamp is the date of the tree's top Makefile (its version), user and host "kwb".
 */
export function makeEnv(
  source: string,
  ccache: Ccache | undefined,
  distcc?: Distcc,
  env = process.env,
): NodeJS.ProcessEnv {
  const links = ccache?.linkDir ?? distcc?.linkDir;
  return {
    ...env,
    KBUILD_BUILD_TIMESTAMP: env.KBUILD_BUILD_TIMESTAMP || statSync(join(source, 'Makefile')).mtime.toUTCString(),
    KBUILD_BUILD_USER: env.KBUILD_BUILD_USER || 'kwb',
    KBUILD_BUILD_HOST: env.KBUILD_BUILD_HOST || 'kwb',
    ...(distcc ? distccEnv(distcc, !!ccache) : {}),
    ...(links ? { PATH: `${links}:${env.PATH ?? ''}` } : {}),
  };
}
