// Kernel awareness on the UML fixture, through kwb's stub, with real gdb: the kernel's tasks as threads with their
// own stacks, and ps/dmesg checked against the kernel's own gdb scripts (lx-ps, lx-dmesg) in the same session.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { bootGuest } from '../../engine/boot.js';
import { serveGuest } from '../../engine/serve.js';
import { learnOffsets } from '../../gdbstub/linux/index.js';
import type { Guest } from '../../engine/guest.js';
import { runGdb, umlTree } from '../helpers/gdb.js';
import {
  TASK_CHECK_COMMANDS,
  checkTasksAgainstKernelScripts,
  mark,
  monitor,
  section,
  selectThread,
} from '../helpers/linux.js';

const TIMEOUT = 300_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Boot the fixture under gdbserver and serve it kernel-aware, as `kwb boot --gdb` does. */
async function bootAware(t: TestContext, command: string[], waitGdb = false) {
  const tree = umlTree();
  const kernel = join(tree, 'linux');
  // the guest's command runs on its own clock: on a build seen for the first time, its debug info is read first
  await learnOffsets(kernel, 'x86_64');
  const guest = await bootGuest({
    kernel,
    console: 'pipe',
    debug: { wait: waitGdb },
    command,
    mem: '128M',
    timeoutSec: 300,
  });
  t.after(() => guest.stop());
  let output = '';
  // the kernel console and the command's own output, as they come
  for (const stream of [guest.output, guest.command?.stdout])
    stream?.on('data', (d: Buffer) => (output += d.toString()));
  const warnings: string[] = [];
  const stub = await serveGuest(guest, { port: 0, waitGdb, vmlinux: kernel, log: (l) => warnings.push(l) });
  t.after(() => stub.close());
  assert.equal(await stub.kernelAware, true, warnings.join('\n'));
  return { guest: guest as Guest, stub, tree, kernel, output: () => output, warnings };
}

