// What ccache and distcc buy kwb's builds, each against a reference measured in the same run:
//  - kwb bisect over the fixture series (test/fixtures/bisect-repo.sh): cold ccache (a fresh CCACHE_DIR), then warm
//    (the same dir again), then with two distccd daemons on loopback ports and a cold ccache;
//  - a full build of the small fixture kernel (tinyconfig + uml-tiny.config, O= from Debian's linux-source-6.1):
//    cold ccache, then warm ccache into a fresh O= directory.
// Loopback distcc hosts run on this machine's own cores: they show distcc's overhead and that the plumbing scales
// -j, not a farm's speed-up (a farm of N real hosts divides the compile part, not preprocessing and linking).
import { execFileSync } from 'node:child_process';
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

function kwb(args: string[], env: NodeJS.ProcessEnv): { seconds: number; stderr: string } {
  const t0 = performance.now();
  const stderr = execFileSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { seconds: (performance.now() - t0) / 1000, stderr };
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

export async function benchBuildFarm(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-bench-farm-'));
  const farm = new DistccFarm();
  const rows: BenchRow[] = [];
  try {
    const distccDir = join(dir, 'distcc');
    mkdirSync(distccDir);
    await farm.start(2);
    const hosts = farm.hosts(2);

    const repo = fixture('bisect-repo.sh');
    const warmDir = join(dir, 'ccache-bisect');
    const cold = bisect(repo, { CCACHE_DIR: warmDir });
    const warm = bisect(repo, { CCACHE_DIR: warmDir });
    const distcc = bisect(repo, { CCACHE_DIR: join(dir, 'ccache-bisect-distcc'), DISTCC_DIR: distccDir }, [
      '--distcc',
      hosts,
    ]);
    const describe = (r: BisectRun) => `culprit ${r.culprit}, ccache ${r.hits} hits/${r.misses} misses`;
    rows.push(
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
        note: `${describe(distcc)}; ${hosts}; same CPUs as the reference (loopback)`,
      },
    );

    const source = fixture('linux-source.sh');
    const fragment = join(root, 'test', 'fixtures', 'uml-tiny.config');
    const ccacheDir = join(dir, 'ccache-build');
    const build = (out: string) =>
      kwb(['build', '--tree', source, `O=${join(dir, out)}`, '--base', 'tinyconfig', '--config', fragment, '--stats'], {
        CCACHE_DIR: ccacheDir,
        KWB_CACHE: join(dir, 'kwb'),
      });
    const first = build('out-cold');
    const second = build('out-warm');
    const hits = /ccache: (.*)/.exec(second.stderr)?.[1] ?? '';
    rows.push(
      { name: 'tiny fixture build, cold ccache', value: first.seconds, unit: 's' },
      {
        name: 'tiny fixture build, warm ccache',
        value: second.seconds,
        unit: 's',
        reference: first.seconds,
        ratio: second.seconds / first.seconds,
        note: `${hits}; reference: cold ccache, fresh O= dir each`,
      },
    );
  } finally {
    await farm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  void benchBuildFarm().then((rows) => console.table(rows));
}
