// kwb's own RV64 ISA tests (test/rv64/isa/*.S): each program checks its own results and reports through HTIF tohost.
// Every program must pass under kwb, and (when QEMU is installed) under qemu-system-riscv64 -M spike too, which
// validates the tests' expectations against an independent implementation.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBareMetal } from '../../../engine/rv64/baremetal';
import { buildProgram, hasQemu, hasToolchain, runQemu } from '../../rv64/build';

const ISA_DIR = join(__dirname, '..', '..', 'rv64', 'isa');
const tests = readdirSync(ISA_DIR)
  .filter((f) => f.endsWith('.S'))
  .sort();
const toolchain = hasToolchain();
const qemu = hasQemu();

describe('rv64 ISA tests', { skip: toolchain ? false : 'riscv64-unknown-elf-gcc is not installed' }, () => {
  it('covers every instruction class', () => {
    for (const t of ['alu', 'muldiv', 'mem', 'compressed', 'fp', 'traps', 'interrupts', 'mmu', 'fetch', 'pmp']) {
      assert.ok(tests.includes(`${t}.S`), `${t}.S is missing`);
    }
  });
  for (const file of tests) {
    it(`${file} passes under kwb`, async () => {
      const elf = buildProgram([`isa/${file}`]);
      const r = await runBareMetal(elf, { maxInstructions: 50_000_000, timeoutSec: 60 });
      assert.equal(r.failedTest, undefined, `${file}: check ${r.failedTest} failed`);
      assert.ok(r.passed, `${file}: ${r.detail ?? 'did not pass'}`);
      assert.ok(r.instructions > 50, 'ran the program');
    });
    it(
      `${file} passes under QEMU (validates the expectations)`,
      { skip: qemu ? false : 'QEMU is not installed' },
      () => {
        const elf = buildProgram([`isa/${file}`]);
        const r = runQemu(elf, 30_000);
        assert.equal(r.status, 0, `${file} under QEMU: exit status ${r.status} (failed check ${r.status ?? 0})`);
      },
    );
  }
});
