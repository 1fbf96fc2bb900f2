// The adapter's `attach` against an RSP stub kwb did not write: QEMU's own gdbstub (-S -gdb), with gdb-multiarch,
// on a bare-metal RISC-V program built with Debian's riscv64-unknown-elf-gcc.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { freePort } from '../../extension/adapter/launch.js';
import { recordEventOrder } from '../helpers/dap.js';
import { buildProgram, hasQemu, hasToolchain } from '../rv64/build.js';

const ADAPTER = join(__dirname, '..', '..', 'dist', 'debugAdapter.js');

describe(
  'adapter attach to QEMU',
  {
    timeout: 120_000,
    skip: !(hasToolchain() && hasQemu()) && 'needs riscv64-unknown-elf-gcc and qemu-system-riscv64 (scripts/setup.sh)',
  },
  () => {
    let qemu: ChildProcess;
    let dc: DebugClient;
    let elf: string;
    let port: number;
    before(async () => {
      elf = buildProgram([join(__dirname, '..', 'fixtures', 'adapter-attach.c')], ['-g', '-O0']);
      port = await freePort();
      qemu = spawn(
        'qemu-system-riscv64',
        [
          '-M',
          'spike',
          '-bios',
          'none',
          '-kernel',
          elf,
          '-nographic',
          '-monitor',
          'none',
          '-S',
          '-gdb',
          `tcp:127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
      dc = new DebugClient('node', ADAPTER, 'kwb');
      dc.defaultTimeout = 30_000;
      await dc.start();
    });
    after(async () => {
      await dc.stop().catch(() => {});
      qemu.kill('SIGKILL');
    });

    it('attaches, breaks in a function, reads variables and registers, steps', async () => {
      await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
      const order = recordEventOrder(dc);
      const initialized = dc.waitForEvent('initialized');
      await dc.attachRequest({
        target: `127.0.0.1:${port}`,
        vmlinux: elf,
        gdbPath: 'gdb-multiarch',
      } as DebugProtocol.AttachRequestArguments);
      await initialized;
      const bp = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add', condition: 'b == 3' }] });
      assert.equal(bp.body.breakpoints[0]!.verified, true);
      const entry = dc.waitForEvent('stopped');
      await order.configurationDone();
      await entry;
      // the stop gdb finds the target in shows once, as the entry, after configurationDone
      assert.deepEqual(order.events, ['initialized', 'configurationDone', 'stopped entry']);

      await dc.continueRequest({ threadId: 1 });
      const hit = (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
      assert.equal(hit.body.reason, 'function breakpoint');
      const st = await dc.stackTraceRequest({ threadId: hit.body.threadId! });
      assert.deepEqual(
        st.body.stackFrames.slice(0, 2).map((f) => f.name),
        ['add', 'main'],
      );
      assert.equal(st.body.stackFrames[0]!.source?.name, 'adapter-attach.c');
      const a = await dc.evaluateRequest({ expression: 'a', frameId: st.body.stackFrames[0]!.id, context: 'watch' });
      const b = await dc.evaluateRequest({ expression: 'b', frameId: st.body.stackFrames[0]!.id, context: 'watch' });
      assert.deepEqual([a.body.result, b.body.result], ['3', '3']); // total after add(0,0), add(0,1), add(1,2) is 3
      const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0]!.id });
      const regs = await dc.variablesRequest({ variablesReference: scopes.body.scopes[1]!.variablesReference });
      const pc = regs.body.variables.find((v) => v.name === 'pc');
      assert.match(pc?.value ?? '', /^0x0*8[0-9a-f]{7}$/, JSON.stringify(regs.body.variables.slice(0, 3)));
      await dc.nextRequest({ threadId: hit.body.threadId! });
      const step = (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
      assert.equal(step.body.reason, 'step');
      const st2 = await dc.stackTraceRequest({ threadId: step.body.threadId! });
      assert.equal(st2.body.stackFrames[0]!.line, st.body.stackFrames[0]!.line + 1);
      const bye = await dc.disconnectRequest({}).catch((e: Error) => e);
      assert.ok(!(bye instanceof Error), String(bye));
    });
  },
);
