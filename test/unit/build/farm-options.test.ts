// The compile farm options are one definition on every command that builds (build, bisect, watch --build): the
// same help, the host list checked by distcc before anything is built or booted (exit 2, nothing left behind), and
// kwb watch refuses them when it builds nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOnPath } from '../../../engine/which.js';
import { Sandbox } from '../../helpers/kwb.js';

describe('compile farm options', () => {
  const box = new Sandbox();
  const dir = mkdtempSync(join(tmpdir(), 'kwb-farm-options-'));
  const tree = join(dir, 'linux');
  const env = { KWB_CACHE: join(dir, 'cache'), DISTCC_HOSTS: '' };
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=kwb', '-c', 'user.email=kwb@localhost', ...args], {
      cwd: tree,
      encoding: 'utf8',
    }).trim();
  before(() => {
    // the least a kernel tree is to kwb: Makefile and Kconfig, in git with two commits for bisect
    mkdirSync(tree);
    writeFileSync(join(tree, 'Makefile'), '');
    writeFileSync(join(tree, 'Kconfig'), '');
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    git('commit', '-q', '--allow-empty', '-m', 'two');
  });
  after(() => {
    box.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are the same options with the same help on build, bisect and watch', async () => {
    const helpOf = async (command: string) => {
      const r = await box.run([command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter((l) => /^\s+--(?:distcc|no-ccache)\b/.test(l));
    };
    const build = await helpOf('build');
    assert.equal(build.length, 2, build.join('\n'));
    assert.deepEqual(await helpOf('bisect'), build);
    assert.deepEqual(await helpOf('watch'), build);
  });

  it('check the host list before anything runs', { skip: !findOnPath('distcc') && 'needs distcc' }, async () => {
    const badList = /^kwb (build|bisect|watch): distcc hosts 'host\/x': bad multiplier/;
    for (const args of [
      ['build', '--distcc', 'host/x'],
      ['bisect', '--tree', tree, '--good', 'main~1', '--bad', 'main', '--distcc', 'host/x', '--', 'true'],
      ['watch', '--build', '--distcc', 'host/x'],
    ]) {
      const r = await box.run(args, { cwd: tree, env });
      assert.equal(r.code, 2, `kwb ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, badList);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    // DISTCC_HOSTS is the same as --distcc
    const r = await box.run(['watch', '--build'], { cwd: tree, env: { ...env, DISTCC_HOSTS: 'host/x' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, badList);
    // nothing began: no bisect state, no build output, the branch as it was
    assert.ok(!existsSync(join(tree, '.git', 'kwb-bisect')));
    assert.ok(!existsSync(join(tree, '.config')));
    assert.equal(git('status', '--porcelain'), '');
    assert.equal(git('rev-parse', '--abbrev-ref', 'HEAD'), 'main');
  });

  it('kwb watch takes them only with --build, and --build boots what it builds', async () => {
    const refuses = async (args: string[], message: RegExp, cwd = tree) => {
      const r = await box.run(['watch', ...args], { cwd, env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    };
    await refuses(
      ['--distcc', 'h/2'],
      /^kwb watch: --no-ccache and --distcc are for the builds of kwb watch --build$/m,
    );
    await refuses(['--no-ccache'], /are for the builds of kwb watch --build/);
    await refuses(
      ['--build', '--kernel', '/usr/bin/linux.uml'],
      /^kwb watch: --build boots the kernel it builds; drop --kernel$/m,
    );
    await refuses(['--build'], /^kwb watch: not in a kernel tree; run kwb watch --build inside one/, dir);
  });
});
