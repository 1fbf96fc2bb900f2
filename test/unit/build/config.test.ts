import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkBase, missingConfig, readFragment } from '../../../engine/build/config.js';

describe('build config', () => {
  it('reads a fragment: settings and "is not set" lines, no comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-frag-'));
    const file = join(dir, 'f.config');
    writeFileSync(file, '# a comment\nCONFIG_A=y\n\n# CONFIG_B is not set\n  CONFIG_C="x"\n');
    assert.deepEqual(readFragment(file), ['CONFIG_A=y', '# CONFIG_B is not set', 'CONFIG_C="x"']);
    assert.throws(() => readFragment(join(dir, 'nope')), /cannot read config fragment/);
    rmSync(dir, { recursive: true });
  });

  it('asks only for lines .config lacks', () => {
    const config = 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n';
    assert.deepEqual(missingConfig(config, ['CONFIG_A=y', '# CONFIG_B is not set', 'CONFIG_C=y', 'CONFIG_D=y']), [
      'CONFIG_C=y',
      'CONFIG_D=y',
    ]);
  });

  it('takes only config targets as a base', () => {
    assert.equal(checkBase('tinyconfig'), 'tinyconfig');
    assert.equal(checkBase('x86_64_defconfig'), 'x86_64_defconfig');
    assert.throws(() => checkBase('clean'), /config target/);
    assert.throws(() => checkBase('defconfig; rm -rf'), /config target/);
  });
});
