// `kwb rootfs` and `--rootfs debian` with real mmdebstrap, booted by Debian's own UML kernel (which brings its
// modules: modprobe in the guest). The default root is built once into kwb's cache (minutes, from the network) and
// reused by every later run, like the fixture kernels. The fixture kernel's modules: modules-uml.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEBIAN_UML } from '../../engine/kernel.js';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures.js';
import { Sandbox } from '../helpers/kwb.js';

describe('Debian root', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let box: Sandbox;
  let image: string;
  /** Debian's linux-source-6.1, unpacked once, for the selftests example. */
  const SOURCE = '/usr/src/linux-source-6.1.tar.xz';
  before(async () => {
    box = new Sandbox();
    const t0 = Date.now();
    const r = await box.run(['rootfs']);
    assert.equal(r.code, 0, r.stderr);
    image = r.stdout.trim();
    const how = /built in/.test(r.stderr) ? 'built' : 'cached';
    console.log(`# kwb rootfs: ${((Date.now() - t0) / 1000).toFixed(1)} s (${how})`);
  });
  after(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
  });

  it('is cached: a second kwb rootfs prints the same image and builds nothing', async () => {
    const r = await box.run(['rootfs']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), image);
    // a build reports its stages on stderr
    assert.equal(r.stderr, '');
  });

  it("runs bash, python3 and make from the Debian root; modprobe finds the kernel's modules", async () => {
    const before = statSync(image);
    const t0 = Date.now();
    const r = await box.run([
      'run',
      '--kernel',
      DEBIAN_UML,
      '--rootfs',
      'debian',
      '--timeout',
      '300',
      '--',
      'sh',
      '-c',
      'bash --version | head -1; python3 --version; make --version | head -1; ' +
        'modprobe loop && grep -o ^loop /proc/modules; echo scribble > /etc/kwb-was-here; exit 3',
    ]);
    console.log(`# boot + run on the Debian root: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^GNU bash, version 5\./m);
    assert.match(r.stdout, /^Python 3\.\d+/m);
    assert.match(r.stdout, /^GNU Make \d/m);
    assert.match(r.stdout, /^loop$/m);
    // the guest's writes went to its overlay, not into the cached image
    const now = statSync(image);
    assert.equal(now.mtimeMs, before.mtimeMs);
    assert.equal(now.size, before.size);
  });

  it("runs the README's selftests example as written", async () => {
    // the parts of Debian's linux-source-6.1 the size selftest builds from
    const copy = mkdtempSync(join(tmpdir(), 'kwb-selftests-'));
    const parts = ['scripts/subarch.include', 'tools/testing/selftests/lib.mk', 'tools/testing/selftests/kselftest'];
    parts.push('tools/testing/selftests/kselftest.h', 'tools/testing/selftests/kselftest_harness.h');
    parts.push('tools/testing/selftests/size');
    execFileSync('tar', [
      'xJf',
      SOURCE,
      '-C',
      copy,
      '--strip-components=1',
      ...parts.map((p) => `linux-source-6.1/${p}`),
    ]);
    try {
      const r = await box.run(
        [
          'run',
          '--kernel',
          DEBIAN_UML,
          '--rootfs',
          'debian',
          '--share',
          '.',
          '--timeout',
          '300',
          '--',
          'make',
          '-C',
          'tools/testing/selftests/size',
          'run_tests',
        ],
        { cwd: copy },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok 1 selftests: size: get_size$/m);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a missing package fails in one line, exit 2, and leaves nothing in the cache', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'kwb-cache-'));
    try {
      const r = await box.run(['rootfs', '--packages', 'bash,nosuchpkg-kwb'], { env: { KWB_CACHE: cache } });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^kwb rootfs: .*Unable to locate package nosuchpkg-kwb.*\n$/);
      assert.equal(r.stderr.split('\n').length, 2);
      const left = join(cache, 'rootfs');
      assert.deepEqual(existsSync(left) ? readdirSync(left) : [], []);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
