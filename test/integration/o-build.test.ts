// kwb build on a fresh copy of Debian's linux-source-6.1, out of tree (O=): configures it (tinyconfig + a small
// fragment, to keep the test to a few hundred objects), leaves the source tree clean in `git status`, says each
// stage on a plain line when not on a terminal, and `kwb run` in the O= directory boots what it built. A rebuild
// after `make clean` with the same fresh CCACHE_DIR hits ccache and knows its object count from the first build.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '../helpers/kwb.js';

const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const FRAGMENT = join(__dirname, '..', 'fixtures', 'uml-tiny.config');

describe(
  'kwb build O= of a fresh tree',
  { timeout: 120 * 60 * 1000, skip: !existsSync(TARBALL) && `needs ${TARBALL}` },
  () => {
    const box = new Sandbox();
    const dir = mkdtempSync(join(tmpdir(), 'kwb-obuild-'));
    const src = join(dir, 'linux');
    const out = join(dir, 'out');
    const env = { KWB_CACHE: join(dir, 'kwb'), CCACHE_DIR: join(dir, 'ccache') };
    const gitStatus = () =>
      execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: src, encoding: 'utf8' });
    let pristine = '';
    before(() => {
      mkdirSync(src);
      execFileSync('tar', ['xJf', TARBALL, '-C', src, '--strip-components=1']);
      // a git repository with nothing committed: every file is untracked, so anything new in the tree shows up
      execFileSync('git', ['init', '-q'], { cwd: src });
      pristine = gitStatus();
    });
    after(() => {
      box.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    const build = (args: string[]) => box.run(['build', `O=${out}`, '--stats', ...args], { cwd: src, env });

    it('configures and builds an unconfigured tree into O=, with the log in the cache and the tree untouched', async () => {
      const r = await build(['--base', 'tinyconfig', '--config', FRAGMENT]);
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
      assert.equal(gitStatus(), pristine);
    });
  },
);
