// `kwb run -- true` against the bare `linux` command line doing the same boot (same kernel, same root, same init,
// same xstate shim) in the same run. Goal: kwb adds at most 10 %.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../engine/host.js';
import { buildHostRoot } from '../engine/rootfs/hostroot.js';
import { umlArgv } from '../engine/uml/argv.js';
import { presetLpj } from '../engine/uml/lpj.js';
import { xstateShim } from '../engine/uml/shim.js';
import { umlKernel } from '../test/helpers/fixtures.js';
import { median, type BenchRow } from './row.js';

const RUNS = 9;

function timeMs(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} exited ${r.status}: ${r.stderr.toString().slice(-300)}`);
  return ms;
}

export async function benchUml(): Promise<BenchRow[]> {
  const kernel = umlKernel();
  const shim = xstateShim();
  if ('error' in shim) throw new Error(shim.error);
  const cli = join(__dirname, '..', 'dist', 'cli.js');
  const tmp = makeTempDir('bench');
  try {
    // the bare reference: what a person would type, with a root and init prepared once up front
    const root = join(tmp, 'root');
    buildHostRoot(root, { shares: [], command: ['true'] });
    const bareArgs = umlArgv({
      umid: `bench-${process.pid}`,
      umlDir: tmp,
      mem: '256M',
      root: { kind: 'kwb', dir: root },
      kernelLog: 'quiet',
      consoleFds: [0, 1],
      append: [],
    });
    const env = { ...process.env, LD_PRELOAD: shim.path };
    // NODE_EXTRA_CA_CERTS makes every Node process parse a certificate bundle at start-up (about 100 ms here) though
    // kwb never opens a TLS connection: measure kwb as it runs without it, and, when it is set, also with it
    const { NODE_EXTRA_CA_CERTS: extraCerts, ...nodeEnv } = process.env;
    const kwbTimes: number[] = [];
    const bareTimes: number[] = [];
    const presetTimes: number[] = [];
    const certTimes: number[] = [];
    timeMs(process.execPath, [cli, 'run', '--kernel', kernel, '--', 'true'], process.env); // warm the page cache
    const lpj = presetLpj(kernel); // learned by the boot just now, if not before
    for (let i = 0; i < RUNS; i++) {
      bareTimes.push(timeMs(kernel, bareArgs, env, tmp));
      if (lpj) presetTimes.push(timeMs(kernel, [...bareArgs, `lpj=${lpj}`], env, tmp));
      kwbTimes.push(timeMs(process.execPath, [cli, 'run', '--kernel', kernel, '--', 'true'], nodeEnv));
      if (extraCerts)
        certTimes.push(timeMs(process.execPath, [cli, 'run', '--kernel', kernel, '--', 'true'], process.env));
    }
    const nodeTimes = Array.from({ length: RUNS }, () => timeMs(process.execPath, ['-e', '0'], nodeEnv));
    const kwb = median(kwbTimes);
    const bare = median(bareTimes);
    const node = median(nodeTimes);
    const preset = presetTimes.length ? median(presetTimes) : undefined;
    return [
      {
        name: 'uml: kwb run -- true (wall)',
        value: kwb,
        unit: 'ms',
        reference: bare,
        ratio: kwb / bare,
        goal: '<= 1.10',
        note: `median of ${RUNS}; reference: bare linux command line (kwb presets the lpj it learned; the bare line calibrates); Node without NODE_EXTRA_CA_CERTS`,
      },
      ...(preset
        ? [
            {
              name: 'uml: kwb run -- true vs bare with lpj= too',
              value: kwb,
              unit: 'ms',
              reference: preset,
              ratio: kwb / preset,
              note: 'what kwb costs beyond the boot itself (Node start-up included)',
            },
          ]
        : []),
      ...(extraCerts
        ? [
            {
              name: 'uml: kwb run -- true with NODE_EXTRA_CA_CERTS as set here',
              value: median(certTimes),
              unit: 'ms',
              reference: bare,
              ratio: median(certTimes) / bare,
              note: `the environment makes Node load ${extraCerts} at every start`,
            },
          ]
        : []),
      {
        name: 'uml: kwb overhead beyond node startup',
        value: kwb - bare - node,
        unit: 'ms',
        reference: node,
        note: 'reference: `node -e 0`, the floor any Node CLI pays',
      },
    ];
  } finally {
    removeTempDir(tmp);
  }
}

if (require.main === module) {
  void benchUml().then((rows) => console.table(rows));
}
