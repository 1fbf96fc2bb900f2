// `npm run bench`: every benchmark, each against its reference in the same run; a table on stdout and JSON in
// dist/bench.json (or $KWB_BENCH_OUT).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BenchRow } from './row.js';

type Bench = () => Promise<BenchRow[]>;

/** Benchmarks by file; a file not present in this checkout is skipped. */
const suites: [string, string, string][] = [
  ['uml', './uml', 'benchUml'],
  ['attach', './attach', 'benchAttach'],
  ['gdbstub', './gdbstub', 'benchGdbStub'],
  ['gdbstub-fuzz', './gdbstub-fuzz', 'benchGdbStubFuzz'],
  ['linux-threads', './linux-threads', 'benchLinuxThreads'],
  ['adapter', './adapter', 'benchAdapter'],
  ['rv64-cpu', './rv64-cpu', 'benchRv64Cpu'],
  ['rv64-boot', './rv64-boot', 'benchRv64Boot'],
  ['rv64-reverse', './rv64-reverse', 'benchRv64Reverse'],
  ['bisect', './bisect', 'benchBisect'],
  ['net', './net', 'benchNet'],
  ['farm-build', './build-farm', 'benchFarmBuild'],
  ['farm-bisect', './build-farm', 'benchFarmBisect'],
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const rows: (BenchRow & { suite: string })[] = [];
  for (const [suite, file, fn] of suites) {
    if (only.length && !only.includes(suite)) continue;
    if (!existsSync(join(__dirname, `${file}.ts`))) continue;
    process.stderr.write(`bench: ${suite}...\n`);
    try {
      const mod = (await import(file)) as Record<string, Bench>;
      for (const row of await mod[fn]!()) rows.push({ suite, ...row });
    } catch (err) {
      process.stderr.write(`bench: ${suite} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
  const fmt = (n: number | undefined) => (n === undefined ? '' : Number.isInteger(n) ? String(n) : n.toPrecision(4));
  console.table(
    rows.map((r) => ({
      benchmark: r.name,
      value: `${fmt(r.value)} ${r.unit}`,
      reference: fmt(r.reference),
      ratio: fmt(r.ratio),
      goal: r.goal ?? '',
      note: r.note ?? '',
    })),
  );
  const out = process.env.KWB_BENCH_OUT || join(__dirname, '..', 'dist', 'bench.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + '\n');
  process.stderr.write(`bench: wrote ${out}\n`);
}

void main();
