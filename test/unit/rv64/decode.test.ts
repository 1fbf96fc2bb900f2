// Decoder: every compressed instruction must decode exactly like its 32-bit expansion (both encoded by the GNU
// assembler), reserved compressed encodings must decode as illegal, and the executor's literal op numbers must match
// the op list.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode16, decode32 } from '../../../engine/rv64/cpu/decode';
import { OP_NAMES } from '../../../engine/rv64/cpu/ops';
import { hasToolchain } from '../../rv64/build';

function dec16(c: number): Int32Array {
  const o = new Int32Array(3);
  decode16(c, o, 0);
  return o;
}
function dec32(w: number): Int32Array {
  const o = new Int32Array(3);
  decode32(w, o, 0);
  return o;
}
const opName = (w0: number) => OP_NAMES[w0 & 0xff];

// [compressed, 32-bit expansion]
const PAIRS: [string, string][] = [
  ['c.addi4spn a0, sp, 8', 'addi a0, sp, 8'],
  ['c.fld fa0, 8(a1)', 'fld fa0, 8(a1)'],
  ['c.lw a0, 4(a1)', 'lw a0, 4(a1)'],
  ['c.ld a0, 8(a1)', 'ld a0, 8(a1)'],
  ['c.fsd fa0, 16(a1)', 'fsd fa0, 16(a1)'],
  ['c.sw a0, 124(a1)', 'sw a0, 124(a1)'],
  ['c.sd a0, 248(a1)', 'sd a0, 248(a1)'],
  ['c.nop', 'addi x0, x0, 0'],
  ['c.addi a0, -32', 'addi a0, a0, -32'],
  ['c.addiw a0, 31', 'addiw a0, a0, 31'],
  ['c.li a5, -1', 'addi a5, x0, -1'],
  ['c.addi16sp sp, -512', 'addi sp, sp, -512'],
  ['c.addi16sp sp, 496', 'addi sp, sp, 496'],
  ['c.lui a0, 0x1f', 'lui a0, 0x1f'],
  ['c.lui a0, 0xfffe0', 'lui a0, 0xfffe0'],
  ['c.srli s0, 63', 'srli s0, s0, 63'],
  ['c.srai s0, 1', 'srai s0, s0, 1'],
  ['c.andi s0, -1', 'andi s0, s0, -1'],
  ['c.sub s0, s1', 'sub s0, s0, s1'],
  ['c.xor s0, a5', 'xor s0, s0, a5'],
  ['c.or a4, s1', 'or a4, a4, s1'],
  ['c.and s0, s1', 'and s0, s0, s1'],
  ['c.subw s0, s1', 'subw s0, s0, s1'],
  ['c.addw a2, a3', 'addw a2, a2, a3'],
  ['c.j .+2046', 'jal x0, .+2046'],
  ['c.j .-2048', 'jal x0, .-2048'],
  ['c.beqz s0, .+254', 'beq s0, x0, .+254'],
  ['c.bnez a5, .-256', 'bne a5, x0, .-256'],
  ['c.slli a0, 63', 'slli a0, a0, 63'],
  ['c.fldsp fa0, 504(sp)', 'fld fa0, 504(sp)'],
  ['c.lwsp a0, 252(sp)', 'lw a0, 252(sp)'],
  ['c.ldsp t6, 504(sp)', 'ld t6, 504(sp)'],
  ['c.jr a0', 'jalr x0, 0(a0)'],
  ['c.mv a0, a1', 'add a0, x0, a1'],
  ['c.ebreak', 'ebreak'],
  ['c.jalr a0', 'jalr ra, 0(a0)'],
  ['c.add a0, a1', 'add a0, a0, a1'],
  ['c.fsdsp fa0, 504(sp)', 'fsd fa0, 504(sp)'],
  ['c.swsp a0, 252(sp)', 'sw a0, 252(sp)'],
  ['c.sdsp s11, 504(sp)', 'sd s11, 504(sp)'],
];

