// Hostile and unlucky clients at the stub, over real TCP, against the in-memory target: threads that do not exist,
// short register writes, the stub's own signals passed, a client that never reads, a frozen client.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { exposureWarning } from '../../../gdbstub/server.js';
import { startGdbStub, type GdbStubHandle } from '../../../gdbstub/index.js';
import { frame } from '../../../gdbstub/packet.js';
import { MEM_BASE, MemTarget, RawClient, REGS, tick, until } from '../../helpers/gdbstub-fake.js';
import { fuzzSeed, RspFuzzer } from '../../helpers/rsp-fuzz.js';

/** The in-memory target, counting what reaches it. */
class CountingTarget extends MemTarget {
  reads = 0;
  override readMemory(addr: bigint, len: number): Promise<Uint8Array> {
    this.reads++;
    return super.readMemory(addr, len);
  }
}

async function setup(
  t: TestContext,
  opts: { takeoverIdleMs?: number } = {},
): Promise<{ target: CountingTarget; stub: GdbStubHandle; c: RawClient }> {
  const target = new CountingTarget();
  const stub = await startGdbStub(target, { port: 0, waitGdb: true, ...opts });
  t.after(() => stub.close());
  const c = await RawClient.connect(stub.port);
  t.after(() => c.close());
  return { target, stub, c };
}

describe('gdbstub against hostile clients', () => {
  it('a packet naming a thread that does not exist is refused before it reaches the target', async (t) => {
    const { c, target } = await setup(t);
    for (const p of ['vCont;s:9', 'vCont;c:ffffffff', 'vCont;s:1;c:9', 'vCont;S05:p1.9', 'Hg9', 'Hc9', 'T9'])
      assert.equal(await c.request(p), 'E01', p);
    assert.equal(await c.request('qThreadExtraInfo,9'), 'E01');
    assert.deepEqual(target.resumes, []);
    // named threads that exist, and "all"/"any", go through
    assert.equal(await c.request('vCont;s:2'), 'T05thread:2;');
    assert.equal(await c.request('vCont;s:-1'), 'T05thread:1;');
    assert.equal(await c.request('Hc0'), 'OK');
    assert.equal(await c.request('s'), 'T05thread:1;');
  });

  it('G with fewer (or more) bytes than the registers writes nothing', async (t) => {
    const { c, target } = await setup(t);
    const before = Buffer.from(target.regs);
    assert.equal(await c.request('Gff'), 'E16');
    assert.equal(await c.request('G' + 'ab'.repeat(REGS * 8 + 1)), 'E16');
    assert.deepEqual(target.regs, before);
    assert.equal(await c.request('G' + 'ab'.repeat(REGS * 8)), 'OK');
    assert.equal(target.regs.toString('hex'), 'ab'.repeat(REGS * 8));
    // the same for one register
    assert.equal(await c.request('P1=ff'), 'E16');
    assert.equal(target.regs.subarray(8, 16).toString('hex'), 'ab'.repeat(8));
  });

  it('QPassSignals never passes SIGINT or SIGTRAP, the signals the stub stops the target with', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('QPassSignals:02;05;0e'), 'OK');
    assert.deepEqual(target.passed, [14]);
  });

  it('a client that sends without reading is read no further until it reads', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('QStartNoAckMode'), 'OK');
    c.sock.pause(); // never read: the replies (8 KiB of hex each) pile up on the stub's side
    const count = 4000;
    const requests = Buffer.concat(Array.from({ length: count }, () => frame('m1000,1000')));
    c.raw(requests);
    await until(() => target.reads > 100, 10_000);
    // the reads stop once the socket buffers and the stub's allowance are full, far short of all of them
    let seen = -1;
    while (seen !== target.reads) {
      seen = target.reads;
      await tick(300);
    }
    assert.ok(target.reads < count / 2, `${target.reads} of ${count} requests served to a client that does not read`);
    // once the client reads, every request is served
    c.sock.resume();
    for (let i = 0; i < count; i++) assert.equal((await c.next(10_000)).length, 0x2000);
    assert.equal(target.reads, count);
  });

  it('a client that holds the target stopped without a word is taken over', async (t) => {
    const { c, stub, target } = await setup(t, { takeoverIdleMs: 300 });
    assert.equal(await c.request('Z0,1180,1'), 'OK');
    // the client goes silent, as a frozen gdb does; a new client replaces it and finds the target stopped
    await tick(400);
    const next = await RawClient.connect(stub.port);
    t.after(() => next.close());
    assert.equal(await next.request('?'), 'T05thread:1;');
    await c.waitClosed();
    assert.equal(target.breakpoints.size, 0);
    assert.equal(target.running, false);
    assert.equal(stub.attached, true);
  });

  it('a refused client that connects again takes over, also from a client the target runs for', async (t) => {
    const { c, stub } = await setup(t, { takeoverIdleMs: 300 });
    c.send('vCont;c'); // running for the first client: it waits for a stop, silent, and is not idle
    await until(() => stub.running);
    await tick(400);
    const refused = await RawClient.connect(stub.port);
    assert.match(await refused.request('qSupported'), /connect again within 20 s to take over/);
    await refused.waitClosed();
    const again = await RawClient.connect(stub.port);
    t.after(() => again.close());
    assert.equal(await again.request('?'), 'T02thread:1;');
    await c.waitClosed();
    assert.equal(stub.running, false);
  });

  it('random packets (the fuzzer of the UML test, here against the in-memory target)', async (t) => {
    const { stub, c } = await setup(t);
    c.close();
    const seed = fuzzSeed();
    t.diagnostic(`seed ${seed}`);
    const fuzzer = new RspFuzzer(stub.port, { seed, packets: 2000, timeLimitMs: 30_000, memoryBase: MEM_BASE });
    const stats = await fuzzer.run();
    assert.ok(stats.packets >= 2000, `seed ${seed}: ${JSON.stringify(stats)}`);
  });

  it('warns when the stub listens beyond loopback', () => {
    assert.equal(exposureWarning('127.0.0.1', 1234), undefined);
    assert.equal(exposureWarning('::1', 1234), undefined);
    assert.equal(exposureWarning('::ffff:127.0.0.2', 1234), undefined);
    assert.match(
      exposureWarning('0.0.0.0', 1234)!,
      /0\.0\.0\.0:1234.*anyone who can reach that port controls the guest/,
    );
    assert.match(exposureWarning('::', 1234)!, /\[::\]:1234/);
  });
});
