// Modules as libraries: the struct module walk with section addresses, the placed .ko copy gdb loads, and the lists
// and stop reply that tell gdb about them. Against a real kernel and real gdb: test/integration/modules-uml.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stopReply, type StubContext } from '../../../gdbstub/commands.js';
import { koSections, placeKo } from '../../../gdbstub/linux/kofile.js';
import { librariesXml } from '../../../gdbstub/linux/libraries.js';
import { formatModules, loadedModules, readModules } from '../../../gdbstub/linux/modules.js';
import { Offsets } from '../../../gdbstub/linux/offsets.js';

const O = new Offsets(
  Object.fromEntries(
    Object.entries({
      modules: 0x1000,
      'module.list': 8,
      'module.name': 24,
      'module.name.size': 56,
      'module.state': 0,
      'module.sect_attrs': 96,
      'sect_attrs.nsections': 40,
      'sect_attrs.attrs': 48,
      'sect_attr.size': 16,
      'sect_attr.name': 0,
      'sect_attr.address': 8,
      MODULE_STATE_GOING: 2,
      MODULE_STATE_UNFORMED: 3,
    }).map(([k, v]) => [k, BigInt(v)]),
  ),
);

/** Guest memory with the `modules` list head at 0x1000 and the given modules after it. */
function guest(mods: { name: string; state: number; sections: [string, bigint][] }[]) {
  const mem = Buffer.alloc(0x10000);
  const modAt = (i: number) => 0x2000 + i * 0x1000;
  mods.forEach((m, i) => {
    const base = modAt(i);
    const next = i + 1 < mods.length ? modAt(i + 1) + 8 : 0x1000;
    mem.writeUInt32LE(m.state, base);
    mem.writeBigUInt64LE(BigInt(next), base + 8);
    mem.write(m.name, base + 24);
    const attrs = base + 0x200;
    mem.writeBigUInt64LE(BigInt(attrs), base + 96);
    mem.writeUInt32LE(m.sections.length, attrs + 40);
    m.sections.forEach(([name, addr], j) => {
      const names = base + 0x800 + j * 32;
      mem.write(name + '\0', names);
      mem.writeBigUInt64LE(BigInt(names), attrs + 48 + j * 16);
      mem.writeBigUInt64LE(addr, attrs + 48 + j * 16 + 8);
    });
  });
  mem.writeBigUInt64LE(BigInt(mods.length ? modAt(0) + 8 : 0x1000), 0x1000);
  return async (addr: bigint, len: number) => {
    if (addr + BigInt(len) > BigInt(mem.length)) throw new Error('unmapped');
    return mem.subarray(Number(addr), Number(addr) + len);
  };
}

describe('modules: the kernel list with section addresses', () => {
  it('reads names, states and sections; a module on its way out is no library', async () => {
    const read = guest([
      {
        name: 'kwbtest',
        state: 1,
        sections: [
          ['.text', 0x7000_0000n],
          ['.data', 0x7000_2000n],
        ],
      },
      { name: 'leaving', state: 2, sections: [['.text', 0x7100_0000n]] },
    ]);
    const all = await readModules(O, read);
    assert.deepEqual(
      all.map((m) => [m.name, m.state, [...m.sections]]),
      [
        [
          'kwbtest',
          1,
          [
            ['.text', 0x7000_0000n],
            ['.data', 0x7000_2000n],
          ],
        ],
        ['leaving', 2, [['.text', 0x7100_0000n]]],
      ],
    );
    assert.deepEqual(
      loadedModules(O, all).map((m) => m.name),
      ['kwbtest'],
    );
    assert.match(formatModules(all), /^kwbtest\s+\?\s+0x2000\s+0x70000000\s+0x70002000$/m);
  });
});

describe('modules: the .ko gdb loads', () => {
  it('is a copy with each allocated section at its load address, the original untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-ko-'));
    writeFileSync(join(dir, 'm.c'), 'int counter = 7;\nint bump(void) { return ++counter; }\n');
    execFileSync('gcc', ['-c', '-g', '-O1', '-o', join(dir, 'm.ko'), join(dir, 'm.c')]);
    const before = readFileSync(join(dir, 'm.ko'));
    const placed = placeKo(
      join(dir, 'm.ko'),
      new Map([
        ['.text', 0xffff_0000n],
        ['.data', 0xffff_8000n],
      ]),
    );
    assert.ok(placed);
    assert.deepEqual(readFileSync(join(dir, 'm.ko')), before);
    const sections = koSections(readFileSync(placed.file))!;
    const alloc = sections.filter((s) => s.alloc).map((s) => s.name);
    assert.ok(alloc.includes('.text') && alloc.includes('.data'));
    assert.equal(placed.sections.length, alloc.length);
    // what gdb reads from the copy: the function and the global at their load addresses
    const syms = execFileSync(
      'gdb',
      ['-nx', '-batch', '-ex', 'info address bump', '-ex', 'info address counter', placed.file],
      {
        encoding: 'utf8',
      },
    );
    assert.match(syms, /"bump" is a function at address 0xffff0000/);
    assert.match(syms, /"counter" is static storage at address 0xffff8000/);
    assert.equal(placeKo(join(dir, 'nothing.ko'), new Map()), undefined);
    rmSync(dir, { recursive: true });
  });
});

describe('modules: what the client is told', () => {
  const lib = { name: 'kwbtest', addr: 0x2000n, placed: { file: '/c/kwb&test.ko', sections: [0x10n, 0n] } };

  it('lists libraries for gdb in the svr4 form (no relocation left) and the plain one (per section)', () => {
    assert.equal(
      librariesXml('svr4', [lib]),
      '<library-list-svr4 version="1.0"><library name="/c/kwb&amp;test.ko" lm="0x2000" l_addr="0x0" l_ld="0x0" lmid="0x0"/></library-list-svr4>',
    );
    assert.equal(
      librariesXml('target', [lib]),
      '<library-list><library name="/c/kwb&amp;test.ko"><section address="0x10"/><section address="0x0"/></library></library-list>',
    );
  });

  it('marks a library event in the stop reply', () => {
    const ctx = { clientFeatures: new Set(['swbreak']) } as unknown as StubContext;
    assert.equal(stopReply({ kind: 'signal', signal: 5, thread: 3, library: true }, ctx), 'T05library:;thread:3;');
  });
});
