// Finding a kernel tree from a directory: a source tree, or the O= output directory of an out-of-tree build.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findKernelTree, findTreeDir } from '../../../engine/kernel.js';

describe('kernel tree lookup', () => {
  // the files kbuild leaves: Makefile and Kconfig in the source; Makefile, the `source` link and .config in O=
  const root = mkdtempSync(join(tmpdir(), 'kwb-tree-'));
  const src = join(root, 'linux');
  const out = join(root, 'build');
  mkdirSync(join(src, 'kernel'), { recursive: true });
  mkdirSync(join(out, 'kernel'), { recursive: true });
  writeFileSync(join(src, 'Makefile'), '');
  writeFileSync(join(src, 'Kconfig'), '');
  writeFileSync(join(out, 'Makefile'), 'include $(srctree)/Makefile\n');
  symlinkSync(src, join(out, 'source'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('finds an unconfigured source tree for building, but no tree to boot', () => {
    assert.deepEqual(findTreeDir(join(src, 'kernel')), { dir: src, source: src });
    assert.equal(findKernelTree(join(src, 'kernel')), undefined);
  });

  it('finds an O= directory, its source and its kernel', () => {
    writeFileSync(join(out, '.config'), 'CONFIG_UML=y\n');
    writeFileSync(join(out, 'linux'), '');
    assert.deepEqual(findTreeDir(join(out, 'kernel')), { dir: out, source: src });
    const tree = findKernelTree(join(out, 'kernel'));
    assert.deepEqual(tree, {
      build: out,
      source: src,
      arch: 'um',
      kernel: join(out, 'linux'),
      vmlinux: join(out, 'linux'),
    });
  });
});