describe('kernel-aware stub on UML', { timeout: TIMEOUT }, () => {
  it("tasks as threads, kthreadd's stack, ps and dmesg equal lx-ps and lx-dmesg; the guest then finishes", async (t) => {
    const u = await bootAware(t, ['sh', '-c', 'sleep 100 & p=$!; echo kwb-ready; sleep 4; kill $p; exit 3']);
    await until(() => u.output().includes('kwb-ready'), 120_000, 'the guest command');
    await sleep(500);
    const r = await runGdb(
      join(u.tree, 'vmlinux'),
      [
        `target remote 127.0.0.1:${u.stub.port}`,
        ...mark('help', monitor('help')),
        ...mark('lx', 'lx-version', 'lx-cmdline'),
        ...mark('lsmod', monitor('lsmod')),
        ...TASK_CHECK_COMMANDS,
        ...mark('write', 'set $rbx = 1'),
        // switching views, gdb still names threads of the other view until it lists them again: their registers
        // read, but running one is refused (gdb would take the stop for another thread's)
        ...mark('cpu', 'monitor threads cpu', 'p/x $pc', 'stepi', 'info threads', 'monitor threads tasks'),
        ...mark('after', 'info threads'),
        // a stop after looking at another task: gdb reads the registers of the task that stopped, not kthreadd's
        selectThread('kthreadd'),
        'bt 1',
        'tbreak __do_sys_wait4',
        'continue',
        ...mark('stop', 'p $pc', 'bt 1'),
        'detach',
      ],
      { t, timeoutMs: 120_000, scripts: u.tree },
    );
    const all = r.out + r.err;
    assert.deepEqual(
      u.warnings.filter((w) => /kernel awareness/.test(w)),
      [],
    );
    if (process.env.KWB_SHOW) console.log(r.out, r.err);

    // every task, by name, with its pid, as the kernel's own lx-ps sees them; the log equals lx-dmesg's text;
    // kthreadd, not on the CPU, unwinds from its saved switch context down through the scheduler
    const threads = checkTasksAgainstKernelScripts(r.out, all, 10);
    assert.match(threads, /Thread 1 "init" \(pid 1 S/, all);
    assert.match(threads, /Thread 2 "kthreadd" \(pid 2 S/);
    assert.match(threads, /"sleep" \(pid \d+ [SR]/);

    // the kernel's other scripts work through the stub too
    assert.match(section(r.out, 'lx'), /^Linux version \d+\.\d+\.\d+[\s\S]*\bmem=/m);

    // the fixture has module support and no modules
    assert.equal(section(r.out, 'lsmod'), 'no modules loaded\n');

    const help = section(r.out, 'help');
    for (const cmd of ['ps', 'dmesg', 'lsmod', 'threads tasks\\|cpu', 'info version'])
      assert.match(help, new RegExp(`^ +${cmd} `, 'm'));

    // kthreadd's saved registers are not the CPU's: refused
    assert.match(section(r.out, 'write') + r.err, /not on the CPU|E01|Could not write register/i);

    // the plain CPU view, then the tasks again
    const cpu = section(r.out, 'cpu');
    assert.match(cpu, /"UML kernel/);
    assert.doesNotMatch(cpu, /^\*? +\d+ +Thread \d+ "kthreadd"/m);
    assert.match(section(r.out, 'after'), /"kthreadd"/);
    assert.doesNotMatch(r.err, /Could not read registers|Remote connection closed|Remote communication error/);
    assert.match(cpu, /^\$\d+ = 0x[0-9a-f]+$/m);
    assert.match(r.err, /warning: Remote failure reply: E01/); // the refused stepi

    assert.match(section(r.out, 'stop'), /^\$\d+ = .*<__do_sys_wait4\+?\d*>\n#0 +__do_sys_wait4 /m, all);

    // reading all that did not disturb the guest
    assert.match(r.out, /\[Inferior 1 \(Remote target\) detached\]/);
    assert.deepEqual(await u.guest.wait(), { kind: 'exited', code: 3 });
  });
});

describe('kernel-aware stub from the first instruction', { timeout: TIMEOUT }, () => {
  it('before the kernel runs the CPU is a thread of its own; then the idle task, then pid 1, each on the CPU', async (t) => {
    const u = await bootAware(t, ['true'], true);
    const r = await runGdb(
      join(u.tree, 'vmlinux'),
      [
        `target remote 127.0.0.1:${u.stub.port}`,
        ...mark('entry', 'info threads'),
        'break start_kernel',
        'continue',
        ...mark('start', 'info threads', 'bt 1'),
        'break kernel_init',
        'continue',
        ...mark('init', 'info threads', 'bt 1'),
        'delete',
        'detach',
      ],
      { t, timeoutMs: 120_000 },
    );
    const all = r.out + r.err;
    assert.match(section(r.out, 'entry'), /^\* +\d+ +Thread \d+ "CPU" \(no task is known to be on the CPU\)/m, all);
    const start = section(r.out, 'start');
    assert.match(start, /^\* +\d+ +Thread \d+ "swapper" \(pid 0 R on CPU\)/m, all);
    assert.match(start, /^#0 +start_kernel \(\)/m);
    const init = section(r.out, 'init');
    assert.match(init, /^\* +\d+ +Thread 1 "swapper" \(pid 1 R on CPU\)/m, all);
    assert.match(init, /^#0 +kernel_init \(/m);
    assert.doesNotMatch(all, /error reading variable|Could not read registers/);
    assert.deepEqual(await u.guest.wait(), { kind: 'exited', code: 0 });
  });
});

describe('kernel-aware stub in the debug adapter', { timeout: TIMEOUT }, () => {
  it('the threads request returns the tasks as "pid comm", each with its own stack', async (t) => {
    const tree = umlTree();
    const dc = new DebugClient('node', join(__dirname, '..', '..', 'dist', 'debugAdapter.js'), 'kwb');
    dc.defaultTimeout = 60_000;
    await dc.start();
    t.after(() => dc.stop().catch(() => {}));
    const output: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(e.body.output));
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({
      kernel: join(tree, 'linux'),
      command: ['sh', '-c', 'sleep 1; uname -s'],
    } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '__do_sys_newuname' }] });
    const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.configurationDoneRequest();
    const stop = await stopped;

    const threads = (await dc.threadsRequest()).body.threads;
    const names = threads.map((th) => th.name);
    assert.ok(names.includes('1 init'), names.join(', '));
    assert.ok(names.includes('2 kthreadd'), names.join(', '));
    // the stopped thread is the task that called uname (kwb's init does, before the command's own uname)
    assert.match(threads.find((th) => th.id === stop.body.threadId)?.name ?? '', /^\d+ (init|uname)$/);
    const kthreadd = threads.find((th) => th.name === '2 kthreadd')!;
    const frames = (await dc.stackTraceRequest({ threadId: kthreadd.id })).body.stackFrames.map((f) => f.name);
    assert.ok(frames.includes('__schedule') && frames.includes('kthreadd'), frames.join(' <- '));
    const own = (await dc.stackTraceRequest({ threadId: stop.body.threadId! })).body.stackFrames.map((f) => f.name);
    assert.equal(own[0], '__do_sys_newuname');

    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: stop.body.threadId! });
    await terminated;
    assert.match(output.join(''), /^Linux\r?$/m);
  });
});
