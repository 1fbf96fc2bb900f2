// The KTAP parser on real KUnit output: captured from a UML kernel built from Debian's linux-source-6.1 with
// KUNIT, KUNIT_TEST, KUNIT_EXAMPLE_TEST and LIST_KUNIT_TEST (kunit-fail.log: with one list_test_list_add
// expectation changed so that it fails).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { countTests, failures, flatten, parseKtap } from '../../../engine/bisect/ktap.js';

const data = (name: string) => readFileSync(join(__dirname, 'data', name), 'utf8');

describe('KTAP parser', () => {
  it('reads every suite of a passing KUnit run, with nested cases and SKIP directives', () => {
    const report = parseKtap(data('kunit-pass.log'));
    assert.ok(report.found);
    assert.equal(report.missing, 0);
    assert.deepEqual(failures(report), []);
    const example = report.tests.find((t) => t.name === 'example')!;
    assert.equal(example.status, 'pass');
    assert.equal(example.plan, 4);
    assert.deepEqual(
      example.subtests.map((t) => [t.name, t.status, t.reason]),
      [
        ['example_simple_test', 'pass', undefined],
        ['example_skip_test', 'skip', 'this test should be skipped'],
        ['example_mark_skipped_test', 'skip', 'this test should be skipped'],
        ['example_all_expect_macros_test', 'pass', undefined],
      ],
    );
    const list = report.tests.find((t) => t.name === 'list-kunit-test')!;
    assert.ok(list.subtests.length > 30);
    assert.ok(list.subtests.every((t) => t.status === 'pass'));
    // suite numbers run 1..N in order
    assert.deepEqual(
      report.tests.map((t) => t.number),
      report.tests.map((_, i) => i + 1),
    );
  });

  it('names the failing case of a failing run, and only it', () => {
    const report = parseKtap(data('kunit-fail.log'));
    assert.deepEqual(failures(report), ['list-kunit-test.list_test_list_add']);
    assert.equal(report.tests.find((t) => t.name === 'list-kunit-test')!.status, 'fail');
  });

  it('reads the same results through kernel log timestamps', () => {
    const stamped = data('kunit-fail.log')
      .split('\n')
      .map((line, i) => `[    ${(i / 1000).toFixed(6)}] ${line}`)
      .join('\n');
    const plain = parseKtap(data('kunit-fail.log'));
    const report = parseKtap(stamped);
    assert.deepEqual(
      flatten(report.tests).map((t) => [t.path, t.test.status]),
      flatten(plain.tests).map((t) => [t.path, t.test.status]),
    );
  });

  it('notices a run that stopped before its plan was complete (a crash mid-run)', () => {
    const text = data('kunit-pass.log');
    const cut = text.slice(0, text.indexOf('# Subtest: list-kunit-test'));
    const report = parseKtap(cut);
    assert.ok(report.missing > 0);
    assert.equal(report.complete, false);
    assert.equal(parseKtap(text).complete, true);
    // the list suite had announced itself: the running test is its first case
    const inSuite = text.slice(0, text.indexOf('ok 1 list_test_list_init'));
    assert.deepEqual(parseKtap(inSuite).running, { path: ['list-kunit-test'], number: 1 });
  });

  it('counts as kunit.py does: every case without subtests once (kunit.py parse: 81 tests, 79 passed, 2 skipped)', () => {
    const report = parseKtap(data('kunit-pass.log'));
    assert.deepEqual(countTests(report.tests), { passed: 79, failed: 0, skipped: 2 });
  });

  it('handles KTAP v1 nesting, XFAIL and TODO as in Documentation/dev-tools/ktap.rst', () => {
    const text = [
      'KTAP version 1',
      '1..2',
      '  KTAP version 1',
      '  1..3',
      '    KTAP version 1',
      '    1..1',
      '    ok 1 test_1',
      '  ok 1 test_1',
      '  not ok 2 test_2 # XFAIL known bug',
      '  not ok 3 test_3 # TODO not done yet',
      'ok 1 example_test_1',
      'ok 2 example_test_2',
    ].join('\n');
    const report = parseKtap(text);
    assert.deepEqual(failures(report), []);
    const first = report.tests[0]!;
    assert.deepEqual(
      first.subtests.map((t) => t.status),
      ['pass', 'xfail', 'todo'],
    );
    assert.equal(first.subtests[0]!.subtests[0]!.name, 'test_1');
  });

  it('finds nothing in output without a version line, and never throws on garbage', () => {
    assert.equal(parseKtap('ok 1 looks like tap\nnot ok 2 but no header').found, false);
    const junk = Array.from({ length: 2000 }, (_, i) => String.fromCharCode(i % 128).repeat(i % 7)).join('\n');
    assert.doesNotThrow(() => parseKtap(`KTAP version 1\n${junk}\nnot ok 1 x # SKIP\nok`));
  });
});
