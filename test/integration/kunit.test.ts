// KUnit as kernel developers run it, on a kernel kunit.py built (test/fixtures/build-kunit.sh: lib/kunit's
// kunitconfig; kunit_example_test.kwb_fault=fail|panic|hang makes example_simple_test fail, crash or hang):
// kwb's verdicts and counts against kunit.py's own parser on the same console log, a crash and a hang named, kwb kunit
// building through kunit.py, and the failing test opened in gdb and in the debug adapter.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FIXTURE_TIMEOUT_MS, kunitTree } from '../helpers/fixtures.js';
import { FAULT, kunitPyParse, ranFromJson, ranLine, type KtapJson } from '../helpers/kunit.js';
import { Sandbox } from '../helpers/kwb.js';

describe('KUnit on a kunit.py-built kernel', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  const box = new Sandbox();
  let tree: string;
  let kernel: string;
  let logs: string;
  before(() => {
    tree = kunitTree();
    kernel = join(tree, '.kunit', 'linux');
    logs = mkdtempSync(join(tmpdir(), 'kwb-kunit-logs-'));
  });
  after(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    rmSync(logs, { recursive: true, force: true });
  });

  const kunitPy = (log: string) => kunitPyParse(tree, log);

  it('passing and failing runs: exit 0 and 1, with the counts and failures kunit.py parses from the same log', async () => {
    for (const [fault, code] of [
      ['', 0],
      ['fail', 1],
    ] as const) {
      const log = join(logs, `${fault || 'pass'}.log`);
      const append = fault ? ['--append', `${FAULT}=${fault}`] : [];
      const r = await box.run(['test', '--kernel', kernel, '--ktap', '--json', '--log', log, ...append]);
      assert.equal(r.code, code, r.stderr);
      const json = JSON.parse(r.stdout) as KtapJson;
      const ours = ranFromJson(json);
      assert.equal(ours, kunitPy(log));
      assert.ok(json.ktap.passed > 10);
      assert.equal(json.ktap.tests.length, json.ktap.passed + json.ktap.failed + json.ktap.skipped);
      assert.deepEqual(json.ktap.failures, fault ? ['example.example_simple_test'] : []);
      // the human lines: kunit.py's summary, and the failed expectation with its values
      assert.match(r.stderr, new RegExp(`^Testing complete\\. ${ours}$`, 'm'));
      if (fault) {
        assert.match(
          r.stderr,
          // the log: the suite's init line, then the failed expectation and its values
          /^\[FAILED\] {2}example\.example_simple_test\n(?: {4}.*\n)*? {4}# example_simple_test: EXPECTATION FAILED at lib\/kunit\/kunit-example-test\.c:\d+\n {4}Expected 1 \+ 1 == 3, but/m,
        );
        assert.match(json.reason, /^KTAP: \d+ passed, 1 failed, \d+ skipped; failed: example\.example_simple_test$/);
      }
    }
  });

  it('a kernel that panics inside a test is bad and names the test', async () => {
    const r = await box.run(['test', '--kernel', kernel, '--ktap', '--append', `${FAULT}=panic`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /kwb test: bad: KTAP: kernel panic \(.*\) in example\.example_simple_test before the plan/);
  });

  it('a test that hangs is a timeout naming it', async () => {
    const r = await box.run(['test', '--kernel', kernel, '--ktap', '--timeout', '20', '--append', `${FAULT}=hang`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /kwb test: bad: KTAP: timeout in example\.example_simple_test before the plan was complete/);
  });

  it('kwb kunit builds with kunit.py (up to date here), boots only the filtered suite and prints its results', async () => {
    const r = await box.run([
      'kunit',
      '--tree',
      tree,
      '--kunitconfig',
      'lib/kunit',
      'example',
      '--append',
      `${FAULT}=fail`,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^\[FAILED\] {2}example \(/m);
    assert.doesNotMatch(r.stdout, /kunit_executor_test/);
    assert.match(r.stdout, /^Testing complete\. Ran \d+ tests: passed: \d+, failed: 1/m);
    // kunit.py keeps the console in BUILD_DIR/test.log, and parses it the same
    assert.equal(ranLine(r.stdout), kunitPy(join(tree, '.kunit', 'test.log')));
  });

  it('kwb kunit --gdb stops at the failing expectation with the failing test selected (bt shows it)', async () => {
    const r = await box.run(
      ['kunit', '--tree', tree, '--no-build', '--gdb', '0', '--append', `${FAULT}=fail`, 'example'],
      { input: 'bt\nkill\nquit\n' },
    );
    // the selected frame gdb printed after `up`, then the backtrace from the test down through KUnit
    assert.match(r.stdout, /a KUnit expectation failed/);
    assert.match(
      r.stdout,
      // (gdb wraps the line at 80 columns off a terminal)
      /^#1 .*example_simple_test \(test=[^)]*\)\s+at (?:\.\.\/)?lib\/kunit\/kunit-example-test\.c:\d+/m,
    );
    assert.match(r.stdout, /^(?:\(gdb\) )?#0 .*kunit_do_failed_assertion/m); // after the prompt: bt was typed
    assert.match(r.stdout, /^#2 .*kunit_try_run_case|^#2 .*kunit_run/m);
  });
});

describe('the debug adapter in KUnit mode', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let dc: DebugClient;
  before(async () => {
    dc = new DebugClient('node', join(__dirname, '..', '..', 'dist', 'debugAdapter.js'), 'kwb');
    dc.defaultTimeout = 60_000;
    await dc.start();
  });
  after(async () => {
    await dc.stop().catch(() => {});
  });

  it("stops at the first failing expectation, the test's frame first in view", async () => {
    const tree = kunitTree();
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launch({ kernel: join(tree, '.kunit', 'linux'), kunit: 'example', append: `${FAULT}=fail` } as never);
    await initialized;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const e = (await stopped) as DebugProtocol.StoppedEvent;
    assert.equal(e.body.reason, 'exception');
    assert.match(e.body.text ?? '', /KUnit expectation failed/);
    const st = await dc.stackTraceRequest({ threadId: e.body.threadId! });
    const [kunit, test] = st.body.stackFrames;
    assert.equal(kunit!.name, 'kunit_do_failed_assertion');
    assert.equal(kunit!.source?.presentationHint, 'deemphasize');
    assert.equal(test!.name, 'example_simple_test');
    assert.match(test!.source!.path!, /lib\/kunit\/kunit-example-test\.c$/);
    assert.equal(test!.source?.presentationHint, undefined);
    await dc.terminateRequest().catch(() => {});
  });
});

describe('kwb bisect on a KUnit regression', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  const box = new Sandbox();
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  before(async () => {
    repo = execFileSync('bash', [join(__dirname, '..', 'fixtures', 'bisect-repo.sh'), 'kunit'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    // a previous run that died halfway must not leak into this one
    await box.run(['bisect', '--tree', repo, '--reset']);
    git('checkout', '--quiet', 'main');
    rmSync(join(repo, '.git', 'kwb-bisect'), { recursive: true, force: true });
  });
  after(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
  });

  it('builds each step with kunit.py, judges it by KTAP, skips the commit that does not build', async () => {
    const culprit = git('log', '--format=%H', '--grep=expect 1 + 1 to be 3', 'main');
    const broken = git('log', '--format=%H', '--grep=breaks the build', 'main');
    const r = await box.run([
      'bisect',
      '--tree',
      repo,
      '--good',
      'main~5',
      '--bad',
      'main',
      '--kunitconfig',
      'lib/kunit',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`first bad commit: ${culprit.slice(0, 12)} kunit: example: expect 1 \\+ 1`));
    const report = JSON.parse(readFileSync(join(repo, '.git', 'kwb-bisect', 'report.json'), 'utf8')) as {
      firstBad: string;
      steps: { commit: string; verdict: string; reason: string }[];
    };
    assert.equal(report.firstBad, culprit);
    assert.match(
      report.steps[1]!.reason,
      /^KTAP: \d+ passed, 1 failed, \d+ skipped; failed: example\.example_simple_test$/,
    );
    const skipped = report.steps.find((s) => s.commit === broken);
    assert.deepEqual([skipped?.verdict, skipped?.reason], ['skip', 'the kernel does not build']);
    assert.equal(git('symbolic-ref', '--short', 'HEAD'), 'main');
    assert.equal(git('status', '--porcelain', '--untracked-files=no'), '');
  });
});
