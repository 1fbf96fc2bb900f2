// Reverse execution in gdb-multiarch against kwb's stub serving the rv64 machine (the call `kwb boot --gdb` makes),
// on the small S-mode guest test/rv64/supervisor/timetravel.c (no kernel needed): reverse-stepi retraces the pcs
// stepi went through, reverse-continue goes back to the last breakpoint hit, reverse-finish to the caller,
// reverse-next over a line, a watchpoint with reverse-continue finds the last writer with the old value in memory,
// `monitor record clear` forgets the history, and after all that the guest runs on to the same console output and power-off as a run never reversed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { bootGuest } from '../../engine/boot';
import { serveGuest } from '../../engine/serve.js';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { runGdb } from '../helpers/gdb';
import { INIT_MARKER, rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';
import { buildProgram, hasToolchain } from '../rv64/build';

const GDB = 'gdb-multiarch';
const ADAPTER = join(__dirname, '..', '..', 'dist', 'debugAdapter.js');
const SOURCE = join(__dirname, '..', 'rv64', 'supervisor', 'timetravel.c');
const skip =
  spawnSync(GDB, ['--version'], { stdio: 'ignore' }).status !== 0
    ? `${GDB} is not installed`
    : hasToolchain()
      ? false
      : 'riscv64-unknown-elf-gcc is not installed';

/** The value gdb printed for `$N = value`. */
function value(out: string, n: number): string {
  const m = new RegExp(`^\\$${n} = (.*)$`, 'm').exec(out);
  assert.ok(m, `no $${n} in gdb output:\n${out}`);
  return m[1]!;
}

/** The guest built with debug info, and a placeholder initramfs (the guest has no use for one; the engine wants a
 *  root filesystem). */
function guestFiles(t: TestContext): { elf: string; initrd: string } {
  const elf = buildProgram(['supervisor/timetravel.c'], ['-g', '-O1'], 'supervisor');
  const scratch = mkdtempSync(join(tmpdir(), 'kwb-reverse-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const initrd = join(scratch, 'empty.cpio');
  writeFileSync(initrd, Buffer.alloc(512));
  return { elf, initrd };
}

describe('reverse execution in gdb-multiarch on the rv64 machine', { skip, timeout: 600_000 }, () => {
  it('steps and continues back, finishes back to the caller, finds the last writer; then runs on as before', async (t) => {
    const { elf, initrd } = guestFiles(t);
    const boot = async () => {
      const guest = await bootGuest({
        kernel: elf,
        initrd,
        console: 'pipe',
        debug: { wait: true },
        timeoutSec: 300,
      });
      t.after(() => guest.stop());
      let output = '';
      guest.output.on('data', (d: Buffer) => (output += d.toString()));
      const stub = await serveGuest(guest, { port: 0, waitGdb: true });
      t.after(() => stub.close());
      return { guest, stub, output: () => output };
    };

    const plain = await boot();
    const p = await runGdb(elf, [`target remote 127.0.0.1:${plain.stub.port}`, 'continue'], { gdb: GDB, t });
    assert.match(p.out, /exited normally/, p.out + p.err);
    await plain.guest.wait();

    const { guest, stub, output } = await boot();
    const r = await runGdb(
      elf,
      [
        `target remote 127.0.0.1:${stub.port}`,
        'break bump',
        'continue',
        'continue',
        'continue',
        'p i', // $1: the third call
        'reverse-continue',
        'p i', // $2: back at the second
        'monitor when',
        'p/x $pc', // $3
        'stepi',
        'p/x $pc', // $4
        'stepi',
        'p/x $pc', // $5
        'stepi',
        'p/x $pc', // $6
        'reverse-stepi',
        'p/x $pc', // $7 = $5
        'reverse-stepi',
        'p/x $pc', // $8 = $4
        'reverse-stepi',
        'p/x $pc', // $9 = $3
        'reverse-finish',
        'p/x $pc', // $10: in work(), at the call
        'info symbol $pc',
        'delete',
        'watch counter',
        'continue',
        'p counter', // $11: the new value
        'reverse-continue',
        'p counter', // $12: the old value: the write is undone
        'info symbol $pc',
        'reverse-continue',
        'p counter', // $13: the write before
        'monitor record info',
        'stepi',
        'stepi',
        'monitor record clear',
        'reverse-stepi', // nothing before here any more
        'monitor record info',
        'delete',
        'continue',
      ],
      { gdb: GDB, timeoutMs: 300_000, t },
    );
    const out = r.out;
    assert.equal(r.code, 0, `${out}\n${r.err}`);
    assert.equal(value(out, 1), '194');
    assert.match(out, /Breakpoint 1, bump \(i=97\)/);
    assert.equal(value(out, 2), '97');
    assert.deepEqual([value(out, 7), value(out, 8), value(out, 9)], [value(out, 5), value(out, 4), value(out, 3)]);
    assert.notEqual(value(out, 3), value(out, 4));
    assert.match(out, /work \+ \d+ in section \.text/);
    // forward from the call of bump(97): the write of 97; back: before it, the old value in memory
    assert.match(out, /Hardware watchpoint 2: counter\s+Old value = 0\s+New value = 97/);
    assert.equal(value(out, 11), '97');
    assert.match(out, /Hardware watchpoint 2: counter\s+Old value = 97\s+New value = 0\s+bump \(i=97\)/);
    assert.equal(value(out, 12), '0');
    assert.match(out, /bump( \+ \d+)? in section \.text/);
    // the only write before it stored 0 over 0, which gdb does not report: back to the start of the recording
    assert.match(out, /No more reverse-execution history\.\s+_start \(\)/);
    assert.equal(value(out, 13), '0');
    assert.match(
      out + r.err,
      /recorded instructions 0-\d+ \(now 0\), \d+ snapshots, \d+ inputs, memory used [\d.]+ MiB of 1024\.0 MiB/,
    );
    assert.match(out + r.err, /recording history cleared: it starts at instruction 2/);
    // two stepi from the start, cleared: going back stops where it was cleared
    assert.match(out, /No more reverse-execution history\.\s+_start \(\) at \S+crt\.S:7/);
    assert.match(out + r.err, /recorded instructions 2-2 \(now 2\)/);
    assert.match(out, /exited normally/);
    assert.deepEqual(await guest.wait(), { kind: 'exited', code: 0 });
    assert.equal(output(), plain.output(), 'the same console, shown once');
  });

  it('the debug adapter offers Step Back: it lands on the line before, Reverse Continue on the last breakpoint hit', async (t) => {
    const { elf, initrd } = guestFiles(t);
    const line =
      readFileSync(SOURCE, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('counter = i;')) + 1;
    const caller =
      readFileSync(SOURCE, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('bump(i);')) + 1;
    const dc = new DebugClient('node', ADAPTER, 'kwb');
    dc.defaultTimeout = 120_000;
    t.after(() => dc.stop().catch(() => {}));
    await dc.start();
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const capabilities = dc.waitForEvent('capabilities');
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ kernel: elf, initrd } as DebugProtocol.LaunchRequestArguments);
    const caps = (await capabilities) as DebugProtocol.CapabilitiesEvent;
    assert.equal(caps.body.capabilities.supportsStepBack, true);
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [{ line }] });
    const stops = async (run: () => Promise<unknown>) => {
      const stopped = dc.waitForEvent('stopped');
      await run();
      const e = (await stopped) as DebugProtocol.StoppedEvent;
      const top = (await dc.stackTraceRequest({ threadId: e.body.threadId! })).body.stackFrames[0]!;
      const i = await dc.evaluateRequest({ expression: 'i', frameId: top.id, context: 'watch' });
      return { reason: e.body.reason, thread: e.body.threadId!, name: top.name, line: top.line, i: i.body.result };
    };
    const first = await stops(() => dc.configurationDoneRequest());
    assert.deepEqual(first, { reason: 'breakpoint', thread: first.thread, name: 'bump', line, i: '0' });
    const second = await stops(() => dc.continueRequest({ threadId: first.thread }));
    assert.equal(second.i, '97');
    const back = await stops(() => dc.stepBackRequest({ threadId: second.thread }));
    assert.deepEqual(back, { reason: 'step', thread: back.thread, name: 'work', line: caller, i: '97' });
    const again = await stops(() => dc.reverseContinueRequest({ threadId: back.thread }));
    assert.deepEqual(again, { reason: 'breakpoint', thread: again.thread, name: 'bump', line, i: '0' });
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: again.thread });
    await terminated;
  });
});

