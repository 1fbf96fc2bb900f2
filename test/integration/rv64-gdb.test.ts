// gdb-multiarch on the RISC-V fixture's vmlinux, attached to kwb's stub serving the built-in rv64 machine (the same
// call `kwb boot --gdb` makes): break in start_kernel, step, backtrace, print, a watchpoint that fires, the CSRs and
// the privilege level, physical memory access, and the guest going on to power off after gdb detaches.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bootGuest } from '../../engine/boot';
import { serveGuest } from '../../engine/serve.js';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { runGdb } from '../helpers/gdb';
import { INIT_MARKER, rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';

const GDB = 'gdb-multiarch';
const skip =
  spawnSync(GDB, ['--version'], { stdio: 'ignore' }).status !== 0 ? `${GDB} is not installed` : rv64QemuSkipReason();

/** The value gdb printed for `$N = value`. */
function value(out: string, n: number): string {
  const m = new RegExp(`^\\$${n} = (.*)$`, 'm').exec(out);
  assert.ok(m, `no $${n} in gdb output:\n${out}`);
  return m[1]!;
}

describe('gdb-multiarch through kwb stub on the rv64 machine', { skip, timeout: FIXTURE_TIMEOUT_MS }, () => {
  it('breaks in start_kernel, steps, backtraces, prints, watches, reads CSRs and physical memory; the guest then finishes', async (t) => {
    const { image, vmlinux, initramfs } = rv64Fixture();
    const guest = await bootGuest({
      kernel: image,
      initrd: initramfs,
      console: 'pipe',
      debug: { wait: true },
      timeoutSec: 300,
    });
    t.after(() => guest.stop());
    let output = '';
    guest.output.on('data', (d: Buffer) => (output += d.toString()));
    const stub = await serveGuest(guest, { port: 0, waitGdb: true });
    t.after(() => stub.close());

    const r = await runGdb(
      vmlinux,
      [
        `target remote 127.0.0.1:${stub.port}`,
        'p/x $pc', // $1: the kernel entry, physical (MMU off)
        'p $priv', // $2: S-mode
        'break start_kernel',
        'continue',
        'bt',
        'p/x $pc', // $3
        'next',
        'next',
        'p/x $pc', // $4
        'stepi',
        'p init_task.comm', // $5
        'p/x $satp', // $6
        'p/x $sstatus', // $7
        'delete',
        'watch system_state',
        'continue',
        'p system_state', // $8
        'delete',
        'monitor phys on',
        'x/2wx 0x80200000',
        'monitor phys off',
        'monitor info machine',
        'detach',
      ],
      { gdb: GDB, timeoutMs: 240_000, t },
    );
    const out = r.out;
    assert.equal(r.code, 0, `${out}\n${r.err}`);
    assert.equal(value(out, 1), '0x80200000');
    assert.equal(value(out, 2), '1');
    assert.match(out, /Breakpoint 1, start_kernel \(\) at init\/main\.c:\d+/);
    assert.match(out, /#0 +start_kernel \(\) at init\/main\.c/);
    assert.match(value(out, 3), /^0xffffffff80[0-9a-f]+$/);
    assert.notEqual(value(out, 4), value(out, 3));
    assert.match(value(out, 5), /^"swapper(\\000)+"$/); // named swapper/0 later, by init_idle()
    assert.match(value(out, 6), /^0x[89a][0-9a-f]{15}$/, 'Sv39/Sv48 translation is on in start_kernel');
    assert.match(
      out,
      /Hardware watchpoint 2: system_state\s+Old value = SYSTEM_BOOTING\s+New value = SYSTEM_SCHEDULING/,
    );
    assert.equal(value(out, 8), 'SYSTEM_SCHEDULING');
    // the Image's first words, read physically: the header's code0 (a jump) and code1
    const image0 = readFileSync(image);
    const words = [image0.readUInt32LE(0), image0.readUInt32LE(4)].map((w) => `0x${w.toString(16).padStart(8, '0')}`);
    assert.match(out, new RegExp(`0x80200000:\\s+${words[0]}\\s+${words[1]}`));
    assert.match(out + r.err, /firmware kwb built-in SBI {2}privilege S/, r.err);

    const result = await guest.wait();
    assert.deepEqual(result, { kind: 'exited', code: 0 });
    assert.ok(output.includes(INIT_MARKER), output.slice(-2000));
  });

  it('^C stops the running machine where it is; kill ends the guest', async (t) => {
    const { image, vmlinux, initramfs } = rv64Fixture();
    const guest = await bootGuest({
      kernel: image,
      initrd: initramfs,
      console: 'pipe',
      debug: { wait: true },
      timeoutSec: 300,
    });
    t.after(() => guest.stop());
    const stub = await serveGuest(guest, { port: 0, waitGdb: true });
    t.after(() => stub.close());
    const r = await runGdb(
      vmlinux,
      [
        `target remote 127.0.0.1:${stub.port}`,
        'continue',
        'p/x $pc', // $1
        'kill',
      ],
      { gdb: GDB, timeoutMs: 120_000, t, interruptAfter: { when: () => stub.running, delayMs: 1000 } },
    );
    assert.match(r.out, /Program received signal SIGINT/, r.out + r.err);
    assert.match(value(r.out, 1), /^0xffffffff8[0-9a-f]+$/, 'stopped in the kernel, with the MMU on');
    assert.match(r.out, /\[Inferior 1 \(Remote target\) killed\]/);
    const result = await guest.wait();
    assert.equal(result.kind, 'killed');
  });
});
