// The reference for kwb's rv64 machine: the RISC-V fixture kernel and kwb's test init under QEMU's virt machine
// (OpenSBI firmware) reach the init, which prints what test/helpers/rv64.ts expects and powers the machine off.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { INIT_MARKER, bootQemu, expectedInitLines, initLines, rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';

describe(
  'RISC-V fixture under qemu-system-riscv64 -M virt',
  { skip: rv64QemuSkipReason(), timeout: FIXTURE_TIMEOUT_MS },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-rv64-ref-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const append = 'console=ttyS0';

    it('boots to the init marker, reads /proc and powers off', () => {
      const { image, initramfs } = rv64Fixture();
      const r = bootQemu({ image, initramfs, append });
      assert.equal(r.status, 0, `QEMU did not power off cleanly:\n${r.console.slice(-2000)}`);
      assert.ok(r.console.includes(INIT_MARKER), r.console.slice(-2000));
      assert.deepEqual(initLines(r.console), expectedInitLines({ image, append }));
    });

    it('reads the first sector of a virtio-blk disk without writing the image', () => {
      const { image, initramfs } = rv64Fixture();
      const disk = join(dir, 'disk.img');
      const content = Buffer.alloc(1 << 20);
      content.write('kwb disk\x00sector0 and more', 0, 'latin1');
      writeFileSync(disk, content);
      const r = bootQemu({ image, initramfs, append: `${append} quiet`, disk });
      assert.equal(r.status, 0, r.console.slice(-2000));
      assert.deepEqual(
        initLines(r.console),
        expectedInitLines({ image, append: `${append} quiet`, vda: 'kwb disk.sector0' }),
      );
      assert.deepEqual(readFileSync(disk), content);
    });
  },
);
