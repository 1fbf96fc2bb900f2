// Firmware smoke test: OpenSBI (the generic fw_dynamic build QEMU ships) boots on kwb's CPU with QEMU's spike
// device tree: it probes CSRs and PMP (16 entries, 54 address bits), prints its banner through HTIF, and enters an
// S-mode payload, which makes an SBI call (console putchar) and then reports through tohost. Uses a throwaway
// machine (RAM, CLINT, HTIF) built here; the real machine is engine/rv64's part 2.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryBus } from '../../../engine/rv64/bus';
import { Cpu, Stop } from '../../../engine/rv64/cpu/cpu';
import { warmUp } from '../../../engine/rv64/cpu/warmup';
import { CLINT_BASE, CLINT_SIZE, Clint } from '../../../engine/rv64/devices/clint';
import { Htif } from '../../../engine/rv64/devices/htif';
import { loadElf, parseElf } from '../../../engine/rv64/loader';
import { QEMU, hasQemu, hasToolchain } from '../../rv64/build';

const FIRMWARE = '/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.elf';
const skip = !hasQemu()
  ? 'QEMU is not installed'
  : !hasToolchain()
    ? 'riscv64-unknown-elf-gcc is not installed'
    : !existsSync(FIRMWARE)
      ? `${FIRMWARE} is missing (Debian: qemu-system-data)`
      : false;

const PAYLOAD = `
  .text
  li a7, 1          # legacy SBI console putchar
  li a0, 'K'
  ecall
  li t0, 0x1000008  # HTIF tohost (QEMU spike's window, from the device tree)
  li t1, 1
  sd t1, 0(t0)
1: j 1b
`;

describe('OpenSBI on the rv64 CPU', { skip }, () => {
  it('boots to an S-mode payload that calls SBI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-sbi-'));
    try {
      execFileSync(QEMU, ['-M', `spike,dumpdtb=${join(dir, 'spike.dtb')}`, '-bios', 'none'], { stdio: 'ignore' });
      writeFileSync(join(dir, 'p.S'), PAYLOAD);
      execFileSync('riscv64-unknown-elf-gcc', [
        '-march=rv64gc',
        '-mabi=lp64d',
        '-c',
        join(dir, 'p.S'),
        '-o',
        join(dir, 'p.o'),
      ]);
      execFileSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', join(dir, 'p.o'), join(dir, 'p.bin')]);

      warmUp();
      const bus = new MemoryBus(0x80000000, 128 << 20);
      const fw = parseElf(new Uint8Array(readFileSync(FIRMWARE)));
      loadElf(fw, bus);
      const cpu = new Cpu(bus);
      const clint = new Clint(cpu);
      bus.map(CLINT_BASE, CLINT_SIZE, clint);
      let out = '';
      let exit: number | undefined;
      // the spike device tree places fromhost at 0x1000000 and tohost at 0x1000008
      bus.map(
        0x1000000,
        4096,
        new Htif(
          bus,
          0x1000000,
          0x1000008,
          0x1000000,
          (code) => {
            exit = code;
            cpu.requestStop();
          },
          (b) => {
            out += Buffer.from(b).toString('latin1');
          },
        ),
      );
      const DTB = 0x87000000,
        INFO = 0x86000000,
        NEXT = 0x80200000;
      bus.writePhys(DTB, new Uint8Array(readFileSync(join(dir, 'spike.dtb'))).subarray(0, 64 << 10));
      bus.writePhys(NEXT, new Uint8Array(readFileSync(join(dir, 'p.bin'))));
      const info = new DataView(new ArrayBuffer(48)); // struct fw_dynamic_info, version 2
      [0x4942534fn, 2n, BigInt(NEXT), 1n /* S-mode */, 0n, (1n << 64n) - 1n].forEach((v, i) =>
        info.setBigUint64(i * 8, v, true),
      );
      bus.writePhys(INFO, new Uint8Array(info.buffer));
      cpu.reset(fw.entry);
      cpu.setX(10, 0n);
      cpu.setX(11, BigInt(DTB));
      cpu.setX(12, BigInt(INFO));
      while (exit === undefined && cpu.retired() < 50_000_000) {
        const stop = cpu.run(Math.min(100_000, Math.max(1, clint.untilDeadline())));
        clint.tick();
        if (stop === Stop.Idle && !clint.skipToDeadline()) break;
      }
      assert.match(out, /OpenSBI v\d/);
      assert.match(out, /Boot HART PMP Count\s*: 16/);
      assert.match(out, /Boot HART PMP Address Bits\s*: 54/);
      assert.match(out, /Domain0 Next Mode\s*: S-mode/);
      assert.ok(out.endsWith('K'), `the payload's SBI putchar arrived (output ends ${JSON.stringify(out.slice(-20))})`);
      assert.equal(exit, 0, 'the S-mode payload reported through tohost');
      assert.equal(cpu.priv, 1, 'in S-mode');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
