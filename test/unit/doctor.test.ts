// kwb doctor names kwb's own setup script by absolute path (in a kernel tree, `scripts/setup.sh` is the kernel's)
// and the group that installs what is missing.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DISTCCD, DistccFarm, freePort } from '../helpers/distccd.js';
import { Sandbox } from '../helpers/kwb.js';

describe('kwb doctor', () => {
  const box = new Sandbox();
  const empty = mkdtempSync(join(tmpdir(), 'kwb-nopath-'));
  after(() => {
    box.dispose();
    rmSync(empty, { recursive: true, force: true });
  });

  it('on a host with no tools, says which setup.sh group installs each, by absolute path', async () => {
    const r = await box.run(['doctor'], { env: { PATH: empty, KWB_CACHE: join(empty, 'cache') } });
    assert.equal(r.code, 1, r.stdout);
    const gdb = /gdb is missing; run: sudo (\S+) \(Debian package gdb\)/.exec(r.stdout);
    assert.ok(gdb, r.stdout);
    assert.ok(isAbsolute(gdb[1]!) && existsSync(gdb[1]!) && gdb[1]!.endsWith('/scripts/setup.sh'), gdb[1]);
    assert.match(r.stdout, /gdb-multiarch is missing; run: sudo \S+\/scripts\/setup\.sh --riscv /);
    assert.match(r.stdout, /lldb is missing; run: sudo \S+\/scripts\/setup\.sh --test /);
    assert.match(r.stdout, /ccache is missing; run: sudo \S+\/scripts\/setup\.sh \(/);
    assert.match(r.stdout, /distcc is missing; run: sudo \S+\/scripts\/setup\.sh \(/);
  });

  it(
    'compiles on each distcc host and names the one that does not answer',
    { skip: !DISTCCD && 'needs distcc' },
    async () => {
      const farm = new DistccFarm();
      await farm.start(1);
      try {
        const live = `127.0.0.1:${farm.daemons[0]!.port}/2`;
        const dead = `127.0.0.1:${await freePort()}`;
        const r = await box.run(['doctor'], { env: { DISTCC_HOSTS: `${live} ${dead}` } });
        assert.match(r.stdout, new RegExp(`\\[ ok \\] distcc host ${live} compiles with gcc\n`));
        assert.match(r.stdout, new RegExp(`\\[warn\\] distcc host ${dead} compiles with gcc\n.*Connection refused`));
        assert.match(farm.daemons[0]!.read(), /COMPILE_OK/);
        const bad = await box.run(['doctor', '--distcc', 'host/x']);
        assert.equal(bad.code, 1);
        assert.match(bad.stdout, /\[FAIL\] distcc hosts\n.*bad multiplier/);
      } finally {
        await farm.stop();
      }
    },
  );
});
