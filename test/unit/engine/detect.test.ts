import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { detectKernel } from '../../../engine/detect.js';

const dir = mkdtempSync(join(tmpdir(), 'kwb-detect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** A minimal ELF64 header with one program header. */
function elf(machine: number, loadAddr: bigint): Buffer {
  const b = Buffer.alloc(64 + 56);
  b.writeUInt32LE(0x464c457f, 0);
  b[4] = 2;
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt32LE(1, 64); // PT_LOAD
  b.writeBigUInt64LE(loadAddr, 64 + 16);
  return b;
}

describe('kernel detection', () => {
  it('recognises a RISC-V Image by its header magic', () => {
    const image = Buffer.alloc(64);
    image.write('RSC\x05', 56, 'latin1');
    assert.deepEqual(detectKernel(file('Image', image)), { kind: 'riscv-image' });
  });

  it('recognises a RISC-V ELF', () => {
    assert.deepEqual(detectKernel(file('vmlinux-rv', elf(243, 0xffffffff80000000n))), { kind: 'riscv-elf' });
  });

  it("recognises real UML kernels: Debian's stripped linux.uml", () => {
    assert.deepEqual(detectKernel('/usr/bin/linux.uml'), { kind: 'uml', dynamic: true });
  });

  it('refuses a native x86-64 vmlinux, an ordinary program, a bzImage and text, saying what to do', () => {
    assert.throws(
      () => detectKernel(file('vmlinux-x86', elf(62, 0xffffffff81000000n))),
      /native x86-64 vmlinux.*ARCH=um/,
    );
    assert.throws(() => detectKernel('/bin/true'), /not a User-mode Linux kernel/);
    const bz = Buffer.alloc(0x300);
    bz.write('HdrS', 0x202, 'latin1');
    assert.throws(() => detectKernel(file('bzImage', bz)), /bzImage.*ARCH=um/);
    assert.throws(() => detectKernel(file('text', Buffer.from('hello\n'))), /not a kernel kwb can boot/);
    assert.throws(() => detectKernel(file('arm', elf(183, 0x80000n))), /machine 183/);
    assert.throws(() => detectKernel(join(dir, 'missing')), /cannot read kernel/);
    assert.throws(() => detectKernel(dir), /not a file/);
  });
});
