import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { combineRuns, judgeRun, VERDICT_EXIT, type RunVerdict } from '../../../engine/bisect/verdict.js';

const rules = { warnIsBad: true, ktap: false };
const exited = (code: number) => ({ kind: 'exited' as const, code });
/** Output where only the kernel console said something. */
const onConsole = (console: string) => ({ console, command: '' });

describe('verdicts', () => {
  it('follow the command status: 0 good, 125 skip, anything else bad', () => {
    assert.equal(judgeRun(exited(0), onConsole(''), rules).verdict, 'good');
    assert.equal(judgeRun(exited(3), onConsole(''), rules).verdict, 'bad');
    assert.equal(judgeRun(exited(125), onConsole(''), rules).verdict, 'skip');
  });

  it('call a panic, an oops, a BUG or (by default) a WARNING bad even when the command passed', () => {
    assert.equal(
      judgeRun({ kind: 'panic', detail: 'Kernel panic - not syncing: x' }, onConsole(''), rules).verdict,
      'bad',
    );
    const oops = judgeRun(
      exited(0),
      onConsole('ok\nBUG: kernel NULL pointer dereference, address: 0000000000000000\n'),
      rules,
    );
    assert.deepEqual(
      [oops.verdict, oops.reason],
      ['bad', 'kernel BUG: BUG: kernel NULL pointer dereference, address: 0000000000000000'],
    );
    const warn = 'WARNING: CPU: 0 PID: 1 at kernel/sys.c:1300 __do_sys_newuname+0x1c/0x30\n';
    assert.equal(judgeRun(exited(0), onConsole(warn), rules).verdict, 'bad');
    assert.equal(judgeRun(exited(0), onConsole(warn), { ...rules, warnIsBad: false }).verdict, 'good');
  });

  it("never read the command's own output as the kernel's: a WARNING it prints is not a kernel warning", () => {
    const said = { console: '', command: 'WARNING: CPU: 0 PID: 1 at kernel/sys.c:1300 (printed by the test)\n' };
    assert.deepEqual(judgeRun(exited(0), said, rules), { verdict: 'good', reason: 'the command exited 0' });
  });

  it('with --ktap: read KTAP from the console, else from the command output (kselftests print it there)', () => {
    const ktap = { warnIsBad: true, ktap: true };
    const fromCommand = { console: '', command: 'KTAP version 1\n1..2\nok 1 a\nnot ok 2 b\n' };
    assert.equal(judgeRun(exited(0), fromCommand, ktap).reason, 'KTAP: 1 failed: b');
  });

  it('call a timeout bad and a guest that could not start skip', () => {
    assert.equal(judgeRun({ kind: 'timeout' }, onConsole(''), rules).verdict, 'bad');
    assert.equal(judgeRun({ kind: 'failed-to-start', detail: 'x' }, onConsole(''), rules).verdict, 'skip');
  });

  it('with --ktap: failed KUnit cases are bad, no KTAP at all is skip', () => {
    const ktap = { warnIsBad: true, ktap: true };
    const fail = readFileSync(join(__dirname, 'data', 'kunit-fail.log'), 'utf8');
    const pass = readFileSync(join(__dirname, 'data', 'kunit-pass.log'), 'utf8');
    const failed = judgeRun(exited(0), onConsole(fail), ktap);
    assert.equal(failed.verdict, 'bad');
    assert.match(failed.reason, /list-kunit-test\.list_test_list_add/);
    // kunit.py parse on the same logs: "Ran 81 tests: passed: 78, failed: 1, skipped: 2" and "passed: 79, skipped: 2"
    assert.deepEqual(
      [failed.ktap!.passed, failed.ktap!.failed, failed.ktap!.skipped, failed.ktap!.failures],
      [78, 1, 2, ['list-kunit-test.list_test_list_add']],
    );
    assert.equal(failed.ktap!.tests.length, 81);
    assert.deepEqual(failed.ktap!.tests.find((t) => t.status === 'fail')!.log, [
      '# list_test_list_add: EXPECTATION FAILED at lib/list-test.c:55',
      'Expected list.next == &a, but',
      '    list.next == 000000009887bee0',
      '    &a == 000000009887bed0',
    ]);
    const passed = judgeRun(exited(0), onConsole(pass), ktap);
    assert.deepEqual([passed.verdict, passed.ktap!.passed, passed.ktap!.skipped], ['good', 79, 2]);
    assert.equal(judgeRun(exited(0), onConsole('no tests here'), ktap).verdict, 'skip');
  });

  it('with --ktap: a complete plan decides alone, whatever the kernel did after it', () => {
    const ktap = { warnIsBad: true, ktap: true };
    const pass = readFileSync(join(__dirname, 'data', 'kunit-pass.log'), 'utf8');
    // kunit.py-built kernels WARN at boot (um_pci_init), halt (kunit_shutdown=halt) before kwb's init runs, or
    // panic on a root they cannot mount
    const afterwards = [
      { kind: 'failed-to-start' as const, detail: 'the guest stopped before running the command' },
      { kind: 'panic' as const, detail: 'Kernel panic - not syncing: VFS: Unable to mount root fs' },
      exited(0),
    ];
    for (const result of afterwards) assert.equal(judgeRun(result, onConsole(pass), ktap).verdict, 'good');
  });

  it('with --ktap: a crash or a hang before the plan is complete is bad and names the running test', () => {
    const pass = readFileSync(join(__dirname, 'data', 'kunit-pass.log'), 'utf8');
    // cut inside the list suite, after its first case reported
    const cut = pass.slice(0, pass.indexOf('ok 2 list_test_list_add'));
    const cases = new Map([['list-kunit-test', ['list_test_list_init', 'list_test_list_add']]]);
    const ktap = { warnIsBad: true, ktap: true, caseName: (s: string, n: number) => cases.get(s)?.[n - 1] };
    const panic = judgeRun({ kind: 'panic', detail: 'Kernel panic - not syncing: oops' }, onConsole(cut), ktap);
    assert.equal(panic.verdict, 'bad');
    assert.match(
      panic.reason,
      /kernel panic \(Kernel panic - not syncing: oops\) in list-kunit-test\.list_test_list_add/,
    );
    const hang = judgeRun({ kind: 'timeout' }, onConsole(cut), ktap);
    assert.match(hang.reason, /^KTAP: timeout in list-kunit-test\.list_test_list_add before the plan was complete/);
    // without the kernel's tables: the suite and the case's number
    const unnamed = judgeRun({ kind: 'timeout' }, onConsole(cut), { warnIsBad: true, ktap: true });
    assert.match(unnamed.reason, /in list-kunit-test test 2 /);
    assert.equal(unnamed.ktap!.running, 'list-kunit-test test 2');
  });

  it('combine runs: bad at the threshold, skipped runs do not count', () => {
    const good: RunVerdict = { verdict: 'good', reason: 'g' };
    const bad: RunVerdict = { verdict: 'bad', reason: 'b' };
    const skip: RunVerdict = { verdict: 'skip', reason: 's' };
    assert.equal(combineRuns([good, bad, good], { badThreshold: 1 }).verdict, 'bad');
    assert.equal(combineRuns([good, bad, good], { badThreshold: 2 }).verdict, 'good');
    assert.equal(combineRuns([bad, skip, bad], { badThreshold: 2 }).verdict, 'bad');
    assert.equal(combineRuns([skip, skip], { badThreshold: 1 }).verdict, 'skip');
    assert.deepEqual(VERDICT_EXIT, { good: 0, bad: 1, skip: 125 });
  });
});
