// Every command of the stub, over real TCP, against a small in-memory target.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startGdbStub, type GdbStubHandle } from '../../../gdbstub/index.js';
import { escapeBinary, hexText } from '../../../gdbstub/packet.js';
import { MEM_BASE, MemTarget, RawClient, tick, until } from '../../helpers/gdbstub-fake.js';

async function setup(
  t: TestContext,
  waitGdb = true,
): Promise<{ target: MemTarget; stub: GdbStubHandle; c: RawClient }> {
  const target = new MemTarget();
  const stub = await startGdbStub(target, { port: 0, waitGdb });
  t.after(() => stub.close());
  const c = await RawClient.connect(stub.port);
  t.after(() => c.close());
  return { target, stub, c };
}

const hex = (s: string) => Buffer.from(s, 'hex');

describe('gdbstub commands', () => {
  it('listens on loopback by default and picks a free port for 0', async (t) => {
    const { stub } = await setup(t);
    assert.equal(stub.host, '127.0.0.1');
    assert.ok(stub.port > 0);
  });

  it('qSupported advertises what the stub does; acks until QStartNoAckMode, none after', async (t) => {
    const { c } = await setup(t);
    const sup = await c.request('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386');
    const size = /PacketSize=([0-9a-f]+)/.exec(sup);
    assert.ok(size && Number.parseInt(size[1]!, 16) >= 16 * 1024, sup);
    for (const f of [
      'qXfer:features:read+',
      'vContSupported+',
      'swbreak+',
      'hwbreak+',
      'QStartNoAckMode+',
      'QPassSignals+',
      'qXfer:threads:read+',
    ]) {
      assert.ok(sup.split(';').includes(f), `${f} in ${sup}`);
    }
    assert.equal(c.acks, 1);
    assert.equal(await c.request('QStartNoAckMode'), 'OK');
    assert.equal(c.acks, 2); // that packet is still acked
    assert.equal(await c.request('qAttached'), '1');
    assert.equal(c.acks, 2);
  });

  it('answers a bad checksum with - and then serves the retransmission', async (t) => {
    const { c } = await setup(t);
    c.raw('$qAttached#00');
    await until(() => c.naks === 1);
    assert.equal(await c.request('qAttached'), '1');
  });

  it('retransmits its last reply on -', async (t) => {
    const { c } = await setup(t);
    assert.equal(await c.request('qAttached'), '1');
    c.raw('-');
    assert.equal(await c.next(), '1');
  });

  it('unknown packets get the empty reply', async (t) => {
    const { c } = await setup(t);
    for (const p of ['qFooBar', 'vMustReplyEmpty', 'Qfoo:1', 'vFile:open:', 'j', '!', 'bx'])
      assert.equal(await c.request(p), '', p);
  });

  it('a target that cannot run backwards is not offered as one, and bs/bc get an error that says so', async (t) => {
    const { c } = await setup(t);
    assert.doesNotMatch(await c.request('qSupported:swbreak+'), /Reverse/);
    for (const p of ['bs', 'bc']) assert.match(await c.request(p), /^E\.this target cannot run backwards/, p);
  });

  it('? reports the current stop; g/G and p/P read and write registers', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('?'), 'T05thread:1;');
    const g = await c.request('g');
    assert.equal(g.length, 64);
    assert.equal(hex(g).readBigUInt64LE(24), 0x1100n);
    const regs = Buffer.alloc(32);
    regs.writeBigUInt64LE(0xdeadbeefn, 8);
    regs.writeBigUInt64LE(0x1200n, 24);
    assert.equal(await c.request('G' + regs.toString('hex')), 'OK');
    assert.equal(target.pc(), 0x1200n);
    assert.equal(hex(await c.request('p1')).readBigUInt64LE(0), 0xdeadbeefn);
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(0x42n);
    assert.equal(await c.request('P2=' + v.toString('hex')), 'OK');
    assert.equal(target.regs.readBigUInt64LE(16), 0x42n);
    assert.equal(await c.request('p9'), 'E00');
    assert.match(await c.request('P9=00'), /^E/);
    assert.match(await c.request('Pzz'), /^E/);
    assert.match(await c.request('G123'), /^E/);
  });

  it('m/M/X read and write memory; binary X with escaped bytes; errors for unmapped memory', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('M1000,4:01020304'), 'OK');
    assert.equal(await c.request('m1000,4'), '01020304');
    const data = Buffer.from([0x24, 0x23, 0x7d, 0x2a, 0x03, 0x00, 0xff]);
    const head = Buffer.from(`X1010,${data.length.toString(16)}:`);
    assert.equal(await c.request(Buffer.concat([head, escapeBinary(data)])), 'OK');
    assert.deepEqual(target.memory.subarray(0x10, 0x10 + data.length), data);
    assert.equal(await c.request('X1010,0:'), 'OK'); // gdb's probe
    assert.equal(await c.request('m10,4'), 'E0e');
    assert.equal(await c.request('M10,1:00'), 'E0e');
    assert.match(await c.request('M1000,4:0102'), /^E/); // length mismatch
    assert.match(await c.request('mzz,4'), /^E/);
    assert.equal(await c.request('m1000,0'), '');
    // an absurd length is bounded by the target (and by the stub's packet size)
    const big = await c.request('m1000,ffffffff');
    assert.equal(big.length, target.memory.length * 2);
    assert.match(await c.request('m1000,ffffffffffffffffffffffff'), /^E/);
  });

  it('Z/z insert and remove; unsupported types get the empty reply; c runs to a breakpoint with swbreak', async (t) => {
    const { c, target } = await setup(t);
    await c.request('qSupported:swbreak+;hwbreak+');
    assert.equal(await c.request('Z0,1180,1'), 'OK');
    assert.equal(target.breakpoints.size, 1);
    assert.equal(await c.request('Z4,1000,8'), '');
    assert.match(await c.request('Z9,1000,8'), /^E/);
    assert.equal(await c.request('c'), 'T05swbreak:;thread:1;');
    assert.equal(target.pc(), 0x1180n);
    assert.equal(await c.request('z0,1180,1'), 'OK');
    assert.equal(target.breakpoints.size, 0);
    const info = Buffer.from(await c.request(`qRcmd,${hexText('info breakpoints')}`), 'hex').toString();
    assert.match(info, /no breakpoints/);
  });

  it('a write watchpoint stops with watch:ADDR', async (t) => {
    const { c } = await setup(t);
    assert.equal(await c.request('Z2,1040,8'), 'OK');
    assert.equal(await c.request('c'), 'T05watch:1040;thread:1;');
  });

  it('s, S, C and vCont step and continue, with signals and threads', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('s'), 'T05thread:1;');
    assert.equal(target.pc(), 0x1101n);
    assert.equal(await c.request('vCont?'), 'vCont;c;C;s;S;t');
    assert.equal(await c.request('vCont;s:2;c'), 'T05thread:2;');
    assert.deepEqual(target.resumes.at(-1), { step: true, thread: 2 });
    assert.equal(await c.request('S0b'), 'T05thread:1;');
    assert.deepEqual(target.resumes.at(-1), { step: true, signal: 11, thread: undefined });
    assert.equal(await c.request('vCont;S0e:1'), 'T05thread:1;');
    assert.deepEqual(target.resumes.at(-1), { step: true, signal: 14, thread: 1 });
    // a range step (offered only by targets that step ranges; one that does not steps once, which gdb accepts)
    assert.equal(await c.request('vCont;r1100,1180:1'), 'T05thread:1;');
    assert.deepEqual(target.resumes.at(-1), { step: true, range: { start: 0x1100n, end: 0x1180n }, thread: 1 });
    assert.match(await c.request('vCont;r1100:1'), /^E/);
    assert.match(await c.request('vCont;x'), /^E/);
    assert.match(await c.request('vCont'), /^E/);
    // C with a signal: runs until ^C
    c.send('C0e');
    await until(() => target.running);
    assert.deepEqual(target.resumes.at(-1), { step: false, signal: 14, thread: undefined });
    c.raw(Buffer.from([3]));
    assert.equal(await c.next(), 'T02thread:1;');
  });

  it('^C interrupts vCont;c; packets sent while running wait for the stop', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('QStartNoAckMode'), 'OK');
    c.send('vCont;c');
    await until(() => target.running);
    c.send('qAttached'); // queued until the target stops
    await tick(50);
    c.raw(Buffer.from([3]));
    assert.equal(await c.next(), 'T02thread:1;');
    assert.equal(await c.next(), '1');
  });

  it('threads: qfThreadInfo/qsThreadInfo, qC, T, H, qThreadExtraInfo, qXfer:threads:read', async (t) => {
    const { c } = await setup(t);
    assert.equal(await c.request('qfThreadInfo'), 'm1,2');
    assert.equal(await c.request('qsThreadInfo'), 'l');
    assert.equal(await c.request('qC'), 'QC1');
    assert.equal(await c.request('T2'), 'OK');
    assert.equal(await c.request('T9'), 'E01');
    assert.equal(await c.request('Hg2'), 'OK');
    assert.equal(await c.request('qC'), 'QC2');
    assert.equal(await c.request('Hc-1'), 'OK');
    assert.equal(await c.request('Hg0'), 'OK');
    assert.match(await c.request('Hg9'), /^E/);
    assert.equal(Buffer.from(await c.request('qThreadExtraInfo,1'), 'hex').toString(), 'cpu0 running init');
    const xml = await c.request('qXfer:threads:read::0,1000');
    assert.match(xml, /^l<\?xml/);
    assert.match(xml, /<thread id="1" name="cpu0">running init<\/thread>/);
    assert.match(xml, /<thread id="2" name="cpu1">/);
  });

  it('qXfer:features:read serves target.xml in chunks; unknown annex is an error', async (t) => {
    const { c, target } = await setup(t);
    let xml = '';
    for (;;) {
      const part = await c.request(`qXfer:features:read:target.xml:${xml.length.toString(16)},800`);
      assert.match(part, /^[ml]/);
      xml += part.slice(1);
      if (part[0] === 'l') break;
    }
    assert.equal(xml, target.xml);
    assert.equal(await c.request('qXfer:features:read:nope.xml:0,800'), 'E00');
    assert.match(await c.request('qXfer:features:read:target.xml:zz'), /^E/);
  });

  it('qRcmd: help, info version (non-empty, for lx-* scripts), target commands, unknown', async (t) => {
    const { c } = await setup(t);
    const mon = async (cmd: string) => Buffer.from(await c.request(`qRcmd,${hexText(cmd)}`), 'hex').toString();
    const help = await mon('help');
    assert.match(help, /info version/);
    assert.match(help, /fake-cmd/);
    assert.match(await mon('info version'), /^kwb gdbstub \S+ \(x86_64\)\n$/);
    assert.match(await mon('info target'), /arch x86_64/);
    assert.match(await mon('info threads'), /1 cpu0 \(running init\)/);
    assert.equal(await mon('fake-cmd'), 'fake output\n');
    assert.match(await mon('frobnicate'), /unknown monitor command/);
    assert.match(await c.request('qRcmd,zz'), /^E/);
  });

  it('QPassSignals reaches the target', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('QPassSignals:0e;1a;'), 'OK');
    assert.deepEqual(target.passed, [14, 26]);
    assert.match(await c.request('QPassSignals:zz'), /^E/);
  });

  it('D detaches: breakpoints removed, the target runs free, the connection closes', async (t) => {
    const { c, target, stub } = await setup(t);
    await c.request('Z0,1180,1');
    assert.equal(await c.request('D'), 'OK');
    await c.waitClosed();
    await until(() => target.running);
    assert.equal(target.breakpoints.size, 0);
    assert.equal(target.detached, 1);
    assert.equal(stub.attached, false);
    // a new client can attach: it stops the target
    const c2 = await RawClient.connect(stub.port);
    t.after(() => c2.close());
    assert.equal(await c2.request('?'), 'T02thread:1;');
    assert.equal(target.running, false);
  });

  it('a client that vanishes without detaching leaves the target running, breakpoints removed', async (t) => {
    const { c, target, stub } = await setup(t);
    await c.request('Z0,1180,1');
    await c.request('Z2,1040,8');
    c.close();
    await until(() => target.running);
    assert.equal(target.breakpoints.size, 0);
    await until(() => !stub.attached);
  });

  it('a client connecting right as the previous one hangs up is accepted', async (t) => {
    const { c, stub } = await setup(t);
    assert.equal(await c.request('qAttached'), '1');
    c.close();
    const c2 = await RawClient.connect(stub.port); // no waiting for the stub to notice
    t.after(() => c2.close());
    assert.equal(await c2.request('qAttached'), '1');
  });

  it('disconnecting mid-packet is harmless', async (t) => {
    const { c, target, stub } = await setup(t);
    c.raw('$m1000,');
    c.close();
    await until(() => !stub.attached);
    assert.equal(target.running, false); // no packet came: the held guest is still held
    const c2 = await RawClient.connect(stub.port);
    t.after(() => c2.close());
    assert.equal(await c2.request('qAttached'), '1');
  });

  it('a connection that never sends a packet (a port probe) changes nothing', async (t) => {
    for (const waitGdb of [true, false]) {
      const { c, target, stub } = await setup(t, waitGdb);
      await until(() => stub.attached);
      c.close();
      await until(() => !stub.attached);
      await tick();
      // held stays held, running stays running: not stopped, resumed or detached for the probe
      assert.equal(target.running, !waitGdb);
      assert.equal(target.resumes.length, waitGdb ? 0 : 1);
      assert.equal(target.detached, 0);
      const gdb = await RawClient.connect(stub.port);
      t.after(() => gdb.close());
      assert.equal(await gdb.request('?'), waitGdb ? 'T05thread:1;' : 'T02thread:1;');
    }
  });

  it('a second client is refused with a message while the first goes on', async (t) => {
    const { c, stub } = await setup(t);
    assert.equal(await c.request('qAttached'), '1');
    const c2 = await RawClient.connect(stub.port);
    t.after(() => c2.close());
    assert.equal(
      await c2.request('qSupported'),
      'E.kwb: another debugger is attached; connect again within 20 s to take over',
    );
    await c2.waitClosed();
    assert.equal(await c.request('qAttached'), '1');
  });

  it('k kills the target, closes the connection and settles `killed`', async (t) => {
    const { c, target, stub } = await setup(t);
    c.send('k');
    await c.waitClosed();
    await stub.killed;
    assert.equal(target.killed, 1);
    const c2 = await RawClient.connect(stub.port);
    t.after(() => c2.close());
    assert.match(await c2.request('qSupported'), /^E\.kwb: the guest has exited/);
  });

  it('vKill answers OK', async (t) => {
    const { c, target } = await setup(t);
    assert.equal(await c.request('vKill;1'), 'OK');
    await c.waitClosed();
    assert.equal(target.killed, 1);
  });

  it('without --wait-gdb the target runs from the start; attaching stops it', async (t) => {
    const target = new MemTarget();
    const stub = await startGdbStub(target, { port: 0 });
    t.after(() => stub.close());
    await until(() => target.running);
    assert.equal(stub.running, true);
    const c = await RawClient.connect(stub.port);
    t.after(() => c.close());
    assert.equal(await c.request('?'), 'T02thread:1;');
    assert.equal(stub.running, false);
    assert.equal(await c.request(`m${MEM_BASE.toString(16)},2`), '0000');
  });
});
