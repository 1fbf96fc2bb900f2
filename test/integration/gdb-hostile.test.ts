// Hostile and unlucky gdb clients against kwb's stub on a real UML guest (issue 14): each case once broke the guest
// or kwb; here the stub answers as gdb expects and the guest then finishes its command with its own exit status.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { FIXTURE_TIMEOUT_MS, fixtureTree, umlKernel } from '../helpers/fixtures.js';
import { bootDebugUml, runGdb } from '../helpers/gdb.js';
import { RawClient, tick } from '../helpers/gdbstub-fake.js';
import { hostfsEscape, hostSecret, SECRET } from '../helpers/confine.js';
import { Sandbox, until } from '../helpers/kwb.js';
import { NO_THREAD } from '../helpers/rsp-fuzz.js';
import { memoryUnderNonReader, runServed, UML_TEXT, type ServedGuest } from '../helpers/served.js';

const STATUS = 7;
const COMMAND = ['sh', '-c', `exit ${STATUS}`];
// for a guest a test interrupts while it runs: a bare `exit` can end it before a fast machine's ^C
const LASTING = ['sh', '-c', `sleep 8; exit ${STATUS}`];

describe('gdb stub against hostile clients (UML)', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let box: Sandbox | undefined;
  afterEach(() => {
    if (!box) return;
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    box = undefined;
  });

  /** The guest held at its first instruction (--wait-gdb) by the real CLI, and a raw client attached to it. */
  async function attached(t: TestContext, command = COMMAND): Promise<{ guest: ServedGuest; c: RawClient }> {
    box = new Sandbox();
    const guest = await runServed(box, umlKernel(), command, { extra: ['--wait-gdb'] });
    const c = await RawClient.connect(guest.port);
    t.after(() => c.close());
    assert.match(await c.request('?', 30_000), /^T05/);
    return { guest, c };
  }

  /** Detach, then the guest runs its command to the end and kwb exits with its status. */
  async function finishes(guest: ServedGuest, c: RawClient): Promise<void> {
    assert.equal(await c.request('D'), 'OK');
    const r = await guest.result;
    assert.equal(r.code, STATUS, r.stderr);
  }

  const threadPackets = (tid: string) => [
    `vCont;s:${tid}`,
    `vCont;c:${tid}`,
    `vCont;s:1;c:${tid}`,
    `Hg${tid}`,
    `Hc${tid}`,
    `T${tid}`,
    `qThreadExtraInfo,${tid}`,
  ];

  it('a thread that does not exist, in any packet, is an error and the guest lives (plain relay)', async (t) => {
    // the stub as it serves a kernel without debug info: gdbserver's own threads
    const u = await bootDebugUml(t, { waitGdb: true, command: COMMAND });
    const c = await RawClient.connect(u.stub.port);
    t.after(() => c.close());
    const thread = /^QC([0-9a-f]+)$/.exec(await c.request('qC', 30_000))![1]!;
    for (const p of threadPackets(NO_THREAD)) assert.equal(await c.request(p), 'E01', p);
    assert.match(await c.request(`vCont;s:${thread}`), /^T05/);
    assert.equal(await c.request('D'), 'OK');
    assert.deepEqual(await u.guest.wait(), { kind: 'exited', code: STATUS });
  });

  it('a thread that does not exist is an error with kernel tasks as threads too', async (t) => {
    const { guest, c } = await attached(t);
    for (const p of threadPackets(NO_THREAD)) assert.equal(await c.request(p), 'E01', p);
    assert.match(await c.request('s'), /^T05/);
    await finishes(guest, c);
  });

  it('G with fewer bytes than the registers is refused and writes nothing', async (t) => {
    const { guest, c } = await attached(t);
    const regs = await c.request('g');
    assert.match(regs, /^[0-9a-fx]{64,}$/);
    assert.match(await c.request('G' + regs.slice(0, 2).replace(/x/g, '0')), /^E/);
    assert.equal(await c.request('g'), regs);
    await finishes(guest, c);
  });

  it("a client's QPassSignals:02 does not stop ^C from interrupting, nor make it end the guest", async (t) => {
    const { guest, c } = await attached(t, LASTING);
    assert.equal(await c.request('QPassSignals:02'), 'OK');
    c.send('vCont;c');
    await tick(1000); // the kernel boots meanwhile
    c.raw(Buffer.from([3]));
    assert.match(await c.next(30_000), /^T02/);
    await finishes(guest, c);
  });

  it('a client that pipelines 4000 large reads and never reads the replies: kwb stays under 100 MB', async (t) => {
    box = new Sandbox();
    const guest = await runServed(box, umlKernel(), COMMAND, { extra: ['--wait-gdb'] });
    const m = await memoryUnderNonReader(guest, { requests: 4000, ms: 8000, memoryBase: UML_TEXT });
    t.diagnostic(`kwb: ${m.before.toFixed(0)} MiB before the client, peak ${m.peak.toFixed(0)} MiB under it`);
    assert.ok(m.peak < 100, `kwb peaked at ${m.peak.toFixed(0)} MiB (${m.before.toFixed(0)} MiB before)`);
    // the client has hung up: the guest runs on to its end
    const r = await guest.result;
    assert.equal(r.code, STATUS, r.stderr);
  });

  it('a frozen gdb (SIGSTOP) is taken over by a second gdb that connects again', async (t) => {
    box = new Sandbox();
    const guest = await runServed(box, umlKernel(), COMMAND, { extra: ['--wait-gdb'] });
    const vmlinux = join(fixtureTree('um'), 'vmlinux');
    const target = `target remote 127.0.0.1:${guest.port}`;
    // an interactive gdb, attached, at its prompt; then frozen
    const frozen = spawn('gdb', ['-nx', '-q', '-ex', target, vmlinux], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => frozen.kill('SIGKILL'));
    let frozenOut = '';
    frozen.stdout!.on('data', (d: Buffer) => (frozenOut += d.toString()));
    frozen.stderr!.on('data', (d: Buffer) => (frozenOut += d.toString()));
    await until(() => /\(gdb\) $/.test(frozenOut) && frozenOut.includes('Remote debugging'), 'gdb to attach', 60_000);
    frozen.kill('SIGSTOP');
    const second = await runGdb(vmlinux, [target, target, 'p $pc', 'detach'], { t, timeoutMs: 60_000 });
    assert.match(second.err, /another debugger is attached; connect again within 20 s to take over/);
    assert.match(second.out, /\$1 = .*0x[0-9a-f]+/, second.out + second.err);
    assert.match(second.out, /\[Inferior 1 \(Remote target\) detached\]/);
    const r = await guest.result;
    assert.equal(r.code, STATUS, r.stderr);
    // the frozen gdb, woken, finds its connection gone
    frozen.kill('SIGCONT');
    frozen.stdin!.end('stepi\nquit\n');
    await new Promise((resolve) => frozen.once('close', resolve));
    assert.match(frozenOut, /Remote connection closed/);
  });

  it('a guest served to gdb reaches no host file through hostfs; gdb breaks, steps, interrupts and detaches', async (t) => {
    box = new Sandbox();
    const secret = hostSecret();
    t.after(secret.remove);
    // the escape, then a sleep announced on the kernel console (kwb's stderr) to be interrupted in
    const command = `${hostfsEscape(secret.dir)}; echo '<3>kwb-test: sleeping' > /dev/kmsg; sleep 3; exit ${STATUS}`;
    const guest = await runServed(box, umlKernel(), ['sh', '-c', command], { extra: ['--wait-gdb'] });
    const vmlinux = join(fixtureTree('um'), 'vmlinux');
    const gdb = await runGdb(
      vmlinux,
      [
        `target remote 127.0.0.1:${guest.port}`,
        'break path_mount', // the guest's first hostfs mount
        'continue',
        'stepi',
        'p $pc', // $1
        'delete',
        'continue', // interrupted in the sleep
        'p $pc', // $2
        'detach',
      ],
      {
        t,
        timeoutMs: 120_000,
        interruptAfter: { when: () => guest.stderr().includes('kwb-test: sleeping'), delayMs: 500 },
      },
    );
    const out = gdb.out + gdb.err;
    assert.match(gdb.out, /Breakpoint 1, .*path_mount/, out);
    assert.match(gdb.out, /\$1 = .*0x[0-9a-f]+ <path_mount\+\d+>/, out);
    assert.match(gdb.out, /received signal SIGINT, Interrupt\./, out);
    assert.match(gdb.out, /\$2 = .*0x[0-9a-f]+/, out);
    assert.match(gdb.out, /\[Inferior 1 \(Remote target\) detached\]/, out);
    const r = await guest.result;
    assert.equal(r.code, STATUS, r.stderr);
    assert.doesNotMatch(r.stdout, new RegExp(SECRET));
    assert.match(r.stderr, /can't create \/m2\/usr\/kwb-was-here: Read-only file system/);
    assert.match(r.stdout, /\broot\b/); // its own session dir is all /m2 shows
    assert.doesNotMatch(r.stdout, /\bproc\b/); // not gdbserver's /proc either
  });

  it("stepping one of UML's helper threads (no symbols: gdbserver's threads) is refused, not a hang", async (t) => {
    box = new Sandbox();
    const stripped = join(box.tmp, 'linux-stripped'); // kwb then serves gdbserver's threads, UML's helpers too
    // without its notes (the build-id) too: kwb would know this build's offsets from the kernel it was stripped from
    execFileSync('strip', ['--remove-section=.notes', '-o', stripped, umlKernel()]);
    const guest = await runServed(box, stripped, LASTING, { extra: ['--wait-gdb'] });
    const c = await RawClient.connect(guest.port);
    t.after(() => c.close());
    const main = /thread:([0-9a-f]+);/.exec(await c.request('?', 30_000))![1]!;
    c.send('vCont;c');
    await tick(3000); // the kernel boots and starts its helper threads
    c.raw(Buffer.from([3]));
    assert.match(await c.next(30_000), /^T02/);
    const threads: string[] = [];
    for (let r = await c.request('qfThreadInfo'); r.startsWith('m'); r = await c.request('qsThreadInfo'))
      threads.push(...r.slice(1).split(','));
    const helper = threads.find((id) => id !== main);
    assert.ok(helper, `threads: ${threads.join(',')}`);
    assert.match(
      await c.request(`vCont;s:${helper}`, 10_000),
      /^E\.kwb: thread [0-9a-f]+ cannot be stepped \(.*helper/,
    );
    assert.match(await c.request(`vCont;s:${main}`, 10_000), /^T05/);
    assert.equal(await c.request('D'), 'OK');
    rmSync(stripped); // the test's own, not something kwb left
    const r = await guest.result;
    assert.equal(r.code, STATUS, r.stderr);
  });

  it('listening beyond loopback, kwb warns that anyone who can reach the port controls the guest', async () => {
    box = new Sandbox();
    const guest = await runServed(box, umlKernel(), COMMAND, { host: '0.0.0.0' });
    const r = await guest.result;
    assert.equal(r.code, STATUS, r.stderr);
    assert.match(
      r.stderr,
      /kwb: warning: the gdb stub listens on 0\.0\.0\.0:\d+, beyond this host: anyone who can reach that port controls the guest/,
    );
  });
});