describe(
  'reverse execution in gdb-multiarch on the RISC-V fixture kernel',
  {
    skip: skip || rv64QemuSkipReason(),
    timeout: FIXTURE_TIMEOUT_MS,
  },
  () => {
    it('reverse-continue with nothing to hit stops at the first recorded instruction (no more history); the boot then ends as always', async (t) => {
      const { image, vmlinux, initramfs } = rv64Fixture();
      const guest = await bootGuest({
        kernel: image,
        initrd: initramfs,
        console: 'pipe',
        debug: { wait: true },
        timeoutSec: 900,
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
          'p/x $pc', // $1: the first instruction
          'break kernel_init',
          'continue',
          'delete',
          'reverse-continue',
          'p/x $pc', // $2
          'reverse-stepi',
          'p/x $pc', // $3
          'monitor record info',
          'continue',
        ],
        { gdb: GDB, timeoutMs: 800_000, t },
      );
      const out = r.out;
      assert.equal(r.code, 0, `${out}\n${r.err}`);
      assert.match(out, /Breakpoint 1, kernel_init/);
      assert.equal(out.match(/No more reverse-execution history\./g)?.length, 2, out);
      assert.equal(value(out, 2), value(out, 1));
      assert.equal(value(out, 3), value(out, 1));
      assert.match(out + r.err, /recorded instructions 0-[1-9]\d* \(now 0\)/);
      assert.match(out, /exited normally/);
      assert.deepEqual(await guest.wait(), { kind: 'exited', code: 0 });
      assert.equal(output.split(INIT_MARKER).length, 2, 'the init ran once, its output shown once');
      assert.match(output, /powering off/);
    });

    it('a watchpoint and reverse-continue find the last writers of system_state, old values shown; the boot then ends as always', async (t) => {
      const { image, vmlinux, initramfs } = rv64Fixture();
      const guest = await bootGuest({
        kernel: image,
        initrd: initramfs,
        console: 'pipe',
        debug: { wait: true },
        timeoutSec: 900,
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
          'break kernel_init',
          'continue',
          'delete',
          'watch system_state',
          'continue',
          'continue',
          'p system_state', // $1
          'reverse-continue',
          'p system_state', // $2: before the last write
          'reverse-continue',
          'p system_state', // $3: before the one before
          'delete',
          'continue',
        ],
        { gdb: GDB, timeoutMs: 800_000, t },
      );
      const out = r.out;
      assert.equal(r.code, 0, `${out}\n${r.err}`);
      assert.equal(value(out, 1), 'SYSTEM_RUNNING');
      assert.match(out, /Old value = SYSTEM_RUNNING\s+New value = SYSTEM_FREEING_INITMEM/);
      assert.equal(value(out, 2), 'SYSTEM_FREEING_INITMEM');
      assert.match(out, /Old value = SYSTEM_FREEING_INITMEM\s+New value = SYSTEM_SCHEDULING/);
      assert.equal(value(out, 3), 'SYSTEM_SCHEDULING');
      assert.match(out, /exited normally/);
      assert.deepEqual(await guest.wait(), { kind: 'exited', code: 0 });
      assert.equal(output.split(INIT_MARKER).length, 2, 'the init ran once, its output shown once');
    });
  },
);
