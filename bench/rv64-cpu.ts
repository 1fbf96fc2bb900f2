// rv64 CPU benchmark: instructions per second on a compute-bound guest (test/rv64/bench/cpu-bench.c, a CoreMark-like
// mix of list walking, matrix multiply, a state machine and CRC) and a floating-point guest
// (test/rv64/bench/fp-bench.c), each next to qemu-system-riscv64 -M spike -bios none
// running the same ELF in the same run. QEMU's time excludes its start-up, measured with the same program built
// for zero iterations. Run alone with `npx tsx bench/rv64-cpu.ts`.
import { runBareMetal } from '../engine/rv64/baremetal';
import { buildProgram, hasQemu, hasToolchain, runQemu } from '../test/rv64/build';
import type { BenchRow } from './row';

const ITERATIONS = 400;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** One guest program: kwb's instructions/s, and QEMU's on the same ELF (start-up subtracted). */
async function measure(name: string, source: string, iterations: number): Promise<BenchRow> {
  const elf = buildProgram([source], [`-DITERATIONS=${iterations}`]);
  const r = await runBareMetal(elf, { timeoutSec: 600 });
  if (!r.passed) throw new Error(`${source} failed under kwb: ${r.detail ?? r.exitCode}`);
  const kwbIps = r.instructions / r.seconds;
  const row: BenchRow = {
    name,
    value: Math.round(kwbIps / 1e4) / 100,
    unit: 'MIPS',
    note: `${(r.instructions / 1e6).toFixed(0)}M instructions in ${r.seconds.toFixed(2)} s`,
  };
  if (hasQemu()) {
    const empty = buildProgram([source], ['-DITERATIONS=0']);
    const startup = median([0, 1, 2].map(() => runQemu(empty).seconds));
    const times = [0, 1, 2].map(() => {
      const q = runQemu(elf, 300_000);
      if (q.status !== 0) throw new Error(`${source} failed under QEMU (status ${q.status})`);
      return q.seconds;
    });
    const qemuSec = Math.max(1e-3, median(times) - startup);
    const qemuIps = r.instructions / qemuSec;
    row.reference = Math.round(qemuIps / 1e4) / 100;
    row.ratio = Math.round((kwbIps / qemuIps) * 1000) / 1000;
    row.note += `; QEMU ${qemuSec.toFixed(3)} s after ${startup.toFixed(3)} s start-up (TCG JIT); ratio = kwb / QEMU`;
  }
  return row;
}

export async function benchRv64Cpu(): Promise<BenchRow[]> {
  if (!hasToolchain()) throw new Error('riscv64-unknown-elf-gcc is not installed (Debian: gcc-riscv64-unknown-elf)');
  return [
    await measure('rv64 CPU: integer guest (CoreMark-like), instructions/s', 'bench/cpu-bench.c', ITERATIONS),
    await measure('rv64 CPU: floating-point guest (n-body, matmul), instructions/s', 'bench/fp-bench.c', 800),
  ];
}

if (require.main === module) {
  benchRv64Cpu().then(
    (rows) => console.table(rows),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
