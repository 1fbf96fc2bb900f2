// kwb test and kwb bisect on real kernels: verdicts from a real guest, a flaky test decided by --runs, and a real
// bisect over a kernel git tree (test/fixtures/bisect-repo.sh) that is interrupted, resumed, skips a commit that does
// not build, names the culprit and puts the tree back; run again with the same (fresh) CCACHE_DIR, it names the same
// culprit with cache hits.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, collect, until } from '../helpers/kwb.js';

describe('kwb test', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  const box = new Sandbox();
  let shared: string;
  before(() => {
    umlKernel();
    shared = mkdtempSync(join(tmpdir(), 'kwb-flaky-'));
  });
  after(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    rmSync(shared, { recursive: true, force: true });
  });

  // fails on its second run only: a flaky test
  const flaky = ['sh', '-c', 'n=$(cat /s/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /s/count; [ $n -ne 2 ]'];

  it('decides a flaky test by --runs: bad when any run is bad, good below --bad-threshold', async () => {
    rmSync(join(shared, 'count'), { force: true });
    const any = await box.run([
      'test',
      '--kernel',
      umlKernel(),
      '--share',
      `${shared}:/s`,
      '--runs',
      '3',
      '--',
      ...flaky,
    ]);
    assert.equal(any.code, 1, any.stderr);
    assert.match(any.stderr, /run 2\/3: bad \(the command exited 1\)/);
    assert.match(any.stderr, /kwb test: bad: 1 of 3 runs bad; first: the command exited 1$/m);
    rmSync(join(shared, 'count'), { force: true });
    const threshold = await box.run([
      'test',
      '--kernel',
      umlKernel(),
      '--share',
      `${shared}:/s`,
      '--runs',
      '3',
      '--bad-threshold',
      '2',
      '--json',
      '--',
      ...flaky,
    ]);
    assert.equal(threshold.code, 0, threshold.stderr);
    const json = JSON.parse(threshold.stdout) as { verdict: string; runs: { verdict: string }[] };
    assert.equal(json.verdict, 'good');
    assert.deepEqual(
      json.runs.map((r) => r.verdict),
      ['good', 'bad', 'good'],
    );
  });

  it('reads KTAP printed in the guest and names the failed case', async () => {
    const data = join(__dirname, '..', 'unit', 'bisect', 'data');
    const r = await box.run([
      'test',
      '--kernel',
      umlKernel(),
      '--warn-ok',
      '--ktap',
      '--share',
      `${data}:/d`,
      '--',
      'sh',
      '-c',
      'grep -A10000 "^KTAP version" /d/kunit-fail.log',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /bad: .*KTAP: 1 failed: list-kunit-test\.list_test_list_add/);
  });

  it('gives git bisect run its codes: panic is bad (1), a kernel it cannot boot is skip (125)', async () => {
    const panic = await box.run(['test', '--kernel', umlKernel(), '--', 'sh', '-c', 'echo c > /proc/sysrq-trigger']);
    assert.equal(panic.code, 1);
    const missing = await box.run(['test', '--kernel', join(shared, 'no-such-kernel'), '--', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /skip: cannot test/);
  });
});

describe('kwb bisect', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  const box = new Sandbox();
  // a fresh ccache for this run's bisects: the first one fills it, the second one must hit it
  const ccacheDir = mkdtempSync(join(tmpdir(), 'kwb-bisect-ccache-'));
  const env = { CCACHE_DIR: ccacheDir };
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  before(() => {
    repo = execFileSync('bash', [join(__dirname, '..', 'fixtures', 'bisect-repo.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    // a previous run that died halfway must not leak into this one
    execFileSync(
      process.execPath,
      [join(__dirname, '..', '..', 'dist', 'cli.js'), 'bisect', '--tree', repo, '--reset'],
      { stdio: 'ignore' },
    );
    git('checkout', '--quiet', 'main');
    rmSync(join(repo, '.git', 'kwb-bisect'), { recursive: true, force: true });
  });
  after(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    rmSync(ccacheDir, { recursive: true, force: true });
  });
  const culpritOf = () => git('log', '--format=%H', '--grep=lower-case the system name', 'main');
  const test = ['--', 'sh', '-c', 'test "$(uname -s)" = Linux'];
  const reportFile = () => join(repo, '.git', 'kwb-bisect', 'report.json');

  it('is interrupted, resumed, skips the commit that does not build, names the culprit and restores the tree', async () => {
    const culprit = culpritOf();
    const broken = git('log', '--format=%H', '--grep=breaks the build', 'main');
    const state = join(repo, '.git', 'kwb-bisect', 'state.json');
    const steps = () =>
      existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as { steps: unknown[] }).steps.length : 0;

    const first = box.start(['bisect', '--tree', repo, '--good', 'main~7', '--bad', 'main', ...test], { env });
    const firstDone = collect(first);
    await until(() => steps() >= 2, 'the endpoint checks to be recorded', 10 * 60_000).catch(async (err: unknown) => {
      first.kill('SIGTERM'); // a bisect left building would hold the test file open and load the machine
      await firstDone;
      throw err;
    });
    first.kill('SIGINT');
    const interrupted = await firstDone;
    assert.equal(interrupted.code, 122, interrupted.stderr);
    assert.match(interrupted.stderr, /kwb bisect --resume/);
    assert.match(git('bisect', 'log'), /git bisect start/);

    const resumed = await box.run(['bisect', '--tree', repo, '--resume'], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(
      resumed.stderr,
      new RegExp(`first bad commit: ${culprit.slice(0, 12)} kernel/sys: lower-case the system name`),
    );

    const report = JSON.parse(readFileSync(reportFile(), 'utf8')) as {
      firstBad: string;
      steps: { commit: string; verdict: string; reason: string; role: string; buildSeconds: number }[];
    };
    assert.equal(report.firstBad, culprit);
    assert.deepEqual(
      report.steps.slice(0, 2).map((s) => [s.role, s.verdict]),
      [
        ['check-good', 'good'],
        ['check-bad', 'bad'],
      ],
    );
    const skipped = report.steps.find((s) => s.commit === broken);
    assert.deepEqual([skipped?.verdict, skipped?.reason], ['skip', 'the kernel does not build']);
    assert.ok(report.steps.every((s) => s.buildSeconds > 0));
    assert.match(
      readFileSync(join(repo, '.git', 'kwb-bisect', 'report.md'), 'utf8'),
      /First bad commit: `[0-9a-f]{12}` kernel\/sys: lower-case/,
    );

    // the user's branch and tree are as they were
    assert.equal(git('symbolic-ref', '--short', 'HEAD'), 'main');
    assert.equal(git('status', '--porcelain', '--untracked-files=no'), '');
    assert.throws(() => git('bisect', 'log'));
  });

  it('run again with the same ccache, names the same culprit from cache hits', async () => {
    const again = await box.run(['bisect', '--tree', repo, '--good', 'main~7', '--bad', 'main', ...test], { env });
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(readFileSync(reportFile(), 'utf8')) as {
      firstBad: string;
      steps: { ccache?: { hits: number; misses: number } }[];
    };
    assert.equal(report.firstBad, culpritOf());
    const hits = report.steps.reduce((n, s) => n + (s.ccache?.hits ?? 0), 0);
    assert.ok(hits > 0, again.stderr);
    assert.match(again.stderr, /ccache [1-9]\d* hits/);
  });
});
