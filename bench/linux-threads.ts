// Kernel awareness: how long gdb waits for `info threads` through kwb's stub on a UML guest with ~100 tasks (the
// guest command starts 100 sleeping processes); goal < 200 ms. The reference, in the same stops: the kernel's own
// lx-ps (gdb's Python walking the same task list), which lists the tasks but gives no threads.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootGuest } from '../engine/boot.js';
import { serveGuest } from '../engine/serve.js';
import { makeTempDir, removeTempDir } from '../engine/host.js';
import { runGdb } from '../test/helpers/gdb.js';
import { fixtureTree } from '../test/helpers/fixtures.js';
import { median, type BenchRow } from './row.js';

const SLEEPERS = 100;
const ROUNDS = 7;

// each round stops the guest afresh (a breakpoint the guest's uname loop hits), so that nothing is cached in the stub
const PY = `
import gdb, time
threads = []
lxps = []
tasks = 0
for r in range(${ROUNDS}):
    gdb.execute('tbreak __do_sys_newuname', to_string=True)
    gdb.execute('continue', to_string=True)
    t = time.perf_counter()
    out = gdb.execute('info threads', to_string=True)
    threads.append(time.perf_counter() - t)
    tasks = len([l for l in out.splitlines() if 'Thread ' in l])
    t = time.perf_counter()
    gdb.execute('lx-ps', to_string=True)
    lxps.append(time.perf_counter() - t)
print('KWB-BENCH tasks %d threads %s lxps %s' % (tasks, ','.join('%.6f' % x for x in threads), ','.join('%.6f' % x for x in lxps)))
`;

export async function benchLinuxThreads(): Promise<BenchRow[]> {
  const tree = fixtureTree('um');
  const kernel = join(tree, 'linux');
  const tmp = makeTempDir('bench-linux');
  const script = `i=0; while [ $i -lt ${SLEEPERS} ]; do sleep 1000 & i=$((i+1)); done; echo kwb-ready; while true; do uname -r >/dev/null; sleep 0.05; done`;
  const guest = await bootGuest({
    kernel,
    console: 'pipe',
    debug: { wait: false },
    command: ['sh', '-c', script],
    mem: '256M',
  });
  try {
    let output = '';
    // the kernel console and the command's own output, as they come
    for (const stream of [guest.output, guest.command?.stdout])
      stream?.on('data', (d: Buffer) => (output += d.toString()));
    const stub = await serveGuest(guest, {
      port: 0,
      vmlinux: kernel,
      log: process.env.KWB_BENCH_LOG ? (l) => process.stderr.write(l + '\n') : undefined,
    });
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes('kwb-ready')) {
        if (Date.now() > deadline) throw new Error('the guest did not start its sleepers');
        await new Promise((r) => setTimeout(r, 100));
      }
      const py = join(tmp, 'bench.py');
      writeFileSync(py, PY);
      const r = await runGdb(
        join(tree, 'vmlinux'),
        [`target remote 127.0.0.1:${stub.port}`, `source ${py}`, 'detach'],
        { scripts: tree, timeoutMs: 150_000 },
      );
      const m = /KWB-BENCH tasks (\d+) threads ([\d.,]+) lxps ([\d.,]+)/.exec(r.out);
      if (!m) throw new Error(`gdb did not report:\n${(r.out + r.err).slice(-1500)}`);
      const ms = (list: string) => median(list.split(',').map((x) => Number(x) * 1000));
      const threads = ms(m[2]!);
      const lxps = ms(m[3]!);
      return [
        {
          name: `linux: gdb \`info threads\` (${m[1]} tasks, UML)`,
          value: threads,
          unit: 'ms',
          reference: lxps,
          ratio: threads / lxps,
          goal: 'value < 200 ms',
          note: `median of ${ROUNDS} fresh stops; reference: the kernel's lx-ps in the same stops`,
        },
      ];
    } finally {
      await stub.close();
    }
  } finally {
    await guest.stop();
    removeTempDir(tmp);
  }
}

if (require.main === module) {
  void benchLinuxThreads().then(
    (rows) => console.table(rows),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
