// kwb kunit's pure parts: kunit.py's build arguments, the FILTER_GLOB word, kunit.filter_glob matching (the
// kernel's glob_match), the launch.json kunit mode's kernel parameters and the kunit.py-style result lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterWord } from '../../../cli/kunit.js';
import { formatKtap } from '../../../cli/ktap-print.js';
import { kunitBuildArgs } from '../../../engine/kunit/build.js';
import { FAILED_ASSERTION, kunitGdbScript } from '../../../engine/kunit/debug.js';
import { casesRun, globMatch } from '../../../engine/kunit/suites.js';
import { stopsBeforeRoot } from '../../../engine/guest.js';
import { kunitAppend, kwbBootArgs } from '../../../extension/adapter/launch.js';

describe('kwb kunit', () => {
  it("drives kunit.py build with the user's kunitconfigs and kwb's debug options", () => {
    const args = kunitBuildArgs({
      buildDir: '/t/.kunit',
      arch: 'um',
      kunitconfigs: ['/t/lib/kunit'],
      kconfigAdd: ['CONFIG_X=y'],
      jobs: 3,
    });
    assert.deepEqual(args.slice(0, 5), ['build', '--build_dir', '/t/.kunit', '--kunitconfig', '/t/lib/kunit']);
    assert.ok(args.join(' ').includes('--kconfig_add CONFIG_DEBUG_INFO_DWARF5=y'));
    assert.ok(args.join(' ').includes('--kconfig_add CONFIG_X=y'));
    assert.deepEqual(args.slice(-4), ['--arch', 'um', '--jobs', '3']);
    const riscv = kunitBuildArgs({ buildDir: '/b', arch: 'riscv', kunitconfigs: [], kconfigAdd: [] });
    assert.ok(riscv.join(' ').includes('--arch riscv --cross_compile riscv64-linux-gnu-'));
    assert.ok(!riscv.includes('--kunitconfig'));
  });

  it('takes FILTER_GLOB as a word, as kunit.py does, and leaves option values alone', () => {
    assert.deepEqual(filterWord(['example', '--timeout', '30']), ['--filter', 'example', '--timeout', '30']);
    assert.deepEqual(filterWord(['--kunitconfig', 'lib/kunit', 'ex*.simple']), [
      '--kunitconfig',
      'lib/kunit',
      '--filter',
      'ex*.simple',
    ]);
    assert.deepEqual(filterWord(['--json', 'a', '--', 'b']), ['--json', '--filter', 'a', '--', 'b']);
  });

  it("matches kunit.filter_glob as the kernel's glob_match does, suite and test parts apart", () => {
    assert.ok(globMatch('ex*', 'example'));
    assert.ok(globMatch('list-kunit-?est', 'list-kunit-test'));
    assert.ok(globMatch('[el]xample', 'example'));
    assert.ok(!globMatch('[!e]xample', 'example'));
    assert.ok(!globMatch('exam', 'example'));
    assert.ok(globMatch('a.b', 'a.b') && !globMatch('a.b', 'axb'));
    const cases = ['example_simple_test', 'example_skip_test', 'example_params_test'];
    assert.deepEqual(casesRun(cases, 'example', undefined), cases);
    assert.deepEqual(casesRun(cases, 'example', 'example'), cases);
    assert.deepEqual(casesRun(cases, 'example', 'example.*params*'), ['example_params_test']);
    assert.deepEqual(casesRun(cases, 'example', 'other.*params*'), cases);
  });

  it('a KUnit run with no command needs no root (rv64 boots without an initramfs)', () => {
    assert.equal(stopsBeforeRoot({ append: kunitAppend('example') }), true);
    assert.equal(stopsBeforeRoot({ append: kunitAppend('*'), command: ['true'] }), false);
    assert.equal(stopsBeforeRoot({ append: ['kunit.filter_glob=example'] }), false);
    assert.equal(stopsBeforeRoot({}), false);
  });

  it('debugs in VS Code with the kernel parameters kunit.py boots with, and in gdb one frame above KUnit', () => {
    assert.deepEqual(kunitAppend('*'), ['kunit_shutdown=halt']);
    assert.deepEqual(kunitAppend('example'), ['kunit_shutdown=halt', 'kunit.filter_glob=example']);
    const argv = kwbBootArgs({ kernel: '/k/.kunit/linux', kunit: 'example.example_simple_test' }, 1234);
    assert.deepEqual(argv.slice(-4), [
      '--append',
      'kunit_shutdown=halt',
      '--append',
      'kunit.filter_glob=example.example_simple_test',
    ]);
    const script = kunitGdbScript().split('\n');
    assert.equal(script[0], `break ${FAILED_ASSERTION}`);
    assert.ok(script.indexOf('up') > script.indexOf('commands') && script.indexOf('up') < script.indexOf('end'));
    assert.equal(script.at(-2), 'continue');
  });

  it("prints one line per suite, the failures with their logs and kunit.py's summary line", () => {
    const lines = formatKtap({
      passed: 2,
      failed: 1,
      skipped: 1,
      failures: ['example.example_simple_test'],
      tests: [
        {
          name: 'example.example_simple_test',
          status: 'fail',
          log: [
            '# example_simple_test: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:37',
            'Expected 1 + 1 == 3, but',
          ],
        },
        { name: 'example.example_skip_test', status: 'skip', reason: 'this test should be skipped' },
        { name: 'list.a', status: 'pass' },
        { name: 'list.b', status: 'pass' },
      ],
    });
    assert.deepEqual(lines, [
      '[FAILED]  example (failed: 1, skipped: 1)',
      '[PASSED]  list (passed: 2)',
      '[FAILED]  example.example_simple_test',
      '    # example_simple_test: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:37',
      '    Expected 1 + 1 == 3, but',
      'Testing complete. Ran 4 tests: passed: 2, failed: 1, skipped: 1',
    ]);
  });
});
