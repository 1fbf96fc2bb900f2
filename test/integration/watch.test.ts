// kwb watch: a rebuilt kernel (new content, not a mere touch) replaces the running guest, on the same gdb port.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, collect, until } from '../helpers/kwb.js';

const DEBIAN_UML = '/usr/bin/linux.uml';

describe(
  'kwb watch',
  { timeout: FIXTURE_TIMEOUT_MS, skip: !existsSync(DEBIAN_UML) && 'needs a second kernel (user-mode-linux)' },
  () => {
    const box = new Sandbox();
    let dir: string;
    before(() => {
      umlKernel();
      dir = mkdtempSync(join(tmpdir(), 'kwb-watch-'));
    });
    after(() => {
      assert.deepEqual(box.leftovers(), { files: [], processes: [] });
      box.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reboots when the kernel is rebuilt, not when it is touched, and keeps the gdb port', async () => {
      const kernel = join(dir, 'linux');
      copyFileSync(umlKernel(), kernel);
      const child = box.start(['watch', '--kernel', kernel, '--gdb', ':0', '--', 'sh', '-c', 'uname -r; sleep 600']);
      const done = collect(child);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await until(() => /^6\.1\.192$/m.test(out), 'the first kernel to run the command', 60_000);
      const port = /gdb stub listening on 127\.0\.0\.1:(\d+)/.exec(err)![1];

      // same content, new mtime: not a rebuild
      const later = new Date(Date.now() + 5000);
      utimesSync(kernel, later, later);
      // a different kernel replaces the file the way a build's final link does
      copyFileSync(DEBIAN_UML, `${kernel}.new`);
      renameSync(`${kernel}.new`, kernel);
      await until(() => /^6\.1\.176$/m.test(out), 'the rebuilt kernel to run the command', 60_000);
      assert.equal(err.match(/the kernel was rebuilt; rebooting/g)?.length, 1, err);
      const ports = [...err.matchAll(/gdb stub listening on 127\.0\.0\.1:(\d+)/g)].map((m) => m[1]);
      assert.deepEqual(ports, [port, port]);

      // a debugger reconnects to the same port and finds the new guest
      const gdb = execFileSync(
        'gdb',
        ['-q', '-batch', '-nx', '-ex', `target remote 127.0.0.1:${port}`, '-ex', 'info registers rip', '-ex', 'detach'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.match(gdb, /^rip\s+0x[0-9a-f]+/m);

      child.kill('SIGINT');
      const r = await done;
      assert.equal(r.code, 0);
    });
  },
);