describe('rv64 decoder', () => {
  it(
    'compressed instructions decode like their expansions',
    { skip: hasToolchain() ? false : 'no riscv64-unknown-elf toolchain' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'kwb-rvc-'));
      try {
        const src = PAIRS.map(([c, e]) => `.option rvc\n${c}\n.option norvc\n${e}\n`).join('');
        writeFileSync(join(dir, 'p.S'), `.text\n${src}`);
        execFileSync('riscv64-unknown-elf-gcc', [
          '-march=rv64gc',
          '-mabi=lp64d',
          '-c',
          join(dir, 'p.S'),
          '-o',
          join(dir, 'p.o'),
        ]);
        execFileSync('riscv64-unknown-elf-objcopy', [
          '-O',
          'binary',
          '-j',
          '.text',
          join(dir, 'p.o'),
          join(dir, 'p.bin'),
        ]);
        const bin = readFileSync(join(dir, 'p.bin'));
        let off = 0;
        for (const [c, e] of PAIRS) {
          const h = bin.readUInt16LE(off);
          assert.notEqual(h & 3, 3, `${c} assembled compressed`);
          const w = bin.readUInt32LE(off + 2);
          const a = dec16(h),
            b = dec32(w);
          assert.notEqual(opName(a[0]!), 'illegal', c);
          assert.equal(a[0], b[0], `${c} vs ${e}: op/registers`);
          assert.equal(a[1], b[1], `${c} vs ${e}: immediate`);
          assert.equal(a[2]! & 0xfff, b[2]! & 0xfff, `${c} vs ${e}: rs3/rm`);
          assert.equal(a[2]! >>> 12, 2);
          assert.equal(b[2]! >>> 12, 4);
          off += 6;
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('reserved compressed encodings are illegal', () => {
    for (const c of [0x0000, 0x0004, 0x4002, 0x6002, 0x8002, 0x6101, 0x6581, 0x8000, 0x9c41, 0x9c61, 0x2001]) {
      const o = dec16(c);
      assert.equal(opName(o[0]!), 'illegal', `0x${c.toString(16)}`);
      assert.equal(o[1], c, 'the raw encoding is kept for mtval');
    }
  });

  it('32-bit encodings: fields, immediates and reserved forms', () => {
    let o = dec32(0x00c58533); // add a0, a1, a2
    assert.equal(opName(o[0]!), 'add');
    assert.deepEqual([(o[0]! >>> 8) & 0xff, (o[0]! >>> 16) & 0xff, o[0]! >>> 24], [20, 22, 24]);
    o = dec32(0xfff00513); // addi a0, zero, -1
    assert.equal(o[1], -1);
    // addi zero -> rd is the x0 sink
    assert.equal((dec32(0x00000013)[0]! >>> 8) & 0xff, 64);
    assert.equal(opName(dec32(0x4000d013)[0]!), 'srai'); // srai x0, x1, 0 (bit 30)
    assert.equal(opName(dec32(0x0200d013)[0]!), 'srli'); // shamt 32 is legal on RV64
    assert.equal(opName(dec32(0x2000d013)[0]!), 'illegal'); // funct6 not 0 / 0x10
    assert.equal(opName(dec32(0x0200901b)[0]!), 'illegal'); // slliw with shamt[5] set
    assert.equal(opName(dec32(0xffffffff)[0]!), 'illegal');
    assert.equal(opName(dec32(0x0000700b)[0]!), 'illegal'); // custom-0
    assert.equal(opName(dec32(0x100022af)[0]!), 'lr.w');
    assert.equal(opName(dec32(0x101022af)[0]!), 'illegal'); // lr.w with rs2 != 0
    assert.equal(opName(dec32(0x06007053)[0]!), 'illegal'); // fmt = 2 (H) not supported (fadd.h)
  });

  it("the executor's literal op numbers match the op list", () => {
    const src = readFileSync(join(__dirname, '..', '..', '..', 'engine', 'rv64', 'cpu', 'cpu.ts'), 'utf8');
    const uses = [...src.matchAll(/\b(\d+) \/\* ([A-Z0-9_]+) \*\//g)];
    assert.ok(uses.length > 150, 'the executor names its op numbers');
    for (const [, num, name] of uses) {
      assert.equal(OP_NAMES[Number(num)], name!.toLowerCase().replace(/_/g, '.'), `${num} /* ${name} */`);
    }
  });
});
