// `kwb boot --engine rv64 --bios none --kernel prog.elf`: a bare-metal program on kwb's RISC-V CPU reports the
// riscv-tests way; kwb exits 0 when it passed and names the failed check otherwise.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildProgram, hasToolchain } from '../rv64/build.js';
import { Sandbox } from '../helpers/kwb.js';

describe(
  'kwb boot --bios none',
  { skip: !hasToolchain() && 'needs riscv64-unknown-elf-gcc (scripts/setup.sh)' },
  () => {
    const box = new Sandbox();
    const dir = mkdtempSync(join(tmpdir(), 'kwb-baremetal-'));
    after(() => {
      box.dispose();
      rmSync(dir, { recursive: true, force: true });
    });
    const program = (name: string, body: string) => {
      const path = join(dir, `${name}.S`);
      writeFileSync(path, `#include "test.h"\nTEST_BEGIN\n${body}\nj pass\nTEST_END\n`);
      return buildProgram([path]);
    };

    it('exits 0 for a program that passes', async () => {
      const elf = program('passes', 'li t1, 6\nli t2, 7\nmul t3, t1, t2\nCHECK(1, t3, 42)');
      const r = await box.run(['boot', '--engine', 'rv64', '--bios', 'none', '--kernel', elf]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /passed \(\d+ instructions/);
    });

    it('exits non-zero and names the failed check', async () => {
      const elf = program('fails', 'li t1, 6\nCHECK(1, t1, 6)\nCHECK(3, t1, 7)');
      const r = await box.run(['boot', '--engine', 'rv64', '--bios', 'none', '--kernel', elf]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /test 3 failed/);
    });

    it('refuses a file that is not a RISC-V ELF', async () => {
      const r = await box.run(['boot', '--bios', 'none', '--kernel', '/usr/bin/linux.uml']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--bios none runs a bare-metal RISC-V ELF/);
    });
  },
);
