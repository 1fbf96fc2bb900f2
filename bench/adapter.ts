// The debug adapter: time from the launch request to the stopped event at start_kernel (UML fixture), and the
// median step-over latency. Goals: 3 s and 100 ms. Reference: the same with plain gdb attached to kwb's stub.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { fixtureTree } from '../test/helpers/fixtures.js';
import { median, type BenchRow } from './row.js';

const STEPS = 15;

export async function benchAdapter(): Promise<BenchRow[]> {
  const tree = fixtureTree('um');
  const dc = new DebugClient('node', join(__dirname, '..', 'dist', 'debugAdapter.js'), 'kwb');
  dc.defaultTimeout = 60_000;
  await dc.start();
  try {
    const t0 = performance.now();
    await dc.initializeRequest({ adapterID: 'kwb', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({
      kernel: join(tree, 'linux'),
      stopAtEntry: true,
      command: ['true'],
    } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const entry = (await stopped) as DebugProtocol.StoppedEvent;
    const launchMs = performance.now() - t0;
    const steps: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const s0 = performance.now();
      const next = dc.waitForEvent('stopped');
      await dc.nextRequest({ threadId: entry.body.threadId! });
      await next;
      // VS Code asks for the stack after every stop: part of what a person waits for
      await dc.stackTraceRequest({ threadId: entry.body.threadId!, levels: 20 });
      steps.push(performance.now() - s0);
    }
    await dc.terminateRequest();
    const gdbStep = await plainGdbStepMs(tree);
    return [
      { name: 'adapter: launch to stopped at start_kernel', value: launchMs, unit: 'ms', goal: '<= 3000 ms' },
      {
        name: 'adapter: step over + stack (median)',
        value: median(steps),
        unit: 'ms',
        reference: gdbStep,
        ratio: median(steps) / gdbStep,
        goal: '<= 100 ms',
        note: `${STEPS} steps in start_kernel; reference: gdb's own \`next\` through kwb's stub`,
      },
    ];
  } finally {
    await dc.stop().catch(() => {});
  }
}

/** Median time of gdb's own `next` in start_kernel through kwb's stub (gdb's Python times it). */
async function plainGdbStepMs(tree: string): Promise<number> {
  const script = join(mkdtempSync(join(tmpdir(), 'kwb-bench-')), 'steps.py');
  writeFileSync(
    script,
    [
      'import gdb, time',
      'gdb.execute("break start_kernel")',
      'gdb.execute("continue")',
      'times = []',
      `for i in range(${STEPS}):`,
      '    t = time.perf_counter(); gdb.execute("next", to_string=True); times.append((time.perf_counter() - t) * 1000)',
      'times.sort(); print("MEDIAN", times[len(times) // 2])',
      'gdb.execute("kill")',
    ].join('\n'),
  );
  const boot = spawn(
    process.execPath,
    [
      join(__dirname, '..', 'dist', 'cli.js'),
      'boot',
      '--kernel',
      join(tree, 'linux'),
      '--gdb',
      ':0',
      '--wait-gdb',
      '--',
      'true',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let err = '';
      boot.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      boot.once('exit', () => reject(new Error(`kwb boot ended: ${err}`)));
    });
    const out = execFileSync(
      'gdb',
      ['-q', '-batch', '-nx', join(tree, 'vmlinux'), '-ex', `target remote 127.0.0.1:${port}`, '-x', script],
      { encoding: 'utf8' },
    );
    return Number(/MEDIAN ([\d.]+)/.exec(out)?.[1]);
  } finally {
    boot.kill('SIGTERM');
    rmSync(dirname(script), { recursive: true, force: true });
  }
}

if (require.main === module) {
  void benchAdapter().then((rows) => console.table(rows));
}
