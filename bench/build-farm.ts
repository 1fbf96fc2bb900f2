// What ccache and distcc buy kwb's builds, each against a reference measured in the same run:
//  - kwb bisect over the fixture series (test/fixtures/bisect-repo.sh): cold ccache (a fresh CCACHE_DIR), then warm
//    (the same dir again), then with two distccd daemons on loopback ports and a cold ccache;
//  - a full build of the small fixture kernel (tinyconfig + uml-tiny.config, O= from Debian's linux-source-6.1) from
//    an empty O= directory: cold ccache, warm ccache (the same directory emptied), and cold ccache with two loopback
//    distcc hosts.
// Loopback distcc hosts run on this machine's own cores: they show distcc's overhead and that the plumbing scales
// -j, not a farm's speed-up (a farm of N real hosts divides the compile part, not preprocessing and linking).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistccFarm } from '../test/helpers/distccd.js';
import type { BenchRow } from './row.js';

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const fixture = (script: string) =>
  execFileSync('bash', [join(root, 'test', 'fixtures', script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();

function kwb(args: string[], env: NodeJS.ProcessEnv, extra: string[] = []): { seconds: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`kwb ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  // its --stats lines are on stderr
  return { seconds: (performance.now() - t0) / 1000, stderr: r.stderr };
}

interface BisectRun {
  seconds: number;
  culprit: string;
  hits: number;
  misses: number;
}

function bisect(repo: string, env: NodeJS.ProcessEnv, extra: string[] = []): BisectRun {
  kwb(['bisect', '--tree', repo, '--reset'], env);
  execFileSync('git', ['-C', repo, 'checkout', '--quiet', 'main']);
  const test = ['--', 'sh', '-c', 'test "$(uname -s)" = Linux'];
  const { seconds } = kwb(['bisect', '--tree', repo, '--good', 'main~7', '--bad', 'main', ...extra, ...test], env);
  const report = JSON.parse(readFileSync(join(repo, '.git', 'kwb-bisect', 'report.json'), 'utf8')) as {
    firstBad: string;
    steps: { ccache?: { hits: number; misses: number } }[];
  };
  const sum = (k: 'hits' | 'misses') => report.steps.reduce((n, s) => n + (s.ccache?.[k] ?? 0), 0);
  return { seconds, culprit: report.firstBad.slice(0, 12), hits: sum('hits'), misses: sum('misses') };
}

/** Two distccd daemons on loopback ports and a DISTCC_DIR of their own, for `body`; stopped after it. */
async function withFarm<T>(dir: string, body: (hosts: string, distccDir: string) => T): Promise<T> {
  const farm = new DistccFarm();
  const distccDir = join(dir, 'distcc');
  mkdirSync(distccDir, { recursive: true });
  try {
    await farm.start(2);
    return body(farm.hosts(2), distccDir);
  } finally {
    await farm.stop();
  }
}

/** kwb bisect over the fixture series: cold ccache, warm ccache, cold ccache with two loopback distcc hosts. */
export async function benchFarmBisect(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-bench-farm-'));
  try {
    const repo = fixture('bisect-repo.sh');
    const warmDir = join(dir, 'ccache');
    const cold = bisect(repo, { CCACHE_DIR: warmDir });
    const warm = bisect(repo, { CCACHE_DIR: warmDir });
    const [distcc, hosts] = await withFarm(
      dir,
      (hosts, distccDir) =>
        [
          bisect(repo, { CCACHE_DIR: join(dir, 'ccache-distcc'), DISTCC_DIR: distccDir }, ['--distcc', hosts]),
          hosts,
        ] as const,
    );
    const describe = (r: BisectRun) => `culprit ${r.culprit}, ccache ${r.hits} hits/${r.misses} misses`;
    return [
      { name: 'bisect, cold ccache', value: cold.seconds, unit: 's', note: describe(cold) },
      {
        name: 'bisect, warm ccache',
        value: warm.seconds,
        unit: 's',
        reference: cold.seconds,
        ratio: warm.seconds / cold.seconds,
        note: `${describe(warm)}; reference: cold ccache`,
      },
      {
        name: 'bisect, cold ccache + 2 loopback distcc hosts',
        value: distcc.seconds,
        unit: 's',
        reference: cold.seconds,
        ratio: distcc.seconds / cold.seconds,
        note: `${describe(distcc)}; ${hosts}; the same CPUs as the reference (loopback)`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A full build of the small fixture kernel into a fresh O= dir: cold ccache, warm ccache, cold ccache + distcc. */
export async function benchFarmBuild(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-bench-farm-'));
  try {
    const source = fixture('linux-source.sh');
    const fragment = join(root, 'test', 'fixtures', 'uml-tiny.config');
    const build = (out: string, ccache: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
      kwb(
        ['build', '--tree', source, `O=${join(dir, out)}`, '--base', 'tinyconfig', '--config', fragment, '--stats'],
        { CCACHE_DIR: join(dir, ccache), KWB_CACHE: join(dir, 'kwb'), ...env },
        extra,
      );
    // the warm build goes into the same (emptied) O= directory: with debug info ccache hashes the directory it
    // compiles in, so a from-scratch rebuild of the same tree there is what hits it
    const cold = build('out', 'ccache');
    rmSync(join(dir, 'out'), { recursive: true, force: true });
    const warm = build('out', 'ccache');
    const distcc = await withFarm(dir, (hosts, distccDir) =>
      build('out-distcc', 'ccache-distcc', ['--distcc', hosts], { DISTCC_DIR: distccDir }),
    );
    const line = (r: { stderr: string }, what: string) => new RegExp(`^${what}: (.*)$`, 'm').exec(r.stderr)?.[1] ?? '';
    return [
      { name: 'tiny fixture build, cold ccache', value: cold.seconds, unit: 's', note: line(cold, 'ccache') },
      {
        name: 'tiny fixture build, warm ccache',
        value: warm.seconds,
        unit: 's',
        reference: cold.seconds,
        ratio: warm.seconds / cold.seconds,
        note: `${line(warm, 'ccache')}; reference: cold ccache`,
      },
      {
        name: 'tiny fixture build, cold ccache + 2 loopback distcc hosts',
        value: distcc.seconds,
        unit: 's',
        reference: cold.seconds,
        ratio: distcc.seconds / cold.seconds,
        note: `${line(distcc, 'distcc')}; the same CPUs as the reference (loopback)`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void benchFarmBuild().then((rows) => console.table(rows));
}
