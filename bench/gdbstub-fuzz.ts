// kwb's gdb stub under hostile clients, on each guest of test/helpers/fuzz-guests.ts (the UML fixture under
// `kwb run --gdb`, the RISC-V fixture on kwb's rv64 engine under `kwb boot --gdb`): the rate of the random-packet
// fuzzer (test/helpers/rsp-fuzz.ts, a fixed seed) and kwb's largest resident set over it, and, before the fuzz, kwb's
// peak resident set while a client pipelines 4000 reads of 128 KiB and never reads a reply (goal for UML: under
// 100 MB; it was 700-900 MB before back-pressure; the rv64 machine's RAM and recording live in kwb's own process, so
// its reference is kwb's resident set before the client). Each guest must still end as it would have.
import { FUZZ_GUESTS, type FuzzGuest } from '../test/helpers/fuzz-guests.js';
import { Sandbox, until } from '../test/helpers/kwb.js';
import { RspFuzzer } from '../test/helpers/rsp-fuzz.js';
import { memoryMiB, memoryUnderNonReader } from '../test/helpers/served.js';
import type { BenchRow } from './row.js';

const SEED = 20261202;
const PACKETS = 3000;
const REQUESTS = 4000;

interface GuestFigures {
  packetsPerSecond: number;
  fuzzPeak: number;
  fuzzNote: string;
  before: number;
  peak: number;
}

async function measure(guest: FuzzGuest, box: Sandbox): Promise<GuestFigures> {
  const fuzzed = await guest.start(box);
  let ended = false;
  void fuzzed.served.result.then(() => (ended = true));
  try {
    // the client that never reads first, while kwb's peak is its own
    const m = await memoryUnderNonReader(fuzzed.served, { requests: REQUESTS, ms: 8000, memoryBase: guest.memoryBase });
    const fuzzer = new RspFuzzer(fuzzed.served.port, {
      seed: SEED,
      packets: PACKETS,
      timeLimitMs: 300_000,
      memoryBase: guest.memoryBase,
      reverse: guest.reverse,
    });
    let fuzzPeak = 0;
    const sampler = setInterval(() => (fuzzPeak = Math.max(fuzzPeak, memoryMiB(fuzzed.served.pid).rss)), 100);
    const stats = await fuzzer.run().finally(() => clearInterval(sampler));
    await fuzzed.finish();
    await until(() => ended, `the ${guest.name} guest to end after the fuzz`, 300_000);
    const wrong = fuzzed.wrongEnd(await fuzzed.served.result);
    if (wrong) throw new Error(`the ${guest.name} guest did not end as it would have: ${wrong}`);
    return {
      packetsPerSecond: (stats.packets * 1000) / stats.ms,
      fuzzPeak,
      fuzzNote: `seed ${SEED}: ${stats.packets} packets, ${stats.sessions} sessions, ${stats.resumes} resumes in ${stats.ms} ms`,
      ...m,
    };
  } finally {
    if (!ended) process.kill(fuzzed.served.pid, 'SIGTERM');
    await fuzzed.served.result;
    fuzzed.dispose();
  }
}

export async function benchGdbStubFuzz(): Promise<BenchRow[]> {
  const box = new Sandbox();
  try {
    const rows: BenchRow[] = [];
    let uml: GuestFigures | undefined;
    for (const guest of FUZZ_GUESTS) {
      const skip = guest.skip();
      if (skip) {
        console.error(`gdbstub-fuzz: no ${guest.name} rows: ${skip}`);
        continue;
      }
      const f = await measure(guest, box);
      uml ??= f;
      const rate =
        uml === f ? {} : { reference: uml.packetsPerSecond, ratio: f.packetsPerSecond / uml.packetsPerSecond };
      rows.push(
        {
          name: `gdbstub: fuzz packets through kwb (${guest.name})`,
          value: f.packetsPerSecond,
          unit: 'packets/s',
          ...rate,
          note: `${f.fuzzNote} (step, continue + ^C${guest.reverse ? ', bs, bc' : ''})${uml === f ? '' : '; reference: UML'}`,
        },
        {
          name: `gdbstub: kwb peak RSS over the fuzz (${guest.name})`,
          value: f.fuzzPeak,
          unit: 'MiB',
          note: "kwb's largest VmRSS, sampled every 100 ms over the fuzz",
        },
        {
          name: `gdbstub: kwb peak RSS under a client that never reads (${guest.name})`,
          value: f.peak,
          unit: 'MiB',
          reference: f.before,
          ratio: f.peak / f.before,
          goal: guest.name === 'UML' ? '< 100 MiB' : undefined,
          note: `${REQUESTS} pipelined m of 128 KiB, none of the replies read; reference: kwb's RSS before the client`,
        },
      );
    }
    return rows;
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
