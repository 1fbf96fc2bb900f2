// kwb build on a fresh copy of Debian's linux-source-6.1, out of tree (O=), on a distcc farm: one cold build (the
// slowest thing a test can do on a 2-core machine, so every check of a first build shares it). It configures the
// tree (tinyconfig + a small fragment, to keep it to a few hundred objects), leaves the source tree clean in
// `git status`, says each stage on a plain line when not on a terminal, and sends its compiles to two real distccd
// daemons on loopback ports (a third host in the list refuses connections and the build still succeeds); `kwb run`
// in the O= directory boots what it built. A rebuild after `make clean` with the same fresh CCACHE_DIR, without
// distcc, hits ccache and knows its object count from the first build. Loopback daemons add no CPU: this checks the
// plumbing, not a speed-up (bench/build-farm.ts measures that). An ARCH=riscv build of the same tree into a second
// O= directory sends its compiles to the daemons as riscv64-linux-gnu-gcc.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOnPath } from '../../engine/which.js';
import { DISTCCD, DistccFarm, freePort } from '../helpers/distccd.js';
import { Sandbox } from '../helpers/kwb.js';

const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const FRAGMENT = join(__dirname, '..', 'fixtures', 'uml-tiny.config');
const needs = !existsSync(TARBALL)
  ? `needs ${TARBALL}`
  : !(findOnPath('distcc') && DISTCCD)
    ? 'needs distcc (scripts/setup.sh)'
    : false;

describe('kwb build O= of a fresh tree on a distcc farm', { timeout: 60 * 60 * 1000, skip: needs }, () => {
  const box = new Sandbox();
  const farm = new DistccFarm();
  const dir = mkdtempSync(join(tmpdir(), 'kwb-build-'));
  const src = join(dir, 'linux');
  const out = join(dir, 'out');
  // a cold ccache, so that every compile is a miss that goes to distcc; distcc's own state kept here too
  const env = { KWB_CACHE: join(dir, 'kwb'), CCACHE_DIR: join(dir, 'ccache'), DISTCC_DIR: join(dir, 'distcc') };
  const gitStatus = () =>
    execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: src, encoding: 'utf8' });
  let pristine = '';
  let hosts = '';
  let refused = 0;
  before(async () => {
    mkdirSync(src);
    execFileSync('tar', ['xJf', TARBALL, '-C', src, '--strip-components=1']);
    // a git repository with nothing committed: every file is untracked, so anything new in the tree shows up
    execFileSync('git', ['init', '-q'], { cwd: src });
    pristine = gitStatus();
    mkdirSync(env.DISTCC_DIR);
    await farm.start(2);
    // listed first, so distcc tries it first: it refuses, and those files compile elsewhere
    refused = await freePort();
    hosts = `127.0.0.1:${refused}/2 ${farm.hosts(2)}`;
  });
  after(async () => {
    await farm.stop();
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const build = (args: string[]) => box.run(['build', `O=${out}`, '--stats', ...args], { cwd: src, env });

  it('configures and builds an unconfigured tree into O= on the farm, with the log in the cache and the tree untouched', async () => {
    const r = await build(['--base', 'tinyconfig', '--config', FRAGMENT, '--distcc', hosts]);
    assert.equal(r.code, 0, r.stderr);
    const stages = r.stderr.split('\n').filter((l) => l.startsWith('kwb build: '));
    assert.deepEqual(stages, [
      "kwb build: configuring: tinyconfig + kwb's debug fragment",
      'kwb build: compiling',
      'kwb build: linking',
      // the debug fragment turns on modules: the guest sees them under /lib/modules
      "kwb build: installing modules (for the guest's /lib/modules)",
    ]);
    assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b['), 'no status line redraws off a terminal');
    assert.match(r.stderr, /ccache: \d+ hits, [1-9]\d* misses/);
    const log = /\(log: (\S+)\)/.exec(r.stderr)![1]!;
    assert.ok(log.startsWith(join(dir, 'kwb', 'builds')) && existsSync(log), log);
    assert.equal(gitStatus(), pristine);
    assert.ok(!readdirSync(src).includes('.config'));

    for (const daemon of farm.daemons) assert.match(daemon.read(), /COMPILE_OK/, `distccd on ${daemon.port}`);
    // -j from distcc: three hosts taking 2 each
    assert.match(r.stderr, /^distcc: 3 host\(s\) taking 6 compiles at once/m);
    const counts = /compiles: (.*?)(?: \(|$)/m.exec(r.stderr.split('\n').find((l) => l.startsWith('distcc:'))!)![1]!;
    for (const daemon of farm.daemons) assert.match(counts, new RegExp(`127\\.0\\.0\\.1:${daemon.port} [1-9]`));
    // distcc sent what the refused host did not take to the others (or compiled it here)
    assert.match(r.stderr, new RegExp(`; 127\\.0\\.0\\.1:${refused} failed [1-9]\\d* time`));
  });

  it('boots what it built from the O= directory', async () => {
    const r = await box.run(['run', '--', 'uname', '-r'], { cwd: out, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`booting ${out}/linux`));
    assert.match(r.stdout, /^6\.1\.\d+/m);
  });

  it('rebuilds after make clean from ccache, with percent from the first build', async () => {
    execFileSync('make', ['-s', 'ARCH=um', `O=${out}`, 'clean'], { cwd: src });
    const r = await build([]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^kwb build: compiling \(\d+ objects last time\)$/m);
    const hits = Number(/ccache: (\d+) hits/.exec(r.stderr)![1]);
    assert.ok(hits > 100, r.stderr);
    assert.match(r.stderr, /^distcc: not used$/m);
    assert.equal(gitStatus(), pristine);
  });

  it(
    'builds ARCH=riscv from the same tree into another O= directory on the farm, the cross compiler named as such',
    { skip: !findOnPath('riscv64-linux-gnu-gcc') && 'needs gcc-riscv64-linux-gnu (scripts/setup.sh --riscv)' },
    async () => {
      const rv = join(dir, 'out-riscv');
      const logsBefore = farm.daemons.map((d) => d.read().length);
      const r = await box.run(
        ['build', `O=${rv}`, '--arch', 'riscv', '--base', 'tinyconfig', '--stats', '--distcc', farm.hosts(2)],
        {
          cwd: src,
          env,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      // the farm compiled kernel objects with the RISC-V cross compiler: distcc sent its name, not plain gcc (which
      // daemon takes them is distcc's choice: with few objects in flight the first host can take them all)
      const compiled = farm.daemons.map((d, i) => d.read().slice(logsBefore[i])).join('\n');
      assert.match(compiled, /COMPILE_OK .*riscv64-linux-gnu-gcc \S+\.c/);
      assert.match(r.stderr, /^distcc: 2 host\(s\) taking 4 compiles at once/m);
      assert.match(execFileSync('file', ['-L', join(rv, 'vmlinux')], { encoding: 'utf8' }), /RISC-V/);
      assert.ok(existsSync(join(rv, 'arch', 'riscv', 'boot', 'Image')));
      assert.equal(gitStatus(), pristine);
    },
  );

  it('says what is wrong with a host list distcc cannot read, before building', async () => {
    const r = await box.run(['build', `O=${join(dir, 'never')}`, '--distcc', 'host/x'], { cwd: src, env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^kwb build: distcc hosts 'host\/x': bad multiplier/m);
    assert.ok(!existsSync(join(dir, 'never')));
  });
});
