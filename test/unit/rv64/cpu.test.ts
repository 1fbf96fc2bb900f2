// The CPU's control API (what a gdb stub needs): PC breakpoints that never touch memory, watchpoints, single step,
// the blocks stores write (time travel's skip), deterministic instruction counts, register/CSR/memory access; and
// runBareMetal's reporting (pass, failed test number, instruction limit).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBareMetal } from '../../../engine/rv64/baremetal';
import { MemoryBus } from '../../../engine/rv64/bus';
import { Cpu, Stop } from '../../../engine/rv64/cpu/cpu';
import { buildProgram, hasToolchain } from '../../rv64/build';

const BASE = 0x80000000;
const DATA = BASE + 0x1000;
// 0: addi a0, zero, 0 / 4: loop: addi a0, a0, 1 / 8: sd a0, 0(a1) / 12: c.nop / 14: c.nop / 16: jal x0, loop (-12)
const PROGRAM = [0x00000513, 0x00150513, 0x00a5b023, 0x00010001, 0xff5ff06f];

function machine(): Cpu {
  const bus = new MemoryBus(BASE, 64 * 1024);
  PROGRAM.forEach((w, i) => bus.ramView.setInt32(i * 4, w, true));
  const cpu = new Cpu(bus);
  cpu.reset(BASE);
  cpu.setX(11, BigInt(DATA));
  return cpu;
}

