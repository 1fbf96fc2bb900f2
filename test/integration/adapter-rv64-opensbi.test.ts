// A RISC-V vmlinux in a folder whose path says nothing of RISC-V, launched from the debug adapter with "bios" set to
// Debian's OpenSBI: the adapter must pick gdb-multiarch from the kernel's ELF header (a file-name guess picks x86
// gdb, which fails with "Truncated register 37 in remote 'g' packet"), kwb must run the firmware first, and a
// function breakpoint in start_kernel must stop with the OpenSBI banner already on the console.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';

const ADAPTER = join(__dirname, '..', '..', 'dist', 'debugAdapter.js');
/** Debian's package opensbi (scripts/setup.sh installs it). */
const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
const skip =
  spawnSync('gdb-multiarch', ['--version'], { stdio: 'ignore' }).status !== 0
    ? 'gdb-multiarch is not installed'
    : !existsSync(OPENSBI)
      ? `${OPENSBI} is missing (Debian: opensbi)`
      : rv64QemuSkipReason();

describe(
  'debug adapter: a RISC-V vmlinux under OpenSBI, from a folder not named riscv',
  { skip, timeout: FIXTURE_TIMEOUT_MS },
  () => {
    const dc = new DebugClient('node', ADAPTER, 'kwb');
    dc.defaultTimeout = 120_000;
    const scratch = mkdtempSync(join(tmpdir(), 'kwb-plain-'));
    after(async () => {
      await dc.stop().catch(() => {});
      rmSync(scratch, { recursive: true, force: true });
    });

    it('stops at a function breakpoint in start_kernel with the OpenSBI banner in the output', async () => {
      const { vmlinux, initramfs } = rv64Fixture();
      mkdirSync(join(scratch, 'boot'));
      const kernel = join(scratch, 'boot', 'vmlinux');
      symlinkSync(vmlinux, kernel);
      assert.doesNotMatch(kernel, /riscv|Image$/i);
      const outputs: string[] = [];
      await dc.start();
      dc.on('output', (e: DebugProtocol.OutputEvent) => outputs.push(e.body.output));
      await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
      const initialized = dc.waitForEvent('initialized');
      await dc.launchRequest({ kernel, initrd: initramfs, bios: OPENSBI } as DebugProtocol.LaunchRequestArguments);
      await initialized;
      const bp = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'start_kernel' }] });
      assert.equal(bp.body.breakpoints[0]!.verified, true);
      await dc.configurationDoneRequest();
      const stopped = (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
      assert.equal(stopped.body.reason, 'function breakpoint');
      const st = await dc.stackTraceRequest({ threadId: stopped.body.threadId! });
      assert.equal(st.body.stackFrames[0]!.name, 'start_kernel');
      const console = outputs.join('');
      assert.match(console, /OpenSBI v\d/, console.slice(-3000));
      assert.doesNotMatch(console, /Truncated register/);
      await dc.terminateRequest().catch(() => {});
    });
  },
);
