// A developer's first attach of the day, timed: `kwb boot --gdb` on a build kwb has never seen (a fresh KWB_CACHE:
// the kernel's structure offsets are not known yet), a port probe first (connect, hang up: as IDEs and scripts wait
// for a port), then stock gdb at its default settings, its `target remote` timed from inside gdb (after it has read
// vmlinux, which costs the same on both paths). Reference: the same gdb attaching to gdbserver directly on the same
// kernel after the same probe. Goal: <= 1 s.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../engine/host.js';
import { fixtureTree } from '../test/helpers/fixtures.js';
import { Sandbox, collect, until } from '../test/helpers/kwb.js';
import { direct } from './gdbstub.js';
import { median, type BenchRow } from './row.js';

const RUNS = 3;

/** Connect and hang up without a byte, as a port probe does. */
function probe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.end());
    sock.once('close', () => resolve());
    sock.once('error', reject);
  });
}

/** Seconds stock gdb's `target remote` took, after a probe; throws with gdb's output when it did not attach. */
async function timeAttach(vmlinux: string, port: number): Promise<number> {
  await probe(port);
  const gdb = spawnSync(
    'gdb',
    [
      '-nx',
      '-q',
      '-batch',
      '-iex',
      'set auto-load off',
      '-ex',
      'python import time; kwb_t0 = time.monotonic()',
      '-ex',
      `target remote 127.0.0.1:${port}`,
      '-ex',
      'python print("KWB-ATTACH %.4f" % (time.monotonic() - kwb_t0))',
      // kill, not detach: gdbserver's inferior is a process group of its own, which outlives a detached gdbserver
      '-ex',
      'kill',
      vmlinux,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const m = /^KWB-ATTACH ([\d.]+)$/m.exec(gdb.stdout);
  if (!m || /timed out|Remote communication error/.test(gdb.stderr))
    throw new Error(`gdb did not attach:\n${gdb.stdout}${gdb.stderr}`);
  return Number(m[1]);
}

/** `kwb boot --gdb` with a cache of its own (nothing known of any kernel), the attach timed once it listens. */
async function viaFreshKwb(kernel: string, vmlinux: string): Promise<number> {
  const box = new Sandbox();
  const cache = mkdtempSync(join(tmpdir(), 'kwb-bench-cache-'));
  const kwb = box.start(['boot', '--kernel', kernel, '--gdb', ':0', '--', 'sleep', '300'], {
    env: { KWB_CACHE: cache },
  });
  const done = collect(kwb);
  try {
    let err = '';
    kwb.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => /gdb stub listening on 127\.0\.0\.1:\d+/.test(err), 'the stub to listen', 120_000);
    return await timeAttach(vmlinux, Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)![1]));
  } finally {
    kwb.kill('SIGTERM');
    await done;
    box.dispose();
    rmSync(cache, { recursive: true, force: true });
  }
}

export async function benchAttach(): Promise<BenchRow[]> {
  const tree = fixtureTree('um');
  const kernel = join(tree, 'linux');
  const vmlinux = join(tree, 'vmlinux');
  const tmp = makeTempDir('bench-attach');
  const kwb: number[] = [];
  const gdbserver: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      kwb.push(await viaFreshKwb(kernel, vmlinux));
      const dir = makeTempDir('bench-attach-d', tmp);
      gdbserver.push(await direct(kernel, dir, [], (port) => timeAttach(vmlinux, port), true));
    }
  } finally {
    removeTempDir(tmp);
  }
  const value = median(kwb);
  const reference = median(gdbserver);
  return [
    {
      name: 'gdbstub: attach on a build never seen (fresh cache, after a port probe, stock gdb)',
      value,
      unit: 's',
      reference,
      ratio: value / reference,
      goal: '<= 1 s',
      note: `median of ${RUNS} each, \`target remote\` timed inside gdb; reference: gdbserver directly (no --once), same probe`,
    },
  ];
}

if (require.main === module) {
  void benchAttach().then(
    (rows) => console.table(rows),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
