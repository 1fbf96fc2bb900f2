// KUnit on kwb's rv64 engine, on a RISC-V kernel kunit.py built with its riscv qemu_config (test/fixtures/
// build-kunit.sh riscv; kunit_example_test.kwb_fault=fail makes example_simple_test fail): kwb's verdicts and counts
// against kunit.py's own parser on the same console log, kwb kunit --arch riscv building through kunit.py, and the
// failing test opened in gdb-multiarch and in the debug adapter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FIXTURE_TIMEOUT_MS, KUNIT_RISCV, kunitTree } from '../helpers/fixtures.js';
import { FAULT, kunitPyParse, ranFromJson, ranLine, type KtapJson } from '../helpers/kunit.js';
import { Sandbox } from '../helpers/kwb.js';
import { rv64QemuSkipReason } from '../helpers/rv64.js';

const skip =
  spawnSync('gdb-multiarch', ['--version'], { stdio: 'ignore' }).status !== 0
    ? 'gdb-multiarch is not installed (scripts/setup.sh --riscv)'
    : rv64QemuSkipReason();

describe(
  'KUnit on the rv64 engine, kernel built by kunit.py --arch riscv',
  { skip, timeout: FIXTURE_TIMEOUT_MS },
  () => {
    const box = new Sandbox();
    let tree: string;
    let kernel: string;
    let logs: string;
    before(() => {
      tree = kunitTree('riscv');
      kernel = join(tree, KUNIT_RISCV.kernel);
      logs = mkdtempSync(join(tmpdir(), 'kwb-kunit-rv64-logs-'));
    });
    after(() => {
      assert.deepEqual(box.leftovers(), { files: [], processes: [] });
      box.dispose();
      rmSync(logs, { recursive: true, force: true });
    });

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
        assert.equal(ranFromJson(json), kunitPyParse(tree, log));
        assert.ok(json.ktap.passed > 10);
        assert.deepEqual(json.ktap.failures, fault ? ['example.example_simple_test'] : []);
        if (fault)
          assert.match(
            r.stderr,
            /^ {4}# example_simple_test: EXPECTATION FAILED at lib\/kunit\/kunit-example-test\.c:\d+$/m,
          );
      }
    });

    it('kwb kunit --arch riscv builds with kunit.py (up to date here), boots only the filtered suite', async () => {
      const r = await box.run([
        'kunit',
        '--arch',
        'riscv',
        '--tree',
        tree,
        '--build-dir',
        KUNIT_RISCV.buildDir,
        '--kunitconfig',
        'lib/kunit',
        'example',
        '--append',
        `${FAULT}=fail`,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /kunit\.py build in .*\.kunit-riscv/);
      assert.match(r.stdout, /^\[FAILED\] {2}example \(/m);
      assert.doesNotMatch(r.stdout, /kunit_executor_test/);
      assert.match(r.stdout, /^Testing complete\. Ran \d+ tests: passed: \d+, failed: 1/m);
      assert.equal(ranLine(r.stdout), kunitPyParse(tree, join(tree, KUNIT_RISCV.buildDir, 'test.log')));
    });

    it('kwb kunit --arch riscv --gdb stops at the failing expectation with the failing test selected', async () => {
      const r = await box.run(
        [
          'kunit',
          '--arch',
          'riscv',
          '--tree',
          tree,
          '--build-dir',
          KUNIT_RISCV.buildDir,
          '--no-build',
          '--gdb',
          '0',
          '--append',
          `${FAULT}=fail`,
          'example',
        ],
        { input: 'bt\nkill\nquit\n' },
      );
      assert.match(r.stdout, /a KUnit expectation failed/, r.stderr);
      assert.match(
        r.stdout,
        /^#1 .*example_simple_test \(test=[^)]*\)\s+at (?:\.\.\/)?lib\/kunit\/kunit-example-test\.c:\d+/m,
      );
      assert.match(r.stdout, /^(?:\(gdb\) )?#0 .*kunit_do_failed_assertion/m);
      assert.match(r.stdout, /^#2 .*kunit_try_run_case|^#2 .*kunit_run/m);
    });
  },
);

describe('the debug adapter in KUnit mode on rv64', { skip, timeout: FIXTURE_TIMEOUT_MS }, () => {
  let dc: DebugClient;
  before(async () => {
    dc = new DebugClient('node', join(__dirname, '..', '..', 'dist', 'debugAdapter.js'), 'kwb');
    dc.defaultTimeout = 120_000;
    await dc.start();
  });
  after(async () => {
    await dc.stop().catch(() => {});
  });

  it("stops at the first failing expectation, the test's frame first in view", async () => {
    const tree = kunitTree('riscv');
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launch({ kernel: join(tree, KUNIT_RISCV.kernel), kunit: 'example', append: `${FAULT}=fail` } as never);
    await initialized;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const e = (await stopped) as DebugProtocol.StoppedEvent;
    assert.equal(e.body.reason, 'exception');
    const st = await dc.stackTraceRequest({ threadId: e.body.threadId! });
    const [kunit, test] = st.body.stackFrames;
    assert.equal(kunit!.name, 'kunit_do_failed_assertion');
    assert.equal(test!.name, 'example_simple_test');
    assert.match(test!.source!.path!, /lib\/kunit\/kunit-example-test\.c$/);
    await dc.terminateRequest().catch(() => {});
  });
});
