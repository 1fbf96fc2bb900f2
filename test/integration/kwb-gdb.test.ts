// `kwb boot --gdb` + `kwb gdb`: the one-command path a kernel developer uses, with real gdb and the kernel's own
// gdb scripts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, collect, until } from '../helpers/kwb.js';

describe('kwb gdb', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let box: Sandbox;
  // a private record of served guests, so that `kwb gdb` finds this test's guest and no other
  let sessions: string;
  beforeEach(() => {
    sessions = mkdtempSync(join(tmpdir(), 'kwb-sessions-'));
  });
  afterEach(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    rmSync(sessions, { recursive: true, force: true });
  });

  it('attaches gdb with symbols and lx- scripts to the served guest, and kill ends it', async () => {
    box = new Sandbox();
    const env = { KWB_CACHE: sessions };
    const guest = box.start(['run', '--kernel', umlKernel(), '--gdb', ':0', '--wait-gdb', '--', 'uname', '-r'], {
      env,
    });
    const guestDone = collect(guest);
    let err = '';
    guest.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => /gdb stub listening on 127\.0\.0\.1:\d+/.test(err), 'the stub to listen');
    const gdb = await box.run(
      [
        'gdb',
        '--',
        '-batch',
        '-ex',
        'break __do_sys_newuname',
        '-ex',
        'continue',
        '-ex',
        'p utsname()->release',
        '-ex',
        'lx-version',
        '-ex',
        'kill',
      ],
      { env },
    );
    assert.match(gdb.stdout, /Breakpoint 1, __do_sys_newuname/);
    assert.match(gdb.stdout, /\$1 = "6\.1\.\d+"/);
    assert.match(gdb.stdout, /^Linux version 6\.1\.\d+/m);
    const r = await guestDone;
    assert.equal(r.code, 122);
    assert.match(r.stderr, /killed by gdb/);
  });

  it('says what to do when no guest is being served', async () => {
    box = new Sandbox();
    const r = await box.run(['gdb'], { env: { KWB_CACHE: sessions } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^kwb gdb: no guest is being served to gdb; start one with kwb boot --gdb/);
  });
});
