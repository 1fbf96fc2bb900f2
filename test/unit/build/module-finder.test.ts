// Finding a loaded module's .ko on the host, as the stub does to offer it to gdb as a library.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { moduleFinder } from '../../../engine/build/modules.js';

describe('module finder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-modfind-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a tree's modules.order, whose paths are relative to it", () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'drivers'), { recursive: true });
    writeFileSync(join(tree, 'drivers', 'dummy-mod.ko'), '');
    writeFileSync(join(tree, 'modules.order'), 'drivers/dummy-mod.ko\n');
    assert.equal(moduleFinder([tree])('dummy_mod'), join(tree, 'drivers', 'dummy-mod.ko'));
  });

  it("reads an out-of-tree build's modules.order, which make -C TREE M=DIR writes with absolute paths", () => {
    const ext = join(dir, 'ext');
    mkdirSync(ext);
    writeFileSync(join(ext, 'kwbtest.ko'), '');
    writeFileSync(join(ext, 'modules.order'), `${join(ext, 'kwbtest.ko')}\n`);
    assert.equal(moduleFinder([ext])('kwbtest'), join(ext, 'kwbtest.ko'));
  });

  it('looks for .ko files where there is no modules.order', () => {
    const share = join(dir, 'share');
    mkdirSync(join(share, 'sub'), { recursive: true });
    writeFileSync(join(share, 'sub', 'other.ko'), '');
    assert.equal(moduleFinder([join(dir, 'missing'), share])('other'), join(share, 'sub', 'other.ko'));
    assert.equal(moduleFinder([share])('absent'), undefined);
  });
});
