// `kwb boot --record FILE` and `kwb replay FILE` on the RISC-V fixture kernel, through the real CLI: a boot that
// waits for a line of console input (kwb.hold) is recorded with that input, and replayed alone and under
// gdb-multiarch (40 stepi then 40 reverse-stepi retrace the same pcs, then it runs on to the end): both replays print
// the recorded console byte for byte (the kernel's timestamps are the instruction count) and end at the recorded
// instruction count. A file that is not a recording, or is cut short, is a one-line error, exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { runGdb } from '../helpers/gdb';
import { collect, Sandbox, until } from '../helpers/kwb';
import { rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';

const GDB = 'gdb-multiarch';
const STEPS = 40;
const skip =
  spawnSync(GDB, ['--version'], { stdio: 'ignore' }).status !== 0 ? `${GDB} is not installed` : rv64QemuSkipReason();

const ENDED = /the replay ended as the recording did: (\d+) instructions, exited with 0/;

describe(
  'kwb boot --record FILE and kwb replay FILE on the rv64 fixture',
  { skip, timeout: FIXTURE_TIMEOUT_MS },
  () => {
    it('replays a recorded boot, alone and under gdb, to the same console at the same instruction counts', async (t) => {
      const { image, initramfs, vmlinux } = rv64Fixture();
      const box = new Sandbox();
      t.after(() => box.dispose());
      const file = join(box.tmp, 'boot.rec');

      // the recorded boot: the init holds until a line of input, which comes whenever this test sees it waiting
      const boot = box.start([
        'boot',
        '--kernel',
        image,
        '--initrd',
        initramfs,
        '--append',
        'kwb.hold',
        '--record',
        file,
      ]);
      const booted = collect(boot);
      let seen = '';
      boot.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
      await until(() => seen.includes('holding until a line of input'), 'the init to hold', 600_000);
      boot.stdin!.end('go\n');
      const recorded = await booted;
      assert.equal(recorded.code, 0, recorded.stderr);
      const rec = /recorded (\d+) instructions and 1 inputs in /.exec(recorded.stderr);
      assert.ok(rec, recorded.stderr);
      assert.match(recorded.stdout, /kwb-rv64-init: powering off/);

      const alone = await box.run(['replay', file], { input: '' });
      assert.equal(alone.code, 0, alone.stderr);
      assert.equal(alone.stdout, recorded.stdout, 'the same console, byte for byte');
      assert.equal(ENDED.exec(alone.stderr)?.[1], rec[1], alone.stderr);

      const served = box.start(['replay', '--gdb', ':0', file]);
      const replayed = collect(served);
      served.stdin!.end();
      let err = '';
      served.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await until(() => /listening on 127\.0\.0\.1:\d+/.test(err), 'the gdb stub', 120_000);
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(err)![1];
      const pcs = (from: number) => Array.from({ length: STEPS + 1 }, (_, i) => value(g.out, from + i));
      const steps = (cmd: string) => Array.from({ length: STEPS }, () => [cmd, 'p/x $pc']).flat();
      const g = await runGdb(
        vmlinux,
        [
          `target remote 127.0.0.1:${port}`,
          'break kernel_init',
          'continue',
          'delete',
          'p/x $pc', // $1
          ...steps('stepi'), // $2 .. $41
          ...steps('reverse-stepi'), // $42 .. $81
          'continue',
        ],
        { gdb: GDB, timeoutMs: 800_000, t },
      );
      assert.equal(g.code, 0, `${g.out}\n${g.err}`);
      const forward = pcs(1);
      const back = pcs(STEPS + 1).reverse();
      assert.ok(new Set(forward).size > 10, `stepi moved: ${forward.join(' ')}`);
      assert.deepEqual(back, forward, 'reverse-stepi retraced the pcs stepi went through');
      assert.match(g.out, /exited normally/);
      const end = await replayed;
      assert.equal(end.code, 0, end.stderr);
      assert.equal(end.stdout, recorded.stdout, 'the same console under gdb, shown once');
      assert.equal(ENDED.exec(end.stderr)?.[1], rec[1], end.stderr);

      // not a recording, and one cut short: one line each, exit 2
      const foreign = join(box.tmp, 'foreign.rec');
      writeFileSync(foreign, 'hello\n');
      const cut = join(box.tmp, 'cut.rec');
      writeFileSync(cut, readFileSync(file).subarray(0, 4096));
      for (const [bad, why] of [
        [foreign, /is not a kwb recording/],
        [cut, /cut short \(truncated\)/],
      ] as const) {
        const r = await box.run(['replay', bad]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, why);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    });
  },
);

/** The value gdb printed for `$N = value`. */
function value(out: string, n: number): string {
  const m = new RegExp(`^\\$${n} = (.*)$`, 'm').exec(out);
  assert.ok(m, `no $${n} in gdb output:\n${out}`);
  return m[1]!;
}
