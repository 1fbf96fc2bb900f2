// Differential tests against QEMU: programs that run every F/D operation (all rounding modes, special and random
// operands, boxed and unboxed singles) and every RV64IM integer operation, printing a hash of results and fflags per
// operation. kwb's output must be identical to QEMU's (an independent softfloat and integer implementation).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBareMetal } from '../../../engine/rv64/baremetal';
import { buildProgram, hasQemu, hasToolchain, runQemu } from '../../rv64/build';

const skip = !hasToolchain()
  ? 'riscv64-unknown-elf-gcc is not installed'
  : !hasQemu()
    ? 'QEMU is not installed'
    : false;

async function compare(source: string, minLines: number): Promise<void> {
  const elf = buildProgram([source]);
  let out = '';
  const r = await runBareMetal(elf, {
    timeoutSec: 120,
    output: (b) => {
      out += Buffer.from(b).toString('latin1');
    },
  });
  assert.ok(r.passed, `kwb: ${r.detail ?? `exit ${r.exitCode}`}`);
  const q = runQemu(elf, 120_000);
  assert.equal(q.status, 0, 'QEMU run');
  const mine = out.split('\n').filter(Boolean);
  const theirs = q.stdout.replace(/\r/g, '').split('\n').filter(Boolean);
  assert.ok(mine.length >= minLines, `kwb printed ${mine.length} lines`);
  const diffs = mine.filter((l, i) => l !== theirs[i]);
  assert.deepEqual(diffs, [], `lines differing from QEMU (kwb's shown)`);
  assert.equal(mine.length, theirs.length);
}

describe('rv64 differential tests against QEMU', { skip }, () => {
  it('F/D: 55 operations x 5 rounding modes agree bit for bit, flags included', async () => {
    await compare('diff/fpdiff.c', 275);
  });
  it('RV64IM: every integer operation agrees', async () => {
    await compare('diff/intdiff.c', 48);
  });
});