describe('rv64 CPU control API', () => {
  it('single-steps one instruction at a time, compressed ones included', () => {
    const cpu = machine();
    const pcs: number[] = [];
    for (let i = 0; i < 7; i++) {
      assert.equal(cpu.run(1), Stop.Budget);
      pcs.push(cpu.pc - BASE);
    }
    assert.deepEqual(pcs, [4, 8, 12, 14, 16, 4, 8]);
    assert.equal(cpu.retired(), 7);
    assert.equal(cpu.getX(10), 2n);
  });

  it('stops at PC breakpoints without patching memory, and continues from them', () => {
    const cpu = machine();
    const before = cpu.readPhys(BASE, 20)!;
    cpu.addBreakpoint(BASE + 8);
    assert.equal(cpu.run(1000), Stop.Breakpoint);
    assert.equal(cpu.pc, BASE + 8);
    assert.equal(cpu.getX(10), 1n);
    assert.deepEqual(cpu.readPhys(BASE, 20), before, 'code is untouched');
    assert.equal(cpu.run(1000), Stop.Breakpoint); // once around the loop
    assert.equal(cpu.getX(10), 2n);
    cpu.removeBreakpoint(BASE + 8);
    assert.equal(cpu.run(100), Stop.Budget);
  });

  it('stops after an instruction that writes a watched address', () => {
    const cpu = machine();
    cpu.addWatchpoint({ addr: DATA, len: 8, read: false, write: true });
    assert.equal(cpu.run(1000), Stop.Watchpoint);
    assert.equal(cpu.pc, BASE + 12, 'the store has completed');
    assert.deepEqual(cpu.watchHit, { addr: DATA, write: true });
    assert.equal(cpu.readPhys(DATA, 1)![0], 1);
    cpu.removeWatchpoint(DATA, 8);
    assert.equal(cpu.run(50), Stop.Budget);
  });

  it('marks the 64-byte blocks a store writes, both of two it straddles, through the write TLB too', () => {
    const cpu = machine();
    const bus = cpu.bus as MemoryBus;
    const mask = (DATA - BASE) / 64 / 32; // the mask of DATA's first 32 blocks (Bus.storedMask)
    cpu.setX(11, BigInt(DATA + 60)); // the sd writes DATA+60 to DATA+67: blocks 0 and 1
    cpu.run(3); // to the first store, through the slow path (its page is not marked written yet)
    assert.equal(bus.storedMask(mask), 0b11);
    bus.stored.fill(0);
    cpu.run(5); // once around the loop: the store hits the write TLB
    assert.equal(bus.storedMask(mask), 0b11);
    const stored = new Map<number, number>();
    assert.deepEqual(cpu.takeWrittenPages(stored), [(DATA - BASE) / 4096]);
    assert.deepEqual([...stored], [[mask, 0b11]]);
    assert.equal(bus.storedMask(mask), 0, 'taking the page clears its blocks');
  });

  it('is deterministic: same instruction count, same state', () => {
    const a = machine(),
      b = machine();
    a.run(12345);
    for (let i = 0; b.retired() < 12000; i++) b.run(97 + (i % 3));
    b.run(12345 - b.retired());
    assert.equal(a.retired(), 12345);
    assert.equal(b.retired(), 12345);
    assert.equal(a.pc, b.pc);
    for (let r = 0; r < 32; r++) assert.equal(a.getX(r), b.getX(r));
    assert.equal(a.readCsr(0xc02), 12345n, 'instret CSR');
  });

  it('reads and writes registers, CSRs and memory (physical and virtual)', () => {
    const cpu = machine();
    cpu.setX(5, 0xfedcba9876543210n);
    assert.equal(cpu.getX(5), 0xfedcba9876543210n);
    cpu.setX(0, 5n);
    assert.equal(cpu.getX(0), 0n);
    assert.equal(cpu.readCsr(0x301)! >> 62n, 2n, 'misa says RV64');
    assert.ok(cpu.writeCsr(0x340, 0x1234n));
    assert.equal(cpu.readCsr(0x340), 0x1234n);
    assert.equal(cpu.readCsr(0x7c0), undefined);
    cpu.setF(3, 0x400921fb54442d18n);
    assert.equal(cpu.getF(3), 0x400921fb54442d18n);
    assert.ok(cpu.writeVirt(BigInt(DATA + 16), new Uint8Array([1, 2, 3])));
    assert.deepEqual([...cpu.readPhys(DATA + 16, 3)!], [1, 2, 3]);
    assert.deepEqual([...cpu.readVirt(BigInt(DATA + 16), 3)!], [1, 2, 3]);
    assert.equal(cpu.readPhys(0x1000, 4), undefined, 'nothing mapped there');
    // writing code through the debugger is seen by the decode cache
    cpu.run(3);
    assert.ok(cpu.writePhys(BASE + 4, new Uint8Array([0x13, 0x05, 0x25, 0x00]))); // addi a0, a0, 2
    cpu.setPc(BigInt(BASE + 4));
    const a0 = cpu.getX(10);
    cpu.run(1);
    assert.equal(cpu.getX(10), a0 + 2n);
  });

  it('takes device interrupts in priority order: MEI, MSI, MTI; delegated SEI waits in M-mode', () => {
    const bus = new MemoryBus(BASE, 4096);
    for (let i = 0; i < 1024; i++) bus.ramView.setInt32(i * 4, 0x00000013, true); // nops
    const cpu = new Cpu(bus);
    cpu.reset(BASE);
    const HANDLER = BASE + 0x800;
    cpu.writeCsr(0x305, BigInt(HANDLER)); // mtvec
    cpu.writeCsr(0x304, 0xaaan); // mie: everything
    const INT = 1n << 63n;
    const take = (): bigint => {
      cpu.setPc(BigInt(BASE));
      cpu.writeCsr(0x300, 1n << 3n); // mstatus.MIE
      cpu.run(1);
      return cpu.readCsr(0x342)!;
    };
    cpu.setInterruptLine(3, true);
    cpu.setInterruptLine(7, true);
    cpu.setInterruptLine(11, true);
    assert.equal(take(), INT | 11n);
    assert.equal(cpu.pc, HANDLER + 4, 'went to mtvec (and ran one instruction there)');
    cpu.setInterruptLine(11, false);
    assert.equal(take(), INT | 3n);
    cpu.setInterruptLine(3, false);
    assert.equal(take(), INT | 7n);
    cpu.setInterruptLine(7, false);
    // SEI delegated to S: not taken while in M-mode
    cpu.writeCsr(0x303, 1n << 9n); // mideleg.SEI
    cpu.writeCsr(0x342, 0n);
    cpu.setInterruptLine(9, true);
    assert.equal(take(), 0n);
    assert.equal(cpu.pc, BASE + 4);
    assert.equal((cpu.readCsr(0x344)! >> 9n) & 1n, 1n, 'mip.SEIP reflects the line');
  });

  it('idles in WFI until an interrupt line rises', () => {
    const bus = new MemoryBus(BASE, 4096);
    bus.ramView.setInt32(0, 0x10500073, true); // wfi
    bus.ramView.setInt32(4, 0x0000006f, true); // j .
    const cpu = new Cpu(bus);
    cpu.reset(BASE);
    cpu.writeCsr(0x304, 1n << 3n); // mie.MSIE (mstatus.MIE stays clear: wake without a trap)
    assert.equal(cpu.run(100), Stop.Idle);
    assert.equal(cpu.pc, BASE + 4);
    assert.equal(cpu.run(100), Stop.Idle, 'still idle');
    cpu.setInterruptLine(3, true);
    assert.equal(cpu.run(10), Stop.Budget);
    assert.equal(cpu.pc, BASE + 4);
  });
});

