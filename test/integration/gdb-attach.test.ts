// A developer's first attach of the day: `kwb boot --gdb` on a build kwb has never seen (a fresh cache: the structure
// offsets are not known yet), a port probe as IDEs and scripts make (connect, hang up), then stock gdb at its
// default settings (remotetimeout 2 s). The attach must not wait for kwb learning the kernel; the tasks show up as
// threads once it has.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures.js';
import { runGdb, umlTree } from '../helpers/gdb.js';
import { Sandbox, collect, until } from '../helpers/kwb.js';

/** Connect and hang up without a byte, as a port probe does. */
function probe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.end());
    sock.once('close', () => resolve());
    sock.once('error', reject);
  });
}

describe('stock gdb on a fresh build', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  it('attaches after a port probe within gdb’s default timeout; the tasks become threads once learnt', async (t) => {
    const tree = umlTree();
    const box = new Sandbox();
    const cache = mkdtempSync(join(tmpdir(), 'kwb-fresh-cache-'));
    t.after(() => {
      box.dispose();
      rmSync(cache, { recursive: true, force: true });
    });
    const kwb = box.start(['boot', '--kernel', join(tree, 'linux'), '--gdb', ':0', '--', 'sleep', '300'], {
      env: { KWB_CACHE: cache },
    });
    const done = collect(kwb);
    t.after(() => kwb.kill('SIGKILL'));
    let err = '';
    kwb.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => /gdb stub listening on 127\.0\.0\.1:\d+/.test(err), 'the stub to listen', 60_000);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)![1]);
    await probe(port);

    const vmlinux = join(tree, 'vmlinux');
    const attach = await runGdb(
      vmlinux,
      [
        'python import time; kwb_t0 = time.monotonic()',
        `target remote 127.0.0.1:${port}`,
        'python print("KWB-ATTACH %.3f" % (time.monotonic() - kwb_t0))',
        'info threads',
        'detach',
      ],
      { t, timeoutMs: 120_000 },
    );
    assert.doesNotMatch(attach.err, /timed out|Remote communication error|Ignoring packet error/, attach.err);
    assert.match(attach.out, /^KWB-ATTACH [\d.]+$/m, attach.out);
    t.diagnostic(`target remote took ${/KWB-ATTACH ([\d.]+)/.exec(attach.out)![1]} s (bench attach compares it)`);
    // served while kwb was still learning the kernel (seconds of gdb reading vmlinux): the plain CPU view
    assert.match(attach.out, /^\* 1 +Thread \d+ "UML kernel \d+"/m, attach.out);

    // meanwhile kwb learns the offsets from vmlinux (at low priority: long on a busy machine); a later attach sees
    // the kernel's tasks
    let ps = '';
    for (const deadline = Date.now() + 240_000; !/^ +1 [A-Z] \S+$/m.test(ps);) {
      assert.ok(Date.now() < deadline, `the kernel's tasks never showed: ${ps}`);
      const r = await runGdb(vmlinux, [`target remote 127.0.0.1:${port}`, 'monitor ps', 'detach'], { t });
      ps = r.out + r.err; // gdb -batch prints monitor output on stderr
    }
    const tasks = await runGdb(vmlinux, [`target remote 127.0.0.1:${port}`, 'info threads', 'kill'], { t });
    assert.match(tasks.out, /^ +\d+ +Thread 1 "[^"]+" \(pid 1 /m, tasks.out);
    const r = await done;
    assert.match(r.stderr, /killed by gdb/);
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
  });
});
