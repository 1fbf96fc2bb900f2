// Real gdb, real UML kernel (the fixture), under Debian's gdbserver started by the engine, through kwb's stub.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bootDebugUml, runGdb, umlTree } from '../helpers/gdb.js';

const TIMEOUT = 240_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function release(): string {
  return readFileSync(join(umlTree(), 'include/config/kernel.release'), 'utf8').trim();
}

/** The value gdb printed for `$N = value`. */
function value(out: string, n: number): string {
  const m = new RegExp(`^\\$${n} = (.*)$`, 'm').exec(out);
  assert.ok(m, `no $${n} in gdb output:\n${out}`);
  return m[1]!;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('gdb through kwb stub on UML', { timeout: TIMEOUT }, () => {
  it('--wait-gdb holds the kernel; start_kernel, bt, registers, x, p, set var, stepi/next/finish, watchpoint; no reverse', async (t) => {
    const u = await bootDebugUml(t, { waitGdb: true, command: ['true'] });
    await sleep(1000);
    // held: nothing has run, nothing printed
    assert.equal(u.stub.running, false);
    assert.equal(u.output(), '');
    const target = `target remote 127.0.0.1:${u.stub.port}`;
    const r = await runGdb(
      u.vmlinux,
      [
        target,
        'break start_kernel',
        'continue',
        'bt',
        'info registers',
        'p/x $pc', // $1
        'stepi',
        'p/x $pc', // $2
        'next',
        'next',
        'info line *$pc',
        'p panic_timeout', // $3
        'set var panic_timeout = 42',
        'p panic_timeout', // $4
        'x/4xb &panic_timeout',
        'p sizeof(init_task)', // $5
        'p init_task.comm', // $6
        'break setup_arch',
        'continue',
        'finish',
        'info symbol $pc',
        'delete',
        // from kernel_init on the timer ticks (where debug registers do not fire, kwb emulates the watchpoint by
        // single-stepping, and the millions of instructions before the timer starts would take too long)
        'break kernel_init',
        'continue',
        'delete',
        'watch jiffies',
        'continue',
        'continue',
        'delete',
        // UML keeps no recording: gdb says it cannot go back, and the packets themselves get a plain error
        'reverse-stepi',
        'maint packet bs',
        'maint packet bc',
        'detach',
      ],
      { t, timeoutMs: 120_000 },
    );
    const out = r.out;
    assert.match(out, /Breakpoint 1, start_kernel \(\) at init\/main\.c/, out + r.err);
    assert.match(out, /#1 .* start_kernel_proc .* at arch\/um\/kernel\/skas\/process\.c/);
    for (const reg of ['rax', 'rbx', 'rsp', 'rip', 'eflags', 'gs']) assert.match(out, new RegExp(`^${reg}\\s+0x`, 'm'));
    const pc1 = BigInt(value(out, 1));
    const pc2 = BigInt(value(out, 2));
    assert.notEqual(pc1, pc2, 'stepi moved the pc');
    assert.ok(pc2 > pc1 && pc2 - pc1 < 16n, `stepi went one instruction: ${pc1} -> ${pc2}`);
    assert.match(out, /Line \d+ of "[^"]+" starts at address/);
    assert.equal(value(out, 3), '0');
    assert.equal(value(out, 4), '42');
    assert.match(out, /<panic_timeout>:\s+0x2a\s+0x00\s+0x00\s+0x00/);
    assert.ok(Number(value(out, 5)) > 1000);
    assert.match(value(out, 6), /^"swapper/);
    assert.match(out, /Breakpoint \d+, setup_arch/);
    // finish returned to the caller
    assert.match(out, /^start_kernel \+ \d+ in section \.init\.text/m);
    assert.match(out, /Hardware watchpoint \d+: jiffies/);
    const changes = [...out.matchAll(/Old value = (\d+)\nNew value = (\d+)/g)];
    assert.equal(changes.length, 2, out);
    // one tick per write, or several when the host was too busy to deliver every timer signal (do_timer(ticks))
    for (const c of changes) assert.ok(BigInt(c[2]!) > BigInt(c[1]!), `jiffies went forward: ${c[1]} -> ${c[2]}`);
    assert.match(out + r.err, /Target remote does not support this command\./);
    for (const p of ['bs', 'bc'])
      assert.match(out, new RegExp(`sending: "?${p}"?\\s+received: "E\\.this target cannot run backwards`), out);
    assert.match(out, /\[Inferior 1 \(Remote target\) detached\]/);
    // detached: the guest goes on to run its command and power off
    const result = await u.guest.wait();
    assert.deepEqual(result, { kind: 'exited', code: 0 });
  });

  it('stops in a syscall handler the guest command triggers, prints utsname; the guest finishes after detach', async (t) => {
    const u = await bootDebugUml(t, { waitGdb: true, command: ['uname', '-r'] });
    const r = await runGdb(
      u.vmlinux,
      [
        `target remote 127.0.0.1:${u.stub.port}`,
        'break __do_sys_newuname',
        'continue',
        'bt 4',
        'p utsname()->release', // $1
        'p init_uts_ns.name.sysname', // $2
        'delete',
        'detach',
      ],
      { t, timeoutMs: 120_000 },
    );
    assert.match(r.out, /hit Breakpoint 1, __do_sys_newuname|Breakpoint 1, __do_sys_newuname/, r.out + r.err);
    assert.match(r.out, /handle_syscall/);
    assert.equal(value(r.out, 1).replace(/, '\\000' <repeats \d+ times>/, ''), `"${release()}"`);
    assert.match(value(r.out, 2), /^"Linux"/);
    // no `handle SIG...` was needed: UML's own signals never reached gdb
    assert.doesNotMatch(r.out, /received signal SIG(SEGV|IO|ALRM|VTALRM|WINCH|CHLD|USR1)/);
    const result = await u.guest.wait();
    assert.deepEqual(result, { kind: 'exited', code: 0 });
    assert.match(u.output(), new RegExp(release().replace(/\./g, '\\.')));
  });

  it('^C while running; a second client is refused; detach and reattach; a vanished client leaves the guest running', async (t) => {
    // the guest prints a tick every 200 ms for as long as it runs
    const u = await bootDebugUml(t, {
      waitGdb: false,
      command: ['sh', '-c', 'i=0; while [ $i -lt 1000 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done'],
    });
    await until(() => u.output().includes('tick 2'), 60_000, 'the guest to run');
    assert.equal(u.stub.running, true);
    let second: Awaited<ReturnType<typeof runGdb>> | undefined;
    const first = runGdb(
      u.vmlinux,
      [`target remote 127.0.0.1:${u.stub.port}`, 'continue', 'p $pc', 'p jiffies', 'detach'],
      { t, interruptAfter: { when: () => second !== undefined && u.stub.running, delayMs: 300 } },
    );
    await until(() => u.stub.attached && u.stub.running, 30_000, 'the first client to continue');
    second = await runGdb(u.vmlinux, [`target remote 127.0.0.1:${u.stub.port}`, 'p 1+1'], { t, timeoutMs: 30_000 });
    assert.match(second.out + second.err, /kwb: another debugger is attached/);
    const a = await first;
    assert.match(a.out, /received signal SIGINT, Interrupt\./, a.out + a.err);
    const jiffiesA = BigInt(value(a.out, 2));
    assert.match(a.out, /\[Inferior 1 \(Remote target\) detached\]/);
    // detached: the guest keeps running
    const ticks = u.output().split('\n').length;
    await until(() => u.output().split('\n').length > ticks + 3, 30_000, 'ticks after detach');
    // reattach; then vanish without detaching (SIGKILL while attached and stopped)
    const b = runGdb(u.vmlinux, [`target remote 127.0.0.1:${u.stub.port}`, 'p jiffies', 'shell sleep 30'], {
      t,
      timeoutMs: 60_000,
    });
    await until(() => u.stub.attached && !u.stub.running, 30_000, 'the reattached client to stop the guest');
    const stoppedAt = u.output().length;
    await sleep(1000);
    assert.equal(u.output().length, stoppedAt, 'the guest is stopped while the client holds it');
    // find gdb and kill it hard (the helper kills the group on timeout; here we do it ourselves)
    const { execFileSync } = await import('node:child_process');
    const pids = execFileSync('pgrep', ['-f', `target remote 127.0.0.1:${u.stub.port}`], { encoding: 'utf8' })
      .trim()
      .split('\n');
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    const attachedOut = (await b).out;
    assert.ok(BigInt(value(attachedOut, 1)) > jiffiesA, 'jiffies advanced between the sessions');
    await until(() => !u.stub.attached, 10_000, 'the stub to notice');
    const ticks2 = u.output().split('\n').length;
    await until(() => u.output().split('\n').length > ticks2 + 3, 30_000, 'ticks after the client vanished');
    // and one more client can attach and read
    const c = await runGdb(u.vmlinux, [`target remote 127.0.0.1:${u.stub.port}`, 'p jiffies', 'detach'], {
      t,
      timeoutMs: 60_000,
    });
    assert.ok(BigInt(value(c.out, 1)) > jiffiesA, c.out + c.err);
  });

  it("the kernel's lx-* gdb scripts work; kill shuts the guest down and leaves no processes", async (t) => {
    const u = await bootDebugUml(t, { waitGdb: false, command: ['sleep', '1000'] });
    await until(() => u.stub.running, 10_000, 'the guest to run');
    await sleep(1500);
    // vmlinux-gdb.py probes `monitor info version`; then the task list, the log and the banner come from memory
    const lx = await runGdb(
      u.vmlinux,
      [`target remote 127.0.0.1:${u.stub.port}`, 'lx-version', 'lx-ps', 'lx-dmesg', 'detach'],
      {
        t,
        timeoutMs: 60_000,
        scripts: umlTree(),
      },
    );
    assert.match(lx.out, new RegExp(`^Linux version ${release().replace(/\./g, '\\.')} `, 'm'), lx.out + lx.err);
    assert.match(lx.out, /^0x[0-9a-f]+ +1 +init$/m);
    assert.match(lx.out, /^0x[0-9a-f]+ +\d+ +sleep$/m);
    assert.match(lx.out, /\[ *\d+\.\d+\] Run \/kwb\/init as init process/);
    await until(() => !u.stub.attached, 10_000, 'the detach');
    const pid = u.guest.pid!;
    const r = await runGdb(u.vmlinux, [`target remote 127.0.0.1:${u.stub.port}`, 'p jiffies', 'kill'], {
      t,
      timeoutMs: 60_000,
    });
    assert.match(r.out, /\[Inferior 1 \(Remote target\) killed\]/, r.out + r.err);
    await u.stub.killed;
    const result = await u.guest.wait();
    assert.equal(result.kind, 'killed');
    assert.equal(u.guest.alive!(), false);
    // nothing of the guest's process group is left
    assert.throws(() => process.kill(-pid, 0));
  });
});
