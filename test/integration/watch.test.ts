// kwb watch: a rebuilt kernel (new content, not a mere touch) replaces the running guest, on the same gdb port;
// with --build, kwb watch itself rebuilds the tree after an edit (on a loopback distcc farm), then reboots.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOnPath } from '../../engine/which.js';
import { DISTCCD, DistccFarm } from '../helpers/distccd.js';
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

describe(
  'kwb watch --build',
  { timeout: FIXTURE_TIMEOUT_MS, skip: !(findOnPath('distcc') && DISTCCD) && 'needs distcc (scripts/setup.sh)' },
  () => {
    const box = new Sandbox();
    const farm = new DistccFarm();
    const dir = mkdtempSync(join(tmpdir(), 'kwb-watch-build-'));
    // a fresh ccache, so that the edited file is a miss that goes to distcc
    const env = { CCACHE_DIR: join(dir, 'ccache'), DISTCC_DIR: join(dir, 'distcc') };
    const file = 'kernel/sys.c';
    let repo = '';
    let original = '';
    before(async () => {
      // the bisect series' tree: a built UML fixture tree in git, whose main says "linux" for uname -s
      repo = execFileSync('bash', [join(__dirname, '..', 'fixtures', 'bisect-repo.sh')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }).trim();
      assert.equal(
        execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }),
        '',
      );
      execFileSync('git', ['-C', repo, 'checkout', '--quiet', 'main']);
      original = readFileSync(join(repo, file), 'utf8');
      mkdirSync(env.DISTCC_DIR);
      await farm.start(1);
    });
    after(async () => {
      // the fixture's file as committed (its next build recompiles it)
      if (original) writeFileSync(join(repo, file), original);
      await farm.stop();
      assert.deepEqual(box.leftovers(), { files: [], processes: [] });
      box.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('builds and boots the tree, rebuilds on the farm after a source edit and boots the new kernel', async () => {
      const hosts = farm.hosts(2);
      const child = box.start(['watch', '--build', '--distcc', hosts, '--', 'sh', '-c', 'uname -s; sleep 600'], {
        cwd: repo,
        env,
      });
      const done = collect(child);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await until(() => /^linux$/m.test(out), 'the built kernel to run the command', 15 * 60_000);
      assert.match(err, new RegExp(`^kwb watch: built ${repo}/linux in `, 'm'));

      // the edit a developer makes: kwb watch sees it, builds on the farm, and the new kernel boots
      const edited = original.replace("tmp.sysname[0] = 'l';", "tmp.sysname[0] = 'k';");
      assert.notEqual(edited, original);
      writeFileSync(join(repo, file), edited);
      await until(() => /^kinux$/m.test(out), 'the rebuilt kernel to run the command', 15 * 60_000);
      assert.match(err, /^kwb watch: kernel\/sys\.c changed; building$/m);
      assert.match(err, /^kwb watch: the kernel was rebuilt; rebooting$/m);
      const built = /^kwb watch: built in .*$/m.exec(err)?.[0] ?? '';
      assert.match(built, /ccache: \d+ hits, [1-9]\d* misses/, err);
      assert.match(
        built,
        new RegExp(
          `distcc: 1 host\\(s\\) taking 2 compiles at once .*compiles: 127\\.0\\.0\\.1:${farm.daemons[0]!.port} [1-9]`,
        ),
        err,
      );
      assert.match(farm.daemons[0]!.read(), /COMPILE_OK .*sys\.c/);

      child.kill('SIGINT');
      const r = await done;
      assert.equal(r.code, 0, err);
    });
  },
);
