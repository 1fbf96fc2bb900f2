// The debug adapter over stdio (DebugClient) launching the RISC-V fixture on kwb's rv64 engine, with gdb-multiarch:
// a breakpoint in kernel source is hit, the stack and a variable are shown, and the guest runs on to power off.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { recordEventOrder } from '../helpers/dap';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { INIT_MARKER, rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';

const ADAPTER = join(__dirname, '..', '..', 'dist', 'debugAdapter.js');
const skip =
  spawnSync('gdb-multiarch', ['--version'], { stdio: 'ignore' }).status !== 0
    ? 'gdb-multiarch is not installed'
    : rv64QemuSkipReason();

describe('debug adapter on the rv64 engine', { skip, timeout: FIXTURE_TIMEOUT_MS }, () => {
  const dc = new DebugClient('node', ADAPTER, 'kwb');
  dc.defaultTimeout = 120_000;
  const outputs: string[] = [];
  after(() => dc.stop().catch(() => {}));

  it('F5 on a RISC-V Image stops at a breakpoint in init/main.c and runs on to poweroff', async () => {
    const { tree, image, initramfs } = rv64Fixture();
    const mainc = join(tree, 'init', 'main.c');
    const source = readFileSync(mainc, 'utf8').split('\n');
    const line =
      source.findIndex((l) => l.includes('pr_notice("Kernel command line: %s\\n", saved_command_line);')) + 1;
    assert.ok(line > 0);
    await dc.start();
    dc.on('output', (e: DebugProtocol.OutputEvent) => outputs.push(e.body.output));
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const order = recordEventOrder(dc);
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ kernel: image, initrd: initramfs } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    const bp = await dc.setBreakpointsRequest({ source: { path: mainc }, breakpoints: [{ line }] });
    assert.equal(bp.body.breakpoints[0]!.verified, true);
    await order.configurationDone();
    const stopped = (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
    // the guest held at its first instruction until gdb came is not a stop; the breakpoint stops every hart
    assert.deepEqual(order.events, ['initialized', 'configurationDone', 'stopped breakpoint']);
    const st = await dc.stackTraceRequest({ threadId: stopped.body.threadId! });
    const top = st.body.stackFrames[0]!;
    assert.equal(top.name, 'start_kernel');
    assert.equal(top.line, line);
    assert.equal(top.source?.path, mainc);
    const value = await dc.evaluateRequest({ expression: 'saved_command_line', frameId: top.id, context: 'watch' });
    assert.match(value.body.result, /console=ttyS0/);
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: stopped.body.threadId! });
    await terminated;
    assert.ok(outputs.join('').includes(INIT_MARKER), outputs.join('').slice(-2000));
  });
});
