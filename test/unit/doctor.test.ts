// kwb doctor names kwb's own setup script by absolute path (in a kernel tree, `scripts/setup.sh` is the kernel's)
// and the group that installs what is missing.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, describe, it } from 'node:test';
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
  });
});
