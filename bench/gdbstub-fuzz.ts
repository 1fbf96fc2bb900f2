// kwb's gdb stub under hostile clients, as `kwb run --gdb` serves the UML fixture kernel: the rate of the random-packet
// fuzzer (test/helpers/rsp-fuzz.ts, a fixed seed), and kwb's peak resident set while a client pipelines 4000 reads of
// 128 KiB and never reads a reply (goal: under 100 MB; it was 700-900 MB before back-pressure).
import { join } from 'node:path';
import { fixtureTree } from '../test/helpers/fixtures.js';
import { Sandbox } from '../test/helpers/kwb.js';
import { RspFuzzer } from '../test/helpers/rsp-fuzz.js';
import { memoryUnderNonReader, runServed, UML_TEXT } from '../test/helpers/served.js';
import type { BenchRow } from './row.js';

const SEED = 20261202;
const PACKETS = 3000;
const REQUESTS = 4000;

export async function benchGdbStubFuzz(): Promise<BenchRow[]> {
  const kernel = join(fixtureTree('um'), 'linux');
  const box = new Sandbox();
  try {
    const busy = await runServed(box, kernel, ['sleep', '100000']);
    const fuzzer = new RspFuzzer(busy.port, {
      seed: SEED,
      packets: PACKETS,
      timeLimitMs: 300_000,
      memoryBase: UML_TEXT,
    });
    const stats = await fuzzer.run();
    process.kill(busy.pid, 'SIGTERM');
    await busy.result;

    const held = await runServed(box, kernel, ['true'], { extra: ['--wait-gdb'] });
    const m = await memoryUnderNonReader(held, { requests: REQUESTS, ms: 8000, memoryBase: UML_TEXT });
    const done = await held.result;
    if (done.code !== 0) throw new Error(`the guest did not finish after the non-reading client: ${done.stderr}`);
    return [
      {
        name: 'gdbstub: fuzz packets through kwb (UML)',
        value: (stats.packets * 1000) / stats.ms,
        unit: 'packets/s',
        note: `seed ${SEED}: ${stats.packets} packets, ${stats.sessions} sessions, ${stats.resumes} resumes (step, or continue + ^C) in ${stats.ms} ms`,
      },
      {
        name: 'gdbstub: kwb peak RSS under a client that never reads',
        value: m.peak,
        unit: 'MiB',
        reference: m.before,
        ratio: m.peak / m.before,
        goal: '< 100 MiB',
        note: `${REQUESTS} pipelined m of 128 KiB, none of the replies read; reference: kwb's RSS before the client`,
      },
    ];
  } finally {
    box.dispose();
  }
}

if (require.main === module) {
  void benchGdbStubFuzz().then(
    (rows) => console.table(rows),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
