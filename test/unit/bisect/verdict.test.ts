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
    // these kernels WARN at boot (um_pci_init, virt-pci.c): a real warning, caught unless --warn-ok
    const ktap = { warnIsBad: false, ktap: true };
    const fail = readFileSync(join(__dirname, 'data', 'kunit-fail.log'), 'utf8');
    const pass = readFileSync(join(__dirname, 'data', 'kunit-pass.log'), 'utf8');
    assert.match(judgeRun(exited(0), onConsole(fail), ktap).reason, /list-kunit-test\.list_test_list_add/);
    assert.equal(judgeRun(exited(0), onConsole(pass), ktap).verdict, 'good');
    assert.equal(judgeRun(exited(0), onConsole('no tests here'), ktap).verdict, 'skip');
    assert.match(
      judgeRun(exited(0), onConsole(pass), { ...ktap, warnIsBad: true }).reason,
      /^kernel warning: WARNING: CPU: 0 PID: 1 at arch\/um\/drivers\/virt-pci\.c/,
    );
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
