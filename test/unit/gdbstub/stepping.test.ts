// Decoding the x86 rep string instructions that emulated watchpoints run over instead of stepping each iteration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repStringLength } from '../../../gdbstub/stepping.js';

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