describe('runBareMetal', { skip: hasToolchain() ? false : 'riscv64-unknown-elf-gcc is not installed' }, () => {
  it('reports the number of the failing test', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-rv64-'));
    const src = join(dir, 'fail3.S');
    writeFileSync(
      src,
      '#include "test.h"\nTEST_BEGIN\n li a0, 4\n CHECK(1, a0, 4)\n CHECK(2, a0, 4)\n CHECK(3, a0, 5)\n j pass\nTEST_END\n',
    );
    const elf = buildProgram([src]);
    rmSync(dir, { recursive: true, force: true });
    const r = await runBareMetal(elf, { timeoutSec: 30 });
    assert.equal(r.passed, false);
    assert.equal(r.failedTest, 3);
    assert.equal(r.exitCode, 3);
  });
  it('prints through the HTIF write syscall and exits through the exit syscall', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-rv64-'));
    const src = join(dir, 'hello.S');
    writeFileSync(
      src,
      [
        '#include "test.h"',
        'TEST_BEGIN',
        ' la a0, magic',
        ' li t0, 64',
        ' sd t0, 0(a0)',
        ' li t0, 1',
        ' sd t0, 8(a0)',
        ' la t0, msg',
        ' sd t0, 16(a0)',
        ' li t0, 6',
        ' sd t0, 24(a0)',
        ' la t1, tohost',
        ' sd a0, 0(t1)',
        '1: ld t0, 0(t1)',
        ' bnez t0, 1b',
        ' la t1, fromhost',
        ' sd zero, 0(t1)',
        ' ld t0, 0(a0)',
        ' CHECK(1, t0, 6)',
        ' li t0, 93',
        ' sd t0, 0(a0)',
        ' li t0, 7',
        ' sd t0, 8(a0)',
        ' la t1, tohost',
        ' sd a0, 0(t1)',
        '2: j 2b',
        'TEST_END',
        ' .data',
        ' .align 6',
        'magic: .fill 8, 8, 0',
        'msg: .ascii "hello\\n"',
        '',
      ].join('\n'),
    );
    const elf = buildProgram([src]);
    rmSync(dir, { recursive: true, force: true });
    let out = '';
    const r = await runBareMetal(elf, {
      output: (b) => {
        out += Buffer.from(b).toString();
      },
    });
    assert.equal(out, 'hello\n');
    assert.equal(r.exitCode, 7);
    assert.equal(r.passed, false);
  });
  it('the block compiler changes nothing observable: same output, instruction counts and results', async () => {
    for (const [src, flags] of [
      ['isa/mmu.S', []],
      ['isa/traps.S', []],
      ['isa/loop-fault.S', []],
      ['diff/intdiff.c', []],
      ['diff/fpdiff.c', ['-DRANDOM_CASES=50']],
      ['bench/fp-bench.c', ['-DITERATIONS=5']],
      ['bench/cpu-bench.c', ['-DITERATIONS=3']],
    ] as const) {
      const elf = buildProgram([src], [...flags]);
      const outs: string[] = [];
      const runs = [];
      for (const jit of [true, false]) {
        let out = '';
        runs.push(
          await runBareMetal(elf, {
            jit,
            output: (b) => {
              out += Buffer.from(b).toString('latin1');
            },
          }),
        );
        outs.push(out);
      }
      assert.ok(runs[0]!.passed && runs[1]!.passed, src);
      assert.equal(runs[0]!.instructions, runs[1]!.instructions, `${src}: instruction count`);
      assert.equal(outs[0], outs[1], `${src}: output`);
    }
  });
  it('stops at the instruction limit', async () => {
    const elf = buildProgram(['bench/cpu-bench.c']);
    const r = await runBareMetal(elf, { maxInstructions: 100_000 });
    assert.equal(r.passed, false);
    assert.equal(r.exitCode, 124);
    assert.equal(r.instructions, 100_000);
    assert.match(r.detail ?? '', /instruction limit/);
  });
});
