// kwb bisect's own cost per step beyond the kernel build (boot + test + git + bookkeeping), on the bisect fixture
// repo (test/fixtures/bisect-repo.sh). Goal: at most 3 s per step. Reference: the build time of the same steps.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow } from './row.js';

export async function benchBisect(): Promise<BenchRow[]> {
  const repo = execFileSync('bash', [join(__dirname, '..', 'test', 'fixtures', 'bisect-repo.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const cli = join(__dirname, '..', 'dist', 'cli.js');
  const kwb = (...args: string[]) =>
    execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  kwb('bisect', '--tree', repo, '--reset');
  execFileSync('git', ['-C', repo, 'checkout', '--quiet', 'main']);
  const t0 = performance.now();
  kwb('bisect', '--tree', repo, '--good', 'main~7', '--bad', 'main', '--', 'sh', '-c', 'test "$(uname -s)" = Linux');
  const wall = (performance.now() - t0) / 1000;
  const report = JSON.parse(readFileSync(join(repo, '.git', 'kwb-bisect', 'report.json'), 'utf8')) as {
    steps: { buildSeconds: number; testSeconds: number }[];
  };
  const build = report.steps.reduce((sum, s) => sum + s.buildSeconds, 0);
  const steps = report.steps.length;
  const perStep = (wall - build) / steps;
  return [
    {
      name: 'bisect: overhead per step beyond the build',
      value: perStep,
      unit: 's',
      reference: build / steps,
      goal: '<= 3 s',
      note: `${steps} steps, ${wall.toFixed(1)} s wall; reference: mean incremental build per step`,
    },
  ];
}

if (require.main === module) {
  void benchBisect().then((rows) => console.table(rows));
}
