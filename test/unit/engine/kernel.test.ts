// KernelInfo: the engine and the gdb come from a kernel's headers (never its file name), the tree and the symbols
// from the build around it (in-tree or `make O=`), and a damaged file is a one-line error about that file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findKernelTree, gdbArgs, kernelInfo } from '../../../engine/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'kwb-kernel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(path: string, bytes: Buffer | string): string {
  const full = join(dir, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, bytes);
  return full;
}

/** A minimal linked ELF64 (one PT_LOAD, no sections) for `machine`. */
function elf(machine: number): Buffer {
  const b = Buffer.alloc(64 + 56);
  b.writeUInt32LE(0x464c457f, 0);
  b[4] = 2;
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(2, 16);
  b.writeUInt16LE(machine, 18);
  b.writeBigUInt64LE(64n, 32);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt32LE(1, 64);
  b.writeBigUInt64LE(0xffffffff80000000n, 64 + 16);
  return b;
}

function riscvImage(): Buffer {
  const b = Buffer.alloc(4096);
  b.write('RSC\x05', 56, 'latin1');
  return b;
}

const UML = '/usr/bin/linux.uml';

describe('KernelInfo', () => {
  it('picks gdb-multiarch for a RISC-V kernel whose path says nothing of RISC-V, gdb for UML', () => {
    const rv = kernelInfo(file('x86-stuff/linux', elf(243)));
    assert.equal(rv.engine, 'rv64');
    assert.equal(rv.gdb, 'gdb-multiarch');
    assert.equal(rv.vmlinux, join(dir, 'x86-stuff/linux'));
    const image = kernelInfo(file('um/bzImage', riscvImage()));
    assert.deepEqual(
      [image.engine, image.format, image.gdb, image.vmlinux],
      ['rv64', 'image', 'gdb-multiarch', undefined],
    );
    const uml = kernelInfo(file('riscv/Image', readFileSync(UML)));
    assert.deepEqual([uml.engine, uml.arch, uml.gdb, uml.dynamic], ['uml', 'um', 'gdb', true]);
  });

  it("reads the symbols' GNU build-id", () => {
    const expected = /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', UML], { encoding: 'utf8' }))?.[1];
    assert.ok(expected);
    assert.equal(kernelInfo(UML).buildId, expected);
  });

  it('finds an O= build: the tree through the source link, vmlinux beside the Image, the gdb scripts', () => {
    file('src/Kconfig', '');
    file('src/Makefile', '');
    file('out/Makefile', `include ${join(dir, 'src')}/Makefile\n`);
    file('out/.config', 'CONFIG_RISCV=y\n');
    const vmlinux = file('out/vmlinux', elf(243));
    file('out/vmlinux-gdb.py', '');
    const image = file('out/arch/riscv/boot/Image', riscvImage());
    symlinkSync(join(dir, 'src'), join(dir, 'out/source'));
    const info = kernelInfo(image);
    assert.deepEqual(info.tree, {
      source: join(dir, 'src'),
      build: join(dir, 'out'),
      arch: 'riscv',
      kernel: image,
      vmlinux,
    });
    assert.equal(info.vmlinux, vmlinux);
    assert.equal(info.gdb, 'gdb-multiarch');
    assert.deepEqual(gdbArgs(info), ['-iex', `add-auto-load-safe-path ${join(dir, 'out')}`, vmlinux]);
    // without the link, the generated Makefile names the source
    rmSync(join(dir, 'out/source'));
    assert.equal(findKernelTree(join(dir, 'out/arch'))?.source, join(dir, 'src'));
  });

  it('says which file is damaged and what to do, for a truncated or garbage kernel', () => {
    const truncated = file('cut/linux', readFileSync(UML).subarray(0, 100_000));
    assert.throws(() => kernelInfo(truncated), /cut\/linux is truncated or corrupt: .* rebuild it \(make\)/);
    const garbage = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(57, 0xa5)]);
    assert.throws(() => kernelInfo(file('garbage/linux', garbage)), /garbage\/linux is (truncated or )?corrupt/);
    assert.throws(() => kernelInfo(file('text/linux', 'hello')), /not a kernel kwb can boot/);
  });
});
