// Malformed input at the stub while it serves a real UML kernel: every bad packet is answered or dropped, the stub
// stays up, the guest is intact, and a real gdb session afterwards works.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frame } from '../../gdbstub/packet.js';
import { bootDebugUml, runGdb } from '../helpers/gdb.js';
import { RawClient, until } from '../helpers/gdbstub-fake.js';

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

describe('gdbstub robustness on UML', { timeout: 300_000 }, () => {
  it('survives malformed packets; the guest and a following gdb session are fine', async (t) => {
    const u = await bootDebugUml(t, {
      waitGdb: false,
      log: process.env.KWB_DEBUG ? (l) => console.log(l) : undefined,
      command: [
        'sh',
        '-c',
        'i=0; while [ $i -lt 2000 ]; do uname -r >/dev/null; echo tick $i; i=$((i+1)); sleep 0.2; done',
      ],
    });
    await until(() => u.output().includes('tick 2'), 60_000);
    const port = u.stub.port;
    const fresh = async () => {
      const c = await RawClient.connect(port);
      t.after(() => c.close());
      return c;
    };
    /** The stub still answers a fresh client, then lets the guest go. */
    const alive = async () => {
      await until(() => !u.stub.attached, 10_000); // the previous client's hang-up has been seen
      const c = await fresh();
      assert.match(await c.request('?'), /^T[0-9a-f]{2}/);
      assert.equal(await c.request('D'), 'OK');
      await c.waitClosed();
    };

    // bad checksums: a '-' for each, nothing else
    let c = await fresh();
    for (let i = 0; i < 20; i++) c.raw('$qSupported#00');
    await until(() => c.naks === 20, 10_000);
    assert.equal(await c.request('qAttached'), '1');

    // truncated escape and bad run-length: an error reply, the connection goes on
    c.raw(frame(Buffer.from('m60000000,}')));
    assert.match(await c.next(), /^E/);
    c.raw(frame(Buffer.from('*"')));
    assert.match(await c.next(), /^E/);

    // absurd lengths: a huge m is bounded; a 1 MB packet is skipped with an error
    const huge = await c.request('m60000000,ffffffff', 30_000);
    assert.ok(huge.length > 0 && huge.length <= 0x40000, `bounded reply, ${huge.length} chars`);
    c.raw('$' + 'a'.repeat(1 << 20) + '#00');
    assert.match(await c.next(30_000), /^E/);
    assert.match(await c.request('m0,ffffffffffffffffffffffffffffffffffff'), /^E/);

    // nonsense arguments for every command letter: each gets an answer
    for (const p of [
      'Z',
      'Z0',
      'Z0,zz,1',
      'z9,1,1',
      'vCont;q',
      'vCont;C',
      'H',
      'Hx1',
      'p',
      'P=',
      'P1=zz',
      'X1,2:',
      'M1,2',
      'G',
      'T',
      'C',
      'S',
      'qXfer:features:read:',
      'qRcmd,z',
      'qThreadExtraInfo,zz',
      'QPassSignals:zz',
    ]) {
      const r = await c.request(p);
      assert.ok(r === '' || /^E/.test(r) || r === 'OK', `${p} -> ${r}`);
    }
    assert.equal(await c.request('qAttached'), '1');
    c.close();
    await alive();

    // random bytes, then a disconnect
    c = await fresh();
    for (let i = 0; i < 8; i++) c.raw(randomBytes(32 * 1024, 0x1234567 + i));
    await new Promise((r) => setTimeout(r, 300));
    c.close();
    await alive();

    // disconnect in the middle of a packet (and of an escape)
    for (const cut of ['$m6000', '$X60000000,4:}', '$qSupported:swbreak+#']) {
      await until(() => !u.stub.attached, 10_000);
      c = await fresh();
      c.raw(cut);
      c.close();
    }
    await alive();

    // the guest is intact: it goes on printing
    const before = u.output().split('\n').length;
    await until(() => u.output().split('\n').length > before + 3, 30_000);

    // and real gdb works: stops in the syscall the guest's loop makes, reads kernel state, lets it go
    await until(() => !u.stub.attached, 10_000);
    const r = await runGdb(
      u.vmlinux,
      [
        `target remote 127.0.0.1:${port}`,
        'break __do_sys_newuname',
        'continue',
        'p utsname()->sysname',
        'delete',
        'detach',
      ],
      { t, timeoutMs: 60_000 },
    );
    assert.match(r.out, /Breakpoint 1, __do_sys_newuname/, r.out + r.err);
    assert.match(r.out, /\$1 = "Linux"/);
    const after = u.output().split('\n').length;
    await until(() => u.output().split('\n').length > after + 3, 30_000);
    assert.doesNotMatch(u.output(), /Kernel panic/);
  });
});

// Issue 14 D2: a step could stop on one of UML's own signals; the stop reached the client and, once it detached or
// hung up, the signal was never delivered: the guest froze for good. Each case ends with the guest finishing its
// command, which needs every timer signal.
describe("gdbstub on UML: stepping never shows or loses UML's own signals", { timeout: 300_000 }, () => {
  /** The guest's result; a failure if it has not finished within 60 s (a frozen guest never does). */
  const finished = (u: Awaited<ReturnType<typeof bootDebugUml>>) =>
    Promise.race([
      u.guest.wait(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the guest did not finish its command within 60 s')), 60_000).unref(),
      ),
    ]);
  const command = ['sh', '-c', 'i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; echo done-ticking; exit 3'];

  it('stepi 3000 with `handle SIGALRM stop print`, then detach: no signal seen, the guest finishes', async (t) => {
    const u = await bootDebugUml(t, { waitGdb: false, command });
    await until(() => u.stub.running, 30_000);
    const r = await runGdb(
      u.vmlinux,
      ['handle SIGALRM stop print', `target remote 127.0.0.1:${u.stub.port}`, 'stepi 3000', 'p $pc', 'detach'],
      { t, timeoutMs: 200_000 },
    );
    assert.match(r.out, /\$1 = /, r.out + r.err);
    assert.doesNotMatch(r.out + r.err, /received signal|SIGALRM/);
    assert.match(r.out, /\[Inferior 1 \(Remote target\) detached\]/);
    assert.deepEqual(await finished(u), { kind: 'exited', code: 3 });
    assert.match(u.output(), /done-ticking/);
  });

  it('a raw client steps twice and hangs up: the guest finishes', async (t) => {
    const u = await bootDebugUml(t, { waitGdb: false, command });
    await until(() => u.stub.running, 30_000);
    const c = await RawClient.connect(u.stub.port);
    t.after(() => c.close());
    assert.match(await c.request('?', 30_000), /^T/);
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 50)); // UML's timer signal comes due meanwhile
      assert.match(await c.request('s', 30_000), /^T05/);
    }
    c.close();
    assert.deepEqual(await finished(u), { kind: 'exited', code: 3 });
  });
});
