// `kwb rootfs` and `--rootfs debian` with real mmdebstrap, booted by Debian's own UML kernel (which brings its
// modules: modprobe in the guest) and, for the README's selftests example, by the fixture kernel. The default root is
// built once into kwb's cache (minutes, from the network) and reused by every later run, like the fixture kernels.
// The fixture kernel's modules on both roots: modules-uml.test.ts.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEBIAN_UML } from '../../engine/kernel.js';
import { FIXTURE_TIMEOUT_MS, fixtureTree } from '../helpers/fixtures.js';
import { Sandbox } from '../helpers/kwb.js';

describe('Debian root', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let box: Sandbox;
  let image: string;
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

  it("runs the README's selftests example as written, in a built kernel tree", async () => {
    // the example's own words, from the README
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const example =
      /^kwb (run .*--rootfs debian --share \. -- make -C tools\/testing\/selftests\/\S+ run_tests)$/m.exec(
        readme.replace(/ {2,}/g, ' '),
      );
    assert.ok(example, 'the selftests example is gone from the README');
    // a kernel tree with what the size selftest builds from, and the fixture's ./linux
    const tree = fixtureTree('um');
    const copy = mkdtempSync(join(tmpdir(), 'kwb-selftests-'));
    const parts = ['scripts/subarch.include', 'tools/testing/selftests/lib.mk', 'tools/testing/selftests/kselftest'];
    parts.push('tools/testing/selftests/kselftest.h', 'tools/testing/selftests/kselftest_harness.h');
    parts.push('tools/testing/selftests/size', 'linux');
    for (const part of parts) cpSync(join(tree, part), join(copy, part), { recursive: true });
    try {
      // seconds here; a hang (seen twice in full runs, never alone) fails in minutes with what kwb printed, how far
      // the guest got and its console (--log: the only addition to the example)
      const args = example[1]!.split(' ');
      const log = join(copy, 'console.log');
      args.splice(args.indexOf('--'), 0, '--log', log);
      const r = await box.run(args, { cwd: copy, timeoutMs: 10 * 60 * 1000 });
      const consoleText = existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '(no console log)';
      assert.equal(r.code, 0, `${r.signal ?? r.code}\n${r.stdout}${r.stderr}\nconsole:\n${consoleText}`);
      assert.match(r.stdout, /^ok 1 selftests: size: get_size$/m);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  /** `kwb rootfs ARGS` with a cache of its own: the result, and what it left in that cache's rootfs/. */
  async function rootfsInFreshCache(args: string[]) {
    const cache = mkdtempSync(join(tmpdir(), 'kwb-cache-'));
    try {
      const r = await box.run(['rootfs', ...args], { env: { KWB_CACHE: cache } });
      const dir = join(cache, 'rootfs');
      return { ...r, left: existsSync(dir) ? readdirSync(dir) : [] };
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }

  it("a missing package of the host's suite fails at once in one line, exit 2, and leaves nothing in the cache", async () => {
    const r = await rootfsInFreshCache(['--packages', 'bash,nosuchpkg-kwb']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^kwb rootfs: .*Unable to locate package nosuchpkg-kwb.*\n$/);
    assert.equal(r.stderr.split('\n').length, 2);
    assert.deepEqual(r.left, []);
  });

  it("a missing package of another suite fails with mmdebstrap's message in one line, exit 2, nothing left", async () => {
    // apt on this host cannot tell for another suite: mmdebstrap builds until apt finds no such package
    const r = await rootfsInFreshCache(['--suite', 'trixie', '--packages', 'bash,nosuchpkg-kwb']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.pop(), 'kwb rootfs: mmdebstrap failed: Unable to locate package nosuchpkg-kwb');
    // before it, only the build's stages, a line each
    for (const line of lines) assert.match(line, /^kwb rootfs: [a-z][^\n]*$/);
    assert.ok(
      lines.some((l) => /running apt-get update/.test(l)),
      r.stderr,
    );
    assert.deepEqual(r.left, []);
  });
});
