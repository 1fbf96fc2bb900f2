// A seeded random-packet fuzz of kwb's gdb stub on a real UML guest (test/helpers/rsp-fuzz.ts): a few thousand
// packets, bounded in time; every packet is answered as it should be and the guest then finishes its command with its
// own exit status. A failure names its seed: KWB_FUZZ_SEED=N npm test test/integration/gdb-fuzz.test.ts replays it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, until } from '../helpers/kwb.js';
import { fuzzSeed, RspFuzzer } from '../helpers/rsp-fuzz.js';
import { runServed, UML_TEXT } from '../helpers/served.js';

const STATUS = 7;

describe('gdb stub fuzz (UML)', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  it('3000 random packets, then the guest finishes its command with its exit status', async (t) => {
    const seed = fuzzSeed();
    t.diagnostic(`seed ${seed}`);
    const box = new Sandbox();
    // the guest's command runs until the fuzz is over, which the test tells it through a shared directory
    const shared = mkdtempSync(join(tmpdir(), 'kwb-fuzz-'));
    t.after(() => {
      box.dispose();
      rmSync(shared, { recursive: true, force: true });
    });
    const command = ['sh', '-c', `while [ ! -e ${shared}/over ]; do sleep 0.1; done; exit ${STATUS}`];
    const guest = await runServed(box, umlKernel(), command, { extra: ['--share', shared] });
    let ended = false;
    void guest.result.then(() => (ended = true));
    t.after(() => {
      if (!ended) process.kill(guest.pid, 'SIGTERM'); // a failed run: the guest is not to outlive the test
    });
    const fuzzer = new RspFuzzer(guest.port, { seed, packets: 3000, timeLimitMs: 150_000, memoryBase: UML_TEXT });
    const stats = await fuzzer.run().catch((err: unknown) => {
      t.diagnostic(`kwb's stderr:\n${guest.stderr().slice(-2000)}`);
      throw err;
    });
    t.diagnostic(
      `${stats.packets} packets (${stats.sessions} sessions, ${stats.resumes} resumes) in ${stats.ms} ms: ` +
        `${((stats.packets * 1000) / stats.ms).toFixed(0)} packets/s`,
    );
    writeFileSync(join(shared, 'over'), '');
    await until(() => ended, `the guest to finish its command after the fuzz (seed ${seed})`, 60_000);
    const r = await guest.result;
    assert.equal(r.code, STATUS, `seed ${seed}: ${r.stderr}`);
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
  });
});
