// `kwb build` refuses what it cannot build with one line and exit code 2, before running make.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Sandbox } from '../../helpers/kwb.js';

describe('kwb build usage errors', () => {
  const box = new Sandbox();
  const dir = mkdtempSync(join(tmpdir(), 'kwb-build-cli-'));
  const env = { KWB_CACHE: join(dir, 'cache') };
  after(() => {
    box.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const refuses = async (args: string[], message: RegExp, cwd = dir) => {
    const r = await box.run(['build', ...args], { cwd, env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  };

  it('outside a kernel tree', () => refuses([], /not in a kernel tree/));

  it('O= twice, or O= with --out (O=DIR is --out DIR)', async () => {
    await refuses(['O=a', 'O=b'], /--out given twice/);
    await refuses(['O=a', '--out', 'b'], /--out given twice/);
  });

  it('a base that is not a config target, and an unknown arch', async () => {
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'Makefile'), '');
    writeFileSync(join(src, 'Kconfig'), '');
    await refuses(['--base', 'clean'], /config target/, src);
    await refuses(['--arch', 'arm'], /use um or riscv/, src);
    // an O= build of a source tree configured in place: kbuild would refuse after a while; kwb says so at once
    writeFileSync(join(src, '.config'), 'CONFIG_UML=y\n');
    await refuses([`O=${join(dir, 'out')}`], /make mrproper/, src);
    assert.deepEqual(readdirSync(src).sort(), ['.config', 'Kconfig', 'Makefile']);
  });
});
