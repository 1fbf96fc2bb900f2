// The relay (proxy.ts) against a real gdbserver on a plain host program, with no kernel: the generic path (^C to the
// server, exit reporting, target description with includes), and real gdb through the stub on top of it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { startGdbStub } from '../../gdbstub/index.js';
import { connectProxy } from '../../gdbstub/proxy.js';
import { runGdb } from '../helpers/gdb.js';

function gdbserver(t: TestContext, program: string[]) {
  const child = spawn('gdbserver', ['--once', '-', ...program], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  t.after(kill);
  child.stderr!.resume();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stream = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  stream.on('error', () => {});
  return { child, stream, exited };
}

describe('proxy to a real gdbserver', { timeout: 120_000 }, () => {
  it('handshake, target description, registers, step, ^C, exit', async (t) => {
    const { stream, exited } = gdbserver(t, [
      '/bin/sh',
      '-c',
      'i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done; exit 3',
    ]);
    const target = await connectProxy(stream);
    assert.equal(target.arch, 'x86_64');
    const xml = target.targetXml('target.xml')!;
    assert.match(xml, /<target/);
    for (const m of xml.matchAll(/<xi:include\s+href="([^"]+)"/g))
      assert.ok(target.targetXml(m[1]!), `${m[1]} fetched`);
    const regs = await target.readRegisters(target.lastStop().thread);
    assert.ok(regs.length >= 17 * 8, `g: ${regs.length} bytes`);
    const stop = await target.resume({ step: true });
    assert.equal(stop.kind, 'step');
    assert.match(stop.expedited ?? '', /^([0-9a-f]+:[0-9a-f]+;)+$/);
    const running = target.resume({ step: false });
    setTimeout(() => target.interrupt(), 300);
    const stopped = await running;
    assert.equal(stopped.kind, 'interrupt');
    assert.equal(stopped.signal, 2);
    // SIGINT is the client's to pass or not; continue without it: the shell runs to its exit
    const end = await target.resume({ step: false });
    assert.deepEqual([end.kind, end.exitCode], ['exited', 3]);
    await exited; // the proxy hung up, so gdbserver --once is gone
  });

  it('real gdb through the stub on the relay: registers, memory, breakpoints, kill', async (t) => {
    const { stream, exited } = gdbserver(t, ['/bin/sleep', '30']);
    const target = await connectProxy(stream, { onKill: () => undefined });
    const stub = await startGdbStub(target, { port: 0, waitGdb: true });
    t.after(() => stub.close());
    const r = await runGdb(
      '/bin/sleep',
      [
        `target remote 127.0.0.1:${stub.port}`,
        'p/x $pc',
        'x/2xb $pc',
        'break *($pc + 0)',
        'info breakpoints',
        'stepi',
        'p/x $pc',
        'kill',
      ],
      { t, timeoutMs: 60_000 },
    );
    assert.match(r.out, /^\$1 = 0x[0-9a-f]+$/m, r.out + r.err);
    assert.match(r.out, /^0x[0-9a-f]+.*:\s+0x[0-9a-f]{2}\s+0x[0-9a-f]{2}$/m);
    assert.notEqual(/^\$1 = (\S+)/m.exec(r.out)![1], /^\$2 = (\S+)/m.exec(r.out)![1]);
    assert.match(r.out, /\[Inferior 1 \(Remote target\) killed\]/);
    await stub.killed;
    await exited;
  });
});
