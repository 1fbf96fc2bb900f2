// The block compiler changes nothing observable, even compiling every block the first time it runs: each ISA program
// (every instruction class, self-modifying code, page-crossing instructions) gives the interpreter's result at the
// same instruction count; a device sees the same instruction count at every access; a store over the instruction
// that follows it in the same compiled block takes effect.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBareMetal } from '../../../engine/rv64/baremetal';
import { MemoryBus } from '../../../engine/rv64/bus';
import { Cpu } from '../../../engine/rv64/cpu/cpu';
import { buildProgram, hasToolchain } from '../../rv64/build';

const ISA_DIR = join(__dirname, '..', '..', 'rv64', 'isa');
const BASE = 0x80000000;
const DEVICE = 0x10000000;

/** A hart over 64 KiB of RAM holding `words` at BASE, compiling every block at once (jit) or interpreting. */
function hart(words: number[], jit: boolean): { cpu: Cpu; bus: MemoryBus } {
  const bus = new MemoryBus(BASE, 64 * 1024);
  words.forEach((w, i) => bus.ramView.setInt32(i * 4, w, true));
  const cpu = new Cpu(bus);
  cpu.jitEnabled = jit;
  cpu.jitThreshold = 1;
  cpu.reset(BASE);
  return { cpu, bus };
}

describe('rv64 block compiler', () => {
  for (const file of readdirSync(ISA_DIR).filter((f) => f.endsWith('.S'))) {
    it(
      `${file}: every block compiled, the interpreter's result at the same instruction count`,
      {
        skip: hasToolchain() ? false : 'riscv64-unknown-elf-gcc is not installed',
      },
      async () => {
        const elf = buildProgram([`isa/${file}`]);
        const compiled = await runBareMetal(elf, { jitThreshold: 1, maxInstructions: 50_000_000, timeoutSec: 60 });
        const interpreted = await runBareMetal(elf, { jit: false, maxInstructions: 50_000_000, timeoutSec: 60 });
        assert.equal(compiled.failedTest, undefined, `${file}: check ${compiled.failedTest} failed compiled`);
        assert.ok(compiled.passed, `${file}: ${compiled.detail ?? 'did not pass'} compiled`);
        assert.equal(compiled.instructions, interpreted.instructions);
      },
    );
  }

  it('a device access inside a compiled block sees the instruction count the interpreter shows it', () => {
    // li t0, DEVICE / loop: lw t1, 0(t0) / addi a0, a0, 1 / lw t1, 4(t0) / sw a0, 8(t0) / j loop
    const program = [0x100002b7, 0x0002a303, 0x00150513, 0x0042a303, 0x00a2a423, 0xff1ff06f];
    const seen = (jit: boolean) => {
      const { cpu, bus } = hart(program, jit);
      const counts: string[] = [];
      bus.map(DEVICE, 4096, {
        name: 'probe',
        load: (off) => (counts.push(`r${off}@${cpu.retired()}`), 0),
        store: (off, _size, v) => void counts.push(`w${off}=${v}@${cpu.retired()}`),
      });
      cpu.run(10_000);
      return { counts, retired: cpu.retired(), pc: cpu.pc };
    };
    const compiled = seen(true);
    assert.equal(compiled.counts.length, 3 * 2000);
    assert.deepEqual(compiled, seen(false));
  });

  it('a device that ends the run ends it after the accessing instruction, inside a compiled block too', () => {
    // li t0, DEVICE / loop: addi a0, a0, 1 / lw t1, 0(t0) / addi a1, a1, 1 / j loop; the device ends the run
    // at its 5th read, as a timer deadline moving closer does (endRunWithin)
    const program = [0x100002b7, 0x00150513, 0x0002a303, 0x00158593, 0xff5ff06f];
    const stop = (jit: boolean) => {
      const { cpu, bus } = hart(program, jit);
      let reads = 0;
      bus.map(DEVICE, 4096, {
        name: 'probe',
        load: () => (++reads === 5 && cpu.endRunWithin(1), 0),
        store: () => {},
      });
      cpu.run(1000);
      return { retired: cpu.retired(), pc: cpu.pc, a0: cpu.getX(10), a1: cpu.getX(11) };
    };
    const compiled = stop(true);
    assert.equal(compiled.retired, 1 + 4 * 4 + 2);
    assert.deepEqual(compiled, stop(false));
  });

  it('a load that faults in the middle of a compiled block traps precisely (mepc, registers, instruction count)', () => {
    // auipc t2, 0 / addi t2, t2, 32 / csrw mtvec, t2 / loop: addi a0, a0, 1 / ld t1, 0(zero) / addi a1, a1, 1 /
    // j loop / nop / handler: csrr a2, mepc / j .
    const program = [
      0x00000397, 0x02038393, 0x30539073, 0x00150513, 0x00003303, 0x00158593, 0xff5ff06f, 0x00000013, 0x34102673,
      0x0000006f,
    ];
    const result = (jit: boolean) => {
      const { cpu } = hart(program, jit);
      cpu.run(50);
      return {
        a0: cpu.getX(10),
        a1: cpu.getX(11),
        a2: cpu.getX(12),
        mcause: cpu.readCsr(0x342),
        pc: cpu.pc,
        retired: cpu.retired(),
      };
    };
    const compiled = result(true);
    assert.deepEqual(compiled, { a0: 1n, a1: 0n, a2: BigInt(BASE + 16), mcause: 5n, pc: BASE + 36, retired: 50 });
    assert.deepEqual(compiled, result(false));
  });

  it('a store over the next instruction of the running block takes effect (no fence.i needed, as interpreted)', () => {
    // auipc t0, 0 / lw t1, 24(t0) / sw t1, 16(t0) / addi a0, zero, 0 / addi a0, zero, 1 / j . / .word addi a0, zero, 2
    const program = [0x00000297, 0x0182a303, 0x0062a823, 0x00000513, 0x00100513, 0x0000006f, 0x00200513];
    const result = (jit: boolean) => {
      const { cpu } = hart(program, jit);
      cpu.run(6);
      return { a0: cpu.getX(10), pc: cpu.pc, retired: cpu.retired() };
    };
    const compiled = result(true);
    assert.deepEqual(compiled, { a0: 2n, pc: BASE + 20, retired: 6 });
    assert.deepEqual(compiled, result(false));
  });
});
