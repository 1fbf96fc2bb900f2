// The relay's stepping on a real gdbserver and real gdb, with a host program shaped like UML's kernel
// (test/fixtures/ticker.c: a one-shot timer signal re-armed by its handler, so one lost signal stops it for good):
// the program's own signals never reach the client and are never lost, whatever the client does; write
// watchpoints emulated by single-stepping fire in the signal handler, as hardware ones do; ^C stops the stepping.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Writable } from 'node:stream';
import { before, after, describe, it, type TestContext } from 'node:test';
import { startGdbStub } from '../../gdbstub/index.js';
import { connectProxy, type ProxyTarget } from '../../gdbstub/proxy.js';
import { runGdb } from '../helpers/gdb.js';
import { RawClient, until } from '../helpers/gdbstub-fake.js';

const SIGALRM = 14;
let dir = '';
let ticker = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kwb-ticker-'));
  ticker = join(dir, 'ticker');
  const cc = spawnSync('cc', ['-g', '-O0', '-no-pie', '-o', ticker, join(__dirname, '..', 'fixtures', 'ticker.c')], {
    encoding: 'utf8',
  });
  assert.equal(cc.status, 0, cc.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The ticker under gdbserver, relayed (SIGALRM as the program's own signal) and served by kwb's stub. */
async function serveTicker(t: TestContext, emulateWatchpoints: boolean) {
  const child = spawn('gdbserver', ['--once', '-', ticker], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  child.stderr!.resume();
  /** Packets the relay sent to gdbserver. */
  const sent: string[] = [];
  const toServer = new Writable({
    write(chunk: Buffer, _encoding, done) {
      sent.push(chunk.toString('latin1'));
      child.stdin!.write(chunk, done);
    },
  });
  const stream = Duplex.from({ readable: child.stdout!, writable: toServer });
  stream.on('error', () => {});
  const notices: string[] = [];
  const target: ProxyTarget = await connectProxy(stream, {
    passSignals: [SIGALRM],
    signalInterrupt: 'SIGINT',
    emulateWatchpoints,
    notice: (line) => notices.push(line),
  });
  const stub = await startGdbStub(target, { port: 0, waitGdb: true });
  t.after(() => stub.close());
  /** The program's exit status, once it has run to its end. */
  const exitStatus = async (ms: number) => {
    await until(() => target.lastStop().kind === 'exited', ms).catch(() => {});
    const end = target.lastStop();
    assert.equal(end.kind, 'exited', 'the program ran to its end (no timer signal was lost)');
    return end.exitCode;
  };
  return { stub, notices, exitStatus, sent };
}

const gdbArgs = (port: number, commands: string[]) => [`target remote 127.0.0.1:${port}`, ...commands];

describe('relay: the program’s own signals while stepping', { timeout: 120_000 }, () => {
  it('stepi 300 with `handle SIGALRM stop print`, then detach: no SIGALRM seen, none lost', async (t) => {
    const { stub, exitStatus } = await serveTicker(t, false);
    const r = await runGdb(
      ticker,
      gdbArgs(stub.port, [
        'handle SIGALRM stop print',
        'break spin',
        'continue',
        'stepi 300',
        'p ticks', // $1
        'detach',
      ]),
      { t, timeoutMs: 90_000 },
    );
    assert.match(r.out, /Breakpoint 1, .*spin/, r.out + r.err);
    assert.match(r.out, /\$1 = \d+/, r.out + r.err);
    assert.doesNotMatch(r.out + r.err, /SIGALRM/);
    assert.match(r.out, /\[Inferior 1 \(Remote target\) detached\]/);
    assert.equal(await exitStatus(30_000), 7);
  });

  it('a raw client steps twice and hangs up: the program runs on to its end', async (t) => {
    const { stub, exitStatus } = await serveTicker(t, false);
    const c = await RawClient.connect(stub.port);
    t.after(() => c.close());
    const spin = /^([0-9a-f]+) t spin$/m.exec(spawnSync('nm', [ticker], { encoding: 'utf8' }).stdout)![1]!;
    assert.equal(await c.request(`Z0,${spin},1`), 'OK');
    assert.match(await c.request('c', 30_000), /^T05/);
    assert.equal(await c.request(`z0,${spin},1`), 'OK');
    // the timer's signal is due while the program is stopped: each step meets one
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      assert.match(await c.request('s', 30_000), /^T05/);
    }
    c.close();
    assert.equal(await exitStatus(30_000), 7);
  });

  it('next over a line that loops 1,000 times: range steps passed through, signals on the way hidden', async (t) => {
    const { stub, exitStatus, sent } = await serveTicker(t, false);
    const r = await runGdb(ticker, gdbArgs(stub.port, ['break count', 'continue', 'next', 'p sum', 'detach']), {
      t,
      timeoutMs: 90_000,
    });
    assert.match(r.out, /^\d+\s+sum\+\+;$/m, r.out + r.err);
    assert.match(r.out, /^\$1 = 499500$/m);
    assert.doesNotMatch(r.out + r.err, /SIGALRM/);
    const packets = sent.join('');
    const ranges = packets.match(/\$vCont;r/g)?.length ?? 0;
    const steps = packets.match(/\$vCont;s/g)?.length ?? 0;
    assert.ok(ranges >= 1 && steps < 100, `range steps ${ranges}, single steps ${steps}`);
    assert.equal(await exitStatus(30_000), 7);
  });

  it('emulated write watchpoints fire in the signal handler; read watchpoints are refused; ^C stops the stepping', async (t) => {
    const { stub, notices, exitStatus } = await serveTicker(t, true);
    const r = await runGdb(
      ticker,
      gdbArgs(stub.port, [
        'break spin',
        'continue',
        'delete',
        'watch ticks',
        'continue',
        'continue',
        'delete',
        'rwatch work',
        'continue',
        'delete',
        'watch never_written',
        'continue',
        'delete',
        'detach',
      ]),
      { t, timeoutMs: 90_000, interruptAfter: { when: () => notices.length > 0, delayMs: 4000 } },
    );
    const out = r.out + r.err;
    assert.match(out, /Hardware watchpoint 2: ticks/, out);
    const changes = [...r.out.matchAll(/Old value = (\d+)\nNew value = (\d+)\non_alarm/g)];
    assert.equal(changes.length, 2, out);
    for (const c of changes) assert.equal(BigInt(c[2]!), BigInt(c[1]!) + 1n);
    assert.match(out, /Could not insert hardware watchpoint 3|read and access watchpoints need hardware/);
    assert.match(out, /Program received signal SIGINT/);
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /emulates write watchpoints by single-stepping/);
    assert.equal(await exitStatus(30_000), 7);
  });
});
