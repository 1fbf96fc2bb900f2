// rv64 boot benchmark: the RISC-V fixture kernel (Debian's linux-source-6.1, the minimal virt config) with
// kwb's test init, from `kwb boot` to the guest's poweroff, next to qemu-system-riscv64 -M virt (OpenSBI, TCG) booting
// the same Image and initramfs in the same run. Both times are whole processes (start-up included), medians of 3.
// Also the machine's instructions per second on that boot, in-process. Run alone with `npx tsx bench/rv64-boot.ts`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { warmUp } from '../engine/rv64/cpu/warmup';
import { parseKernelImage } from '../engine/rv64/kernel-image';
import { Machine } from '../engine/rv64/machine';
import { bootQemu, INIT_MARKER, rv64Fixture, rv64QemuSkipReason } from '../test/helpers/rv64';
import { median, type BenchRow } from './row';

const RUNS = 3;
const CLI = join(__dirname, '..', 'dist', 'cli.js');
const APPEND = 'console=ttyS0 earlycon=sbi';

function kwbBoot(image: string, initramfs: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'boot', '--kernel', image, '--initrd', initramfs, '--timeout', '300'], {
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0 || !r.stdout.includes(INIT_MARKER))
    throw new Error(`kwb boot failed (status ${r.status}): ${r.stderr.trim()}`);
  return seconds;
}

/** Boot to poweroff in this process: instructions retired and seconds spent running them. */
function machineBoot(image: string, initramfs: string): { instructions: number; seconds: number } {
  warmUp();
  const m = new Machine({
    kernel: parseKernelImage(readFileSync(image)),
    initrd: readFileSync(initramfs),
    bootargs: APPEND,
    memBytes: 256 << 20,
    console: () => {},
  });
  const t0 = performance.now();
  while (m.run(50_000_000, true).kind !== 'power') {
    /* until poweroff */
  }
  return { instructions: m.cpu.retired(), seconds: (performance.now() - t0) / 1000 };
}

export async function benchRv64Boot(): Promise<BenchRow[]> {
  const skip = rv64QemuSkipReason();
  if (skip) throw new Error(skip);
  const { image, initramfs } = rv64Fixture();
  const kwb = median(Array.from({ length: RUNS }, () => kwbBoot(image, initramfs)));
  const qemu = median(
    Array.from({ length: RUNS }, () => {
      const q = bootQemu({ image, initramfs, append: APPEND });
      if (q.status !== 0 || !q.console.includes(INIT_MARKER))
        throw new Error(`QEMU did not boot the fixture (status ${q.status})`);
      return q.seconds;
    }),
  );
  const run = machineBoot(image, initramfs);
  return [
    {
      name: 'rv64 boot: Linux 6.1 + init to poweroff, wall time (kwb boot vs qemu-system-riscv64 -M virt)',
      value: Math.round(kwb * 1000) / 1000,
      unit: 's',
      reference: Math.round(qemu * 1000) / 1000,
      ratio: Math.round((kwb / qemu) * 100) / 100,
      goal: 'ratio <= 10 (long term <= 2)',
      note: `median of ${RUNS}, whole processes; ratio = kwb / QEMU`,
    },
    {
      name: 'rv64 boot: instructions per second over that boot',
      value: Math.round(run.instructions / run.seconds / 1e4) / 100,
      unit: 'MIPS',
      note: `${(run.instructions / 1e6).toFixed(1)}M instructions in ${run.seconds.toFixed(2)} s (interpreter, built-in SBI)`,
    },
  ];
}

if (require.main === module) void benchRv64Boot().then((rows) => console.table(rows));
