// Kernel awareness on the riscv64 fixture kernel under QEMU (-M virt, its own gdbstub), relayed by kwb's stub: the
// same LinuxTarget as for UML, with the riscv64 switch context (thread.ra/sp/s[]) and `current` from tp/sscratch,
// checked against the kernel's own lx-ps and lx-dmesg run by gdb-multiarch in the same session.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../extension/adapter/launch.js';
import { startGdbStub } from '../../gdbstub/index.js';
import { linuxAware } from '../../gdbstub/linux/index.js';
import { connectProxy } from '../../gdbstub/proxy.js';
import { fixtureTree } from '../helpers/fixtures.js';
import { runGdb } from '../helpers/gdb.js';
import { hasQemu } from '../rv64/build.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function section(out: string, name: string): string {
  const m = new RegExp(`^${name}-start\\n([\\s\\S]*?)^${name}-end$`, 'm').exec(out);
  assert.ok(m, `no ${name} section in gdb output:\n${out}`);
  return m[1]!;
}
const mark = (name: string, ...commands: string[]) => [`echo ${name}-start\\n`, ...commands, `echo ${name}-end\\n`];
const monitor = (command: string) => `python gdb.write(gdb.execute('monitor ${command}', to_string=True))`;

describe('kernel-aware stub on riscv64 (QEMU)', { timeout: 300_000, skip: !hasQemu() && 'needs qemu-system-riscv64' }, () => {
  it('tasks as threads, kthreadd\'s stack through __schedule, ps and dmesg equal lx-ps and lx-dmesg', async (t) => {
    const tree = fixtureTree('riscv');
    const port = await freePort();
    const qemu = spawn(
      'qemu-system-riscv64',
      ['-M', 'virt', '-m', '256M', '-nographic', '-monitor', 'none', '-kernel', join(tree, 'arch/riscv/boot/Image'), '-append', 'console=ttyS0', '-S', '-gdb', `tcp:127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(() => qemu.kill('SIGKILL'));
    let console = '';
    qemu.stdout!.on('data', (d: Buffer) => (console += d.toString()));
    qemu.stderr!.resume();
    let sock;
    for (let i = 0; ; i++) {
      sock = connect(port, '127.0.0.1');
      const ok = await new Promise<boolean>((r) => {
        sock!.once('connect', () => r(true));
        sock!.once('error', () => r(false));
      });
      if (ok) break;
      if (i > 100) throw new Error('QEMU did not listen');
      await sleep(100);
    }
    const warnings: string[] = [];
    const target = await linuxAware(await connectProxy(sock), join(tree, 'vmlinux'), (w) => warnings.push(w));
    assert.deepEqual(warnings, []);
    // run the kernel until it has nothing left to do (no root file system: it panics), then stop it there
    const running = target.resume({ step: false });
    for (let i = 0; !/Kernel panic/.test(console); i++) {
      if (i > 1200) throw new Error(`the kernel did not get to the end of its boot:\n${console}`);
      await sleep(100);
    }
    target.interrupt();
    assert.equal((await running).kind, 'interrupt');
    const stub = await startGdbStub(target, { port: 0, waitGdb: true });
    t.after(() => stub.close());

    // runGdb runs `gdb`, which in Debian knows only the host's architecture: this one is gdb-multiarch
    const bin = mkdtempSync(join(tmpdir(), 'kwb-gdb-'));
    t.after(() => rmSync(bin, { recursive: true, force: true }));
    symlinkSync('/usr/bin/gdb-multiarch', join(bin, 'gdb'));
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    t.after(() => (process.env.PATH = path));
    const r = await runGdb(
      join(tree, 'vmlinux'),
      [
        `target remote 127.0.0.1:${stub.port}`,
        ...mark('threads', 'info threads'),
        ...mark('lxps', 'lx-ps'),
        ...mark('ps', monitor('ps')),
        ...mark('lxdmesg', 'lx-dmesg'),
        ...mark('dmesg', monitor('dmesg')),
        `python gdb.execute('thread %d' % [t.num for t in gdb.selected_inferior().threads() if t.name == 'kthreadd'][0])`,
        ...mark('bt', 'bt'),
        'detach',
      ],
      { t, timeoutMs: 180_000, scripts: tree },
    );
    const all = r.out + r.err;
    if (process.env.KWB_SHOW) process.stdout.write(`${r.out}\n${r.err}\n`);
    const threads = section(r.out, 'threads');
    assert.match(threads, /Thread 2 "kthreadd" \(pid 2 S/, all);
    assert.match(threads, /Thread 1 "[^"]+" \(pid 1 /);
    const shown = [...threads.matchAll(/Thread \d+ "([^"]*)" \(pid (\d+) /g)].map((m) => `${m[2]} ${m[1]}`).sort();
    const lxps = [...section(r.out, 'lxps').matchAll(/^0x[0-9a-f]+ +(\d+) +(.*)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    assert.ok(lxps.length > 10, all);
    assert.deepEqual(shown, lxps);
    const ps = [...section(r.out, 'ps').matchAll(/^ *(\d+) \S (.*)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    assert.deepEqual(ps, lxps);
    const dmesg = section(r.out, 'dmesg');
    assert.match(dmesg, /Linux version /);
    assert.equal(dmesg, section(r.out, 'lxdmesg'));
    const bt = section(r.out, 'bt');
    assert.match(bt, /__schedule/, all);
    assert.match(bt, / kthreadd \(/);
  });
});
