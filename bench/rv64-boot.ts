// rv64 boot benchmark: the RISC-V fixture kernel (Debian's linux-source-6.1, the minimal virt config) with
// kwb's test init, from `kwb boot` to the guest's poweroff, next to qemu-system-riscv64 -M virt (OpenSBI, TCG) booting
// the same Image and initramfs in the same run: once with the plain initramfs, once with a large gzipped one (the test
// init plus ~10 MiB of text, ~8 MiB gzipped: the kernel inflates it, a hot loop). Both times are whole processes
// (start-up included), medians of 3. Also, in-process, the machine's instructions per second on each boot interpreted,
// and with the block compiler (the default) on the gzipped boot, with the share of its time spent compiling. Alone: `npx tsx bench/rv64-boot.ts`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { warmUp } from '../engine/rv64/cpu/warmup';
import { parseKernelImage } from '../engine/rv64/kernel-image';
import { Machine } from '../engine/rv64/machine';
import { bootQemu, INIT_MARKER, rv64Fixture, rv64QemuSkipReason } from '../test/helpers/rv64';
import { median, type BenchRow } from './row';

const RUNS = 3;
const CLI = join(__dirname, '..', 'dist', 'cli.js');
const APPEND = 'console=ttyS0 earlycon=sbi';
/** Bytes of filler text in the large initramfs (base64 of pseudo-random bytes: gzip gets it to ~3/4). */
const FILLER_BYTES = 10_800_000;

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

function qemuBoot(image: string, initramfs: string): number {
  const q = bootQemu({ image, initramfs, append: APPEND });
  if (q.status !== 0 || !q.console.includes(INIT_MARKER))
    throw new Error(`QEMU did not boot the fixture (status ${q.status})`);
  return q.seconds;
}

/** One newc cpio member (a regular file), padded as the format wants. */
function cpioFile(name: string, data: Uint8Array): Buffer {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const fields = [1, 0o100644, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
  const head = Buffer.from('070701' + fields.map(hex).join('') + name + '\0', 'latin1');
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  return Buffer.concat([head, pad(head.length), data, pad(data.length)]);
}

/** The fixture's initramfs plus a second archive with a large text file, gzipped (the kernel unpacks both). */
function largeGzippedInitramfs(initramfs: string): Buffer {
  const random = Buffer.alloc((FILLER_BYTES / 4) * 3);
  let s = 0x2545f491;
  for (let i = 0; i < random.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    random[i] = s & 0xff;
  }
  const trailer = cpioFile('TRAILER!!!', new Uint8Array(0));
  const filler = Buffer.concat([cpioFile('filler.txt', Buffer.from(random.toString('base64'))), trailer]);
  return gzipSync(Buffer.concat([readFileSync(initramfs), filler]));
}

interface InProcessBoot {
  instructions: number;
  seconds: number;
  compileSeconds: number;
  blocks: number;
}

/** Boot to poweroff in this process: instructions retired, seconds spent running them, and the compiler's share. */
function machineBoot(image: string, initrd: Uint8Array, jit: boolean): InProcessBoot {
  warmUp();
  const m = new Machine({
    kernel: parseKernelImage(readFileSync(image)),
    initrd,
    bootargs: APPEND,
    memBytes: 256 << 20,
    console: () => {},
    jit,
  });
  const t0 = performance.now();
  while (m.run(50_000_000, true).kind !== 'power') {
    /* until poweroff */
  }
  const seconds = (performance.now() - t0) / 1000;
  const { blocks, compileMs } = m.cpu.jitStats;
  return { instructions: m.cpu.retired(), seconds, compileSeconds: compileMs / 1000, blocks };
}

const mips = (b: InProcessBoot) => Math.round(b.instructions / b.seconds / 1e4) / 100;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

export async function benchRv64Boot(): Promise<BenchRow[]> {
  const skip = rv64QemuSkipReason();
  if (skip) throw new Error(skip);
  const { image, initramfs } = rv64Fixture();
  const dir = mkdtempSync(join(tmpdir(), 'kwb-bench-rv64-'));
  try {
    const large = join(dir, 'initramfs-large.cpio.gz');
    writeFileSync(large, largeGzippedInitramfs(initramfs));
    const rows: BenchRow[] = [];
    const boots: [string, string][] = [
      ['plain initramfs', initramfs],
      [`${(readFileSync(large).length / 2 ** 20).toFixed(1)} MiB gzipped initramfs`, large],
    ];
    for (const [what, initrd] of boots) {
      const kwb = median(Array.from({ length: RUNS }, () => kwbBoot(image, initrd)));
      const qemu = median(Array.from({ length: RUNS }, () => qemuBoot(image, initrd)));
      rows.push({
        name: `rv64 boot, ${what}: Linux 6.1 + init to poweroff, wall time (kwb boot vs qemu-system-riscv64 -M virt)`,
        value: round3(kwb),
        unit: 's',
        reference: round3(qemu),
        ratio: Math.round((kwb / qemu) * 100) / 100,
        goal: 'ratio <= 2 (moonshot <= 1)',
        note: `median of ${RUNS}, whole processes; ratio = kwb / QEMU`,
      });
    }
    for (const [what, initrd] of boots) {
      const run = machineBoot(image, readFileSync(initrd), false);
      rows.push({
        name: `rv64 boot, ${what}: instructions per second (interpreter)`,
        value: mips(run),
        unit: 'MIPS',
        note: `${(run.instructions / 1e6).toFixed(1)}M instructions in ${run.seconds.toFixed(2)} s, built-in SBI`,
      });
    }
    // the compiler where it has hot code to compile (on the plain boot no block gets hot enough)
    const interpreted = machineBoot(image, readFileSync(large), false);
    const compiled = machineBoot(image, readFileSync(large), true);
    rows.push({
      name: 'rv64 boot, gzipped initramfs: instructions per second with the block compiler (vs the interpreter)',
      value: mips(compiled),
      unit: 'MIPS',
      reference: mips(interpreted),
      ratio: Math.round((interpreted.seconds / compiled.seconds) * 100) / 100,
      goal: 'ratio >= 1 (speed-up over the interpreter)',
      note: `${compiled.blocks} blocks; compiling took ${((100 * compiled.compileSeconds) / compiled.seconds).toFixed(1)}% of ${compiled.seconds.toFixed(2)} s`,
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void benchRv64Boot().then((rows) => console.table(rows));
