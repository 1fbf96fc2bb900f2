// kwb watch --build's view of a source tree, on real files and real inotify: an edit of a source file is reported
// (also in a directory made after the watch started), what a build writes next to the sources is not, nor an O=
// directory inside the tree.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isSourcePath, SourceWatcher } from '../../../engine/build/sources.js';

describe('source tree edits', () => {
  it('knows which files a build reads and which it writes', () => {
    for (const p of ['kernel/sys.c', 'include/linux/sched.h', 'arch/um/kernel/dyn.lds.S', 'lib/Makefile', 'Kconfig'])
      assert.ok(isSourcePath(p), p);
    assert.ok(isSourcePath('arch/riscv/Kconfig.socs'));
    for (const p of [
      'kernel/sys.o',
      'kernel/.sys.o.cmd',
      '.config',
      'include/generated/utsrelease.h',
      'include/config/auto.conf',
      'arch/riscv/include/generated/asm/local.h',
      '.git/index',
      'kernel/.sys.c.swp',
      'kernel/sys.c~',
      'vmlinux',
    ])
      assert.ok(!isSourcePath(p), p);
  });

  const dir = mkdtempSync(join(tmpdir(), 'kwb-sources-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports source edits in any directory, new ones too, and nothing a build writes', async () => {
    for (const d of ['kernel', 'include/generated', 'out/kernel']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'kernel', 'sys.c'), 'int a;\n');
    const seen: string[] = [];
    const w = new SourceWatcher(dir, join(dir, 'out'), (path) => seen.push(path));
    const settle = () => new Promise((r) => setTimeout(r, 200));
    try {
      // what a build writes: objects, .cmd files, generated headers, the O= directory's copies
      writeFileSync(join(dir, 'kernel', 'sys.o'), '');
      writeFileSync(join(dir, 'kernel', '.sys.o.cmd'), '');
      writeFileSync(join(dir, 'include', 'generated', 'compile.h'), '');
      writeFileSync(join(dir, 'out', 'kernel', 'x.c'), '');
      await settle();
      assert.equal(seen.length, 0, seen.join());
      writeFileSync(join(dir, 'kernel', 'sys.c'), 'int b;\n');
      await settle();
      assert.ok(seen.includes(join(dir, 'kernel', 'sys.c')), seen.join());
      // a directory made after the watch started (a new driver) is watched too
      mkdirSync(join(dir, 'drivers', 'new'), { recursive: true });
      await settle();
      writeFileSync(join(dir, 'drivers', 'new', 'new.c'), '');
      await settle();
      assert.ok(seen.includes(join(dir, 'drivers', 'new', 'new.c')), seen.join());
    } finally {
      w.close();
    }
    // an in-tree build: the build directory is the tree itself, watched
    const inTree: string[] = [];
    const w2 = new SourceWatcher(dir, dir, (path) => inTree.push(path));
    try {
      writeFileSync(join(dir, 'kernel', 'sys.c'), 'int c;\n');
      await settle();
      assert.deepEqual([...new Set(inTree)], [join(dir, 'kernel', 'sys.c')]);
    } finally {
      w2.close();
    }
  });
});
