// The debug adapter over stdio (DebugClient), against a real UML kernel booted by kwb and real gdb.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { recordEventOrder } from '../helpers/dap.js';
import { FIXTURE_TIMEOUT_MS, fixtureTree } from '../helpers/fixtures.js';

const ADAPTER = join(__dirname, '..', '..', 'dist', 'debugAdapter.js');

/** Processes of this session: the kernel, gdb, gdbserver, kwb. */
function leftovers(tree: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return cmd.includes(tree) ? [`${pid} ${cmd.slice(0, 100)}`] : [];
      } catch {
        return [];
      }
    });
}

describe('debug adapter on UML', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let tree: string;
  let sysc: string;
  let line: number;
  let dc: DebugClient;
  const outputs: string[] = [];
  before(async () => {
    tree = fixtureTree('um');
    sysc = join(tree, 'kernel', 'sys.c');
    const lines = readFileSync(sysc, 'utf8').split('\n');
    const start = lines.findIndex((l) => l.startsWith('SYSCALL_DEFINE1(newuname,'));
    line = start + lines.slice(start).findIndex((l) => l.includes('memcpy(&tmp, utsname(), sizeof(tmp));')) + 1;
    dc = new DebugClient('node', ADAPTER, 'kwb');
    dc.defaultTimeout = 60_000;
    await dc.start();
    dc.on('output', (e: DebugProtocol.OutputEvent) => outputs.push(e.body.output));
  });
  after(async () => {
    await dc.stop().catch(() => {});
  });

  const stoppedAt = async (reason: string) => {
    const e = (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
    assert.equal(e.body.reason, reason);
    const st = await dc.stackTraceRequest({ threadId: e.body.threadId! });
    return { thread: e.body.threadId!, frames: st.body.stackFrames };
  };

  it('launches, stops in the syscall handler the guest command runs, and inspects it', async (t) => {
    const t0 = Date.now();
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const order = recordEventOrder(dc);
    // the guest calls uname once a second, forever
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({
      kernel: join(tree, 'linux'),
      command: ['sh', '-c', 'while true; do uname -r; sleep 1; done'],
    } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    // a log point first: it prints and does not stop
    const log = await dc.setBreakpointsRequest({
      source: { path: sysc },
      breakpoints: [{ line, logMessage: 'uname from the guest: {utsname()->sysname}' }],
    });
    assert.equal(log.body.breakpoints[0]!.verified, true);
    await order.configurationDone();
    for (let waited = 0; !outputs.some((o) => /uname from the guest: "Linux"/.test(o)); waited += 100) {
      assert.ok(waited < 60_000, `the log point printed nothing in 60 s; output:\n${outputs.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // a breakpoint set while the guest runs, with a condition that holds and a hit count
    const bp = await dc.setBreakpointsRequest({
      source: { path: sysc },
      breakpoints: [{ line, condition: 'name != 0', hitCondition: '2' }],
    });
    assert.equal(bp.body.breakpoints[0]!.verified, true);
    assert.equal(bp.body.breakpoints[0]!.line, line);
    const { thread, frames } = await stoppedAt('breakpoint');
    t.diagnostic(`launch to first breakpoint: ${Date.now() - t0} ms`);
    // no stop before VS Code has configured the session (the guest waits for gdb at ld.so's _start: not a stop)
    assert.deepEqual(order.events, ['initialized', 'configurationDone', 'stopped breakpoint']);
    assert.equal(frames[0]!.name, '__do_sys_newuname');
    assert.equal(frames[0]!.line, line);
    assert.equal(frames[0]!.source?.path, sysc);
    assert.match(frames[0]!.instructionPointerReference!, /^0x[0-9a-f]+$/);
    assert.equal(frames[1]!.name, '__se_sys_newuname');

    // locals, a struct expanded, a global and an expression
    const scopes = await dc.scopesRequest({ frameId: frames[0]!.id });
    const locals = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0]!.variablesReference });
    const tmp = locals.body.variables.find((v) => v.name === 'tmp')!;
    assert.ok(tmp.variablesReference > 0);
    const fields = await dc.variablesRequest({ variablesReference: tmp.variablesReference });
    assert.deepEqual(fields.body.variables.map((v) => v.name).slice(0, 3), ['sysname', 'nodename', 'release']);
    const comm = await dc.evaluateRequest({ expression: 'init_task.comm', frameId: frames[0]!.id, context: 'watch' });
    assert.match(comm.body.result, /^"swapper/);
    const release = await dc.evaluateRequest({
      expression: 'utsname()->release',
      frameId: frames[0]!.id,
      context: 'hover',
    });
    assert.match(release.body.result, /^"6\.1\.\d+/);
    const task = await dc.evaluateRequest({ expression: 'init_task', frameId: frames[0]!.id, context: 'watch' });
    const t1 = Date.now();
    const taskFields = await dc.variablesRequest({ variablesReference: task.body.variablesReference });
    t.diagnostic(`task_struct expanded in ${Date.now() - t1} ms (${taskFields.body.variables.length} fields)`);
    assert.ok(taskFields.body.variables.some((v) => v.name === 'comm'));
    const registers = await dc.variablesRequest({ variablesReference: scopes.body.scopes[1]!.variablesReference });
    assert.ok(registers.body.variables.some((v) => v.name === 'rip' && /^0x/.test(v.value)));
    const raw = await dc.evaluateRequest({ expression: '`info line __do_sys_newuname', context: 'repl' });
    assert.match(raw.body.result, /kernel\/sys\.c/);

    // memory and disassembly at the pc
    const mem = (await dc.customRequest('readMemory', {
      memoryReference: frames[0]!.instructionPointerReference!,
      count: 16,
    })) as DebugProtocol.ReadMemoryResponse;
    assert.equal(Buffer.from(mem.body!.data!, 'base64').length, 16);
    const dis = await dc.disassembleRequest({
      memoryReference: frames[0]!.instructionPointerReference!,
      instructionOffset: -3,
      instructionCount: 8,
    });
    assert.equal(dis.body!.instructions.length, 8);
    assert.ok(
      dis.body!.instructions.some((i) => BigInt(i.address) === BigInt(frames[0]!.instructionPointerReference!)),
    );

    // set a variable and read it back
    const name = locals.body.variables.find((v) => v.name === 'name')!;
    await dc.setVariableRequest({
      variablesReference: scopes.body.scopes[0]!.variablesReference,
      name: 'name',
      value: name.value.split(' ')[0]!,
    });

    // stepping: over, in, out, one instruction
    await dc.nextRequest({ threadId: thread });
    const over = await stoppedAt('step');
    assert.equal(over.frames[0]!.line, line + 1);
    await dc.stepInRequest({ threadId: thread });
    const into = await stoppedAt('step');
    assert.notEqual(into.frames[0]!.name, '__do_sys_newuname');
    await dc.stepOutRequest({ threadId: thread });
    const out = await stoppedAt('step');
    assert.equal(out.frames[0]!.name, '__do_sys_newuname');
    const pc = out.frames[0]!.instructionPointerReference;
    await dc.nextRequest({ threadId: thread, granularity: 'instruction' });
    const insn = await stoppedAt('step');
    assert.notEqual(insn.frames[0]!.instructionPointerReference, pc);

    // a data breakpoint on a kernel variable the timer changes
    await dc.setBreakpointsRequest({ source: { path: sysc }, breakpoints: [] });
    const info = await dc.dataBreakpointInfoRequest({ name: 'jiffies' });
    const data = await dc.setDataBreakpointsRequest({
      breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }],
    });
    assert.equal(data.body.breakpoints[0]!.verified, true);
    await dc.continueRequest({ threadId: thread });
    await stoppedAt('data breakpoint');
    await dc.setDataBreakpointsRequest({ breakpoints: [] });

    // a function breakpoint
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '__do_sys_newuname' }] });
    await dc.continueRequest({ threadId: thread });
    const fn = await stoppedAt('function breakpoint');
    assert.equal(fn.frames[0]!.name, '__do_sys_newuname');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });

    // an instruction breakpoint
    await dc.customRequest('setInstructionBreakpoints', {
      breakpoints: [{ instructionReference: frames[0]!.instructionPointerReference! }],
    });
    await dc.continueRequest({ threadId: thread });
    const ib = await stoppedAt('instruction breakpoint');
    assert.equal(BigInt(ib.frames[0]!.instructionPointerReference!), BigInt(frames[0]!.instructionPointerReference!));
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });

    // pause while running
    await dc.continueRequest({ threadId: thread });
    await new Promise((r) => setTimeout(r, 300));
    await dc.pauseRequest({ threadId: thread });
    await stoppedAt('pause');

    // restart reboots the guest; the breakpoint set before is hit in the new one
    await dc.setBreakpointsRequest({ source: { path: sysc }, breakpoints: [{ line }] });
    await dc.customRequest('restart', {});
    const again = await stoppedAt('breakpoint');
    assert.equal(again.frames[0]!.line, line);

    // gdb runs all-stop: every stop says so, so that VS Code shows no task as running
    assert.deepEqual(
      order.events.filter((e) => e.endsWith('(some threads)')),
      [],
    );

    // terminate: nothing is left
    await dc.terminateRequest();
    for (let i = 0; leftovers(tree).length && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(leftovers(tree), []);
  });
});

describe('debug adapter: bad launches', { timeout: 60_000 }, () => {
  let dc: DebugClient;
  before(async () => {
    dc = new DebugClient('node', ADAPTER, 'kwb');
    await dc.start();
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  });
  after(async () => {
    await dc.stop().catch(() => {});
  });

  it("reports a missing kernel and a file kwb cannot boot at once, with kwb's own words", async () => {
    await assert.rejects(
      dc.launchRequest({ kernel: '/nonexistent/linux' } as DebugProtocol.LaunchRequestArguments),
      /no kernel at \/nonexistent\/linux/,
    );
    const t0 = Date.now();
    await assert.rejects(
      dc.launchRequest({ kernel: '/bin/true' } as DebugProtocol.LaunchRequestArguments),
      /not a User-mode Linux kernel/,
    );
    assert.ok(Date.now() - t0 < 15_000);
  });
});
