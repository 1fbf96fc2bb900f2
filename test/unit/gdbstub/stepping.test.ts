// Decoding the x86 rep string instructions that emulated watchpoints run over instead of stepping each iteration; the
// registers the relay expedites in a stop reply.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerLayout } from '../../../gdbstub/registers.js';
import { expeditedRegisters, repStringLength } from '../../../gdbstub/stepping.js';

describe('repStringLength', () => {
  it('finds rep movs/stos with their prefixes, and nothing else', () => {
    assert.equal(repStringLength(Buffer.from([0xf3, 0xa4])), 2); // rep movsb
    assert.equal(repStringLength(Buffer.from([0xf3, 0x48, 0xab, 0x90])), 3); // rep stosq
    assert.equal(repStringLength(Buffer.from([0x66, 0xf3, 0xa5])), 3); // rep movsw
    assert.equal(repStringLength(Buffer.from([0xf2, 0xae])), 2); // repne scasb
    assert.equal(repStringLength(Buffer.from([0xa4])), undefined); // movsb without rep
    assert.equal(repStringLength(Buffer.from([0xf3, 0x0f, 0x1e, 0xfa])), undefined); // endbr64
    assert.equal(repStringLength(Buffer.from([0xf3, 0x90])), undefined); // pause
    assert.equal(repStringLength(Buffer.alloc(15, 0xf3)), undefined);
  });
});

describe('expeditedRegisters', () => {
  // gdbserver's x86-64 description as far as it matters here: the core registers, then x87's 10-byte st0
  const xml = [
    ...[
      'rax',
      'rbx',
      'rcx',
      'rdx',
      'rsi',
      'rdi',
      'rbp',
      'rsp',
      'r8',
      'r9',
      'r10',
      'r11',
      'r12',
      'r13',
      'r14',
      'r15',
      'rip',
    ].map((n) => `<reg name="${n}" bitsize="64"/>`),
    ...['eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => `<reg name="${n}" bitsize="32"/>`),
    '<reg name="st0" bitsize="80"/>',
  ].join('');
  const layout = registerLayout((annex) => (annex === 'target.xml' ? `<target>${xml}</target>` : undefined))!;

  it("adds the core registers after the server's own, each once, in g-packet byte order", () => {
    const regs = Buffer.alloc(layout.size);
    for (let i = 0; i < 17; i++) regs.writeBigUInt64LE(BigInt(0x1000 + i), 8 * i);
    regs.writeUInt32LE(0x246, 17 * 8);
    const given = '06:0610000000000000;07:0710000000000000;10:1010000000000000;';
    const out = expeditedRegisters('x86_64', layout, regs, given);
    assert.ok(out.startsWith(given));
    const pairs = [...out.matchAll(/([0-9a-f]+):([0-9a-f]+);/g)].map((m) => [Number.parseInt(m[1]!, 16), m[2]!]);
    assert.deepEqual(
      pairs.map(([n]) => n).sort((a, b) => Number(a) - Number(b)),
      [...Array(24).keys()],
    );
    assert.deepEqual(
      pairs.find(([n]) => n === 0),
      [0, '0010000000000000'],
    );
    assert.deepEqual(
      pairs.find(([n]) => n === 0x11),
      [0x11, '46020000'],
    );
  });

  it('leaves out what the g packet does not hold', () => {
    assert.equal(expeditedRegisters('x86_64', layout, Buffer.alloc(16)), '00:0000000000000000;01:0000000000000000;');
  });
});
