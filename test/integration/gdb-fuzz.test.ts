// A seeded random-packet fuzz of kwb's gdb stub (test/helpers/rsp-fuzz.ts) on each guest of
// test/helpers/fuzz-guests.ts: the UML fixture, and the RISC-V fixture on kwb's rv64 engine (recorded, so the fuzz
// also runs it backwards). A few thousand packets, bounded in time; every packet is answered as it should be and the
// guest then ends as it would have: its command's exit status, its boot to the poweroff. A failure names its seed:
// KWB_FUZZ_SEED=N npm test test/integration/gdb-fuzz.test.ts replays it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures.js';
import { FUZZ_GUESTS } from '../helpers/fuzz-guests.js';
import { Sandbox, until } from '../helpers/kwb.js';
import { fuzzSeed, RspFuzzer } from '../helpers/rsp-fuzz.js';

for (const target of FUZZ_GUESTS) {
  describe(`gdb stub fuzz (${target.name})`, { skip: target.skip(), timeout: FIXTURE_TIMEOUT_MS }, () => {
    it('3000 random packets, then the guest ends as it would have, with its status', async (t) => {
      const seed = fuzzSeed();
      t.diagnostic(`seed ${seed}`);
      const box = new Sandbox();
      t.after(() => box.dispose());
      const guest = await target.start(box);
      t.after(() => guest.dispose());
      const { served } = guest;
      let ended = false;
      void served.result.then(() => (ended = true));
      t.after(() => {
        if (!ended) process.kill(served.pid, 'SIGTERM'); // a failed run: the guest is not to outlive the test
      });
      const fuzzer = new RspFuzzer(served.port, {
        seed,
        packets: 3000,
        timeLimitMs: 150_000,
        memoryBase: target.memoryBase,
        reverse: target.reverse,
      });
      const stats = await fuzzer.run().catch((err: unknown) => {
        t.diagnostic(`kwb's stderr:\n${served.stderr().slice(-2000)}`);
        throw err;
      });
      t.diagnostic(
        `${stats.packets} packets (${stats.sessions} sessions, ${stats.resumes} resumes) in ${stats.ms} ms: ` +
          `${((stats.packets * 1000) / stats.ms).toFixed(0)} packets/s`,
      );
      await guest.finish();
      await until(() => ended, `the guest to end after the fuzz (seed ${seed})`, 120_000);
      const r = await served.result;
      assert.equal(guest.wrongEnd(r), undefined, `seed ${seed}: ${r.stderr.slice(-2000)}`);
      assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    });
  });
}
