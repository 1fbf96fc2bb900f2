// Kernel awareness on kwb's own rv64 machine (the stub's in-process Target, made kernel-aware the way `kwb boot --gdb`
// does): the RISC-V fixture kernel runs to its init, gdb-multiarch attaches, and the tasks it sees as threads, their
// stacks, `monitor ps` and `monitor dmesg` are checked against the kernel's own lx-ps and lx-dmesg in the same session.
// Afterwards the guest goes on and powers off with status 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { bootGuest } from '../../engine/boot';
import { serveGuest } from '../../engine/serve.js';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { runGdb } from '../helpers/gdb';
import { TASK_CHECK_COMMANDS, checkTasksAgainstKernelScripts } from '../helpers/linux';
import { rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';

const GDB = 'gdb-multiarch';
const skip =
  spawnSync(GDB, ['--version'], { stdio: 'ignore' }).status !== 0 ? `${GDB} is not installed` : rv64QemuSkipReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kernel-aware stub on the rv64 engine', { skip, timeout: FIXTURE_TIMEOUT_MS }, () => {
  it("tasks as threads, kthreadd's stack through __schedule, ps and dmesg equal lx-ps and lx-dmesg", async (t) => {
    const { tree, image, vmlinux, initramfs } = rv64Fixture();
    // kwb.hold: the test init waits for a line of input before powering off, so there is a guest to look at
    const guest = await bootGuest({
      kernel: image,
      initrd: initramfs,
      append: ['kwb.hold'],
      console: 'pipe',
      debug: { wait: false },
      timeoutSec: 300,
    });
    t.after(() => guest.stop());
    let console = '';
    guest.output.on('data', (d: Buffer) => (console += d.toString()));
    const warnings: string[] = [];
    const stub = await serveGuest(guest, { port: 0, vmlinux, log: (w) => warnings.push(w) });
    t.after(() => stub.close());
    for (let i = 0; !console.includes('holding until a line of input'); i++) {
      if (i > 1200) throw new Error(`the guest did not reach its init:\n${console}`);
      await sleep(100);
    }

    const r = await runGdb(vmlinux, [`target remote 127.0.0.1:${stub.port}`, ...TASK_CHECK_COMMANDS, 'detach'], {
      gdb: GDB,
      t,
      timeoutMs: 180_000,
      scripts: tree,
    });
    const all = r.out + r.err;
    const threads = checkTasksAgainstKernelScripts(r.out, all, 5);
    assert.match(threads, /Thread \d+ "init" \(pid 1 /);
    assert.deepEqual(
      warnings.filter((w) => !w.startsWith('gdbstub: ')),
      [],
      'no kernel-awareness warnings',
    );

    // reading the task list did not disturb the guest: it finishes its init and powers off
    guest.input.write('\n');
    assert.deepEqual(await guest.wait(), { kind: 'exited', code: 0 });
    assert.match(console, /kwb-rv64-init: powering off/);
  });
});
