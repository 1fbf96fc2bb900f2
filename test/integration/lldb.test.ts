// lldb as the RSP client, against kwb's stub on the UML fixture kernel served as `kwb boot --gdb` serves it
// (relay to gdbserver, kernel-aware): lldb builds its register set from the target description the stub passes on,
// so this needs the full one (gdbserver describes no registers unless asked the way gdb asks).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { bootGuest } from '../../engine/boot.js';
import { serveGuest } from '../../engine/serve.js';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures.js';
import { umlTree } from '../helpers/gdb.js';

function lldb(t: TestContext, commands: string[]): Promise<{ code: number | null; out: string }> {
  const args = ['--no-lldbinit', '--batch'];
  for (const c of commands) args.push('-o', c);
  const child = spawn('lldb', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  t.after(kill);
  const timer = setTimeout(kill, 180_000);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

describe('lldb against the stub', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  it('registers, memory, disassembly, a breakpoint hit, kill; the guest then ends', async (t) => {
    const kernel = join(umlTree(), 'linux');
    const symbol = /^([0-9a-f]+) [Tt] __do_sys_newuname$/m.exec(
      execFileSync('nm', [kernel], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
    );
    assert.ok(symbol, 'the fixture kernel has __do_sys_newuname');
    const address = `0x${symbol[1]!.replace(/^0+/, '')}`;
    const guest = await bootGuest({
      kernel,
      console: 'pipe',
      debug: { wait: true },
      command: ['uname', '-r'],
      mem: '128M',
      timeoutSec: 300,
    });
    t.after(() => guest.stop());
    guest.output.resume();
    const stub = await serveGuest(guest, { port: 0, waitGdb: true, vmlinux: kernel, log: () => {} });
    t.after(() => stub.close());

    const r = await lldb(t, [
      `gdb-remote 127.0.0.1:${stub.port}`,
      'register read rip rsp',
      'memory read --format x --size 8 --count 2 $rsp',
      'disassemble --start-address $pc --count 3',
      `breakpoint set --address ${address}`,
      'process continue',
      'register read rip',
      'process kill',
    ]);
    assert.equal(r.code, 0, r.out);
    const [, beforeBp, afterBp] = r.out.split(/\(lldb\) (?:register read rip rsp|process continue)\n/);
    assert.ok(afterBp !== undefined, r.out);
    assert.match(beforeBp!, /rip = 0x[0-9a-f]{16}\n\s+rsp = 0x[0-9a-f]{16}/);
    assert.match(beforeBp!, /^0x[0-9a-f]+: 0x[0-9a-f]{16} 0x[0-9a-f]{16}$/m); // the memory read
    assert.match(beforeBp!, /-> +0x[0-9a-f]+[^\n]*: \w+/); // the disassembly, at the pc
    assert.match(afterBp, /stop reason = breakpoint 1\.1/);
    assert.match(afterBp, new RegExp(`rip = 0x0*${address.slice(2)}\\b`));
    assert.match(afterBp, /Process \d+ exited/);
    const result = await guest.wait();
    assert.equal(result.kind, 'killed');
    assert.match(result.detail ?? '', /killed by gdb/);
    assert.equal((guest as { alive?(): boolean }).alive?.(), false);
  });
});
