// Kernel awareness on the riscv64 fixture kernel under QEMU (-M virt, its own gdbstub), relayed by kwb's stub: the
// same LinuxTarget as for UML, with the riscv64 switch context (thread.ra/sp/s[]) and `current` from tp/sscratch,
// checked against the kernel's own lx-ps and lx-dmesg run by gdb-multiarch in the same session.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../extension/adapter/launch.js';
import { startGdbStub } from '../../gdbstub/index.js';
import { linuxAware } from '../../gdbstub/linux/index.js';
import { connectProxy } from '../../gdbstub/proxy.js';
import { fixtureTree } from '../helpers/fixtures.js';
import { runGdb } from '../helpers/gdb.js';
import { TASK_CHECK_COMMANDS, checkTasksAgainstKernelScripts } from '../helpers/linux.js';
import { hasQemu } from '../rv64/build.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(
  'kernel-aware stub on riscv64 (QEMU)',
  { timeout: 300_000, skip: !hasQemu() && 'needs qemu-system-riscv64' },
  () => {
    it("tasks as threads, kthreadd's stack through __schedule, ps and dmesg equal lx-ps and lx-dmesg", async (t) => {
      const tree = fixtureTree('riscv');
      const port = await freePort();
      const qemu = spawn(
        'qemu-system-riscv64',
        [
          '-M',
          'virt',
          '-m',
          '256M',
          '-nographic',
          '-monitor',
          'none',
          '-kernel',
          join(tree, 'arch/riscv/boot/Image'),
          '-append',
          'console=ttyS0',
          '-S',
          '-gdb',
          `tcp:127.0.0.1:${port}`,
        ],
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

      const r = await runGdb(
        join(tree, 'vmlinux'),
        [`target remote 127.0.0.1:${stub.port}`, ...TASK_CHECK_COMMANDS, 'detach'],
        { gdb: 'gdb-multiarch', t, timeoutMs: 180_000, scripts: tree },
      );
      const all = r.out + r.err;
      if (process.env.KWB_SHOW) process.stdout.write(`${r.out}\n${r.err}\n`);
      const threads = checkTasksAgainstKernelScripts(r.out, all, 10);
      assert.match(threads, /Thread 1 "[^"]+" \(pid 1 /);
    });
  },
);
