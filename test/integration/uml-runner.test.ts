// How kwb runs a command in a UML guest and judges it: separate channels for the command and the kernel console,
// honest verdicts for roots that cannot test and guests that die mid-command, bad --log paths, SIGKILL to kwb,
// and hostfs confined to kwb's own session directory. Real fixture kernel, real kwb CLI.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, collect, until } from '../helpers/kwb.js';
import { busyboxRoot, hostfsEscape, hostSecret, SECRET } from '../helpers/confine.js';

const EXIT = { usage: 2, panic: 123, couldNotTest: 125 };
const VERDICT = { good: 0, bad: 1, skip: 125 };

describe('uml runner', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let kernel: string;
  let box: Sandbox;
  before(() => {
    kernel = umlKernel();
  });
  afterEach(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
  });
  after(() => box?.dispose());
  const sandbox = () => (box = new Sandbox());
  // the tests' own host files, outside the sandbox (whose every file counts as something kwb left behind)
  const scratchDirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-runner-test-'));
    scratchDirs.push(dir);
    return dir;
  };
  after(() => scratchDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("keeps the command's stdout, its stderr and the kernel console apart", async () => {
    const r = await sandbox().run([
      'run',
      '--kernel',
      kernel,
      '--',
      'sh',
      '-c',
      'echo out; echo err >&2; echo "<3>kwb: a kernel console line" > /dev/kmsg; echo "out again"',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'out\nout again\n'); // exactly the command's stdout
    assert.match(r.stderr, /^err$/m);
    assert.match(r.stderr, /kwb: a kernel console line/);
  });

  it("judges only the kernel's console: a WARNING the command prints is good, one the kernel logs is bad", async () => {
    const warning = 'WARNING: CPU: 0 PID: 1 at kernel/sys.c:1300 __do_sys_newuname+0x1c/0x30';
    const printed = await sandbox().run(['test', '--kernel', kernel, '--', 'sh', '-c', `echo "${warning}"`]);
    assert.equal(printed.code, VERDICT.good, printed.stderr);
    assert.equal(printed.stdout, `${warning}\n`);
    // the kernel log's own path (printk, as WARN() takes): this fixture has no userspace trigger for a real WARN
    const logged = await box.run(['test', '--kernel', kernel, '--', 'sh', '-c', `echo "<4>${warning}" > /dev/kmsg`]);
    assert.equal(logged.code, VERDICT.bad, logged.stderr);
    assert.match(logged.stderr, /kwb test: bad: .*kernel warning: WARNING: CPU: 0 PID: 1 at kernel\/sys\.c:1300/);
  });

  it("leaves only the command's output on stdout with Debian's linux.uml too", async () => {
    const r = await sandbox().run(['run', '--kernel', '/usr/bin/linux.uml', '--', 'uname', '-s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Linux\n');
  });

  it('refuses a --log path it cannot write with one line and exit 2, before booting', async () => {
    const r = await sandbox().run(['run', '--kernel', kernel, '--log', '/nonexistent-dir/console.log', '--', 'true']);
    assert.equal(r.code, EXIT.usage, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--log \/nonexistent-dir\/console.log: cannot write it/);
    assert.doesNotMatch(r.stderr, /\bat \w+ \(/); // no stack trace
  });

  it('calls a root that cannot start kwb\'s init "could not test" (125) with the reason, not a kernel panic', async () => {
    const root = join(scratch(), 'empty-root'); // no /bin/sh
    sandbox();
    mkdirSync(root);
    const run = await box.run(['run', '--kernel', kernel, '--rootfs', root, '--', 'true']);
    assert.equal(run.code, EXIT.couldNotTest, run.stderr);
    assert.match(run.stderr, /the root cannot start kwb's init .*Requested init \/bin\/sh failed/);
    const test = await box.run(['test', '--kernel', kernel, '--rootfs', root, '--', 'true']);
    assert.equal(test.code, VERDICT.skip, test.stderr);
    assert.match(test.stderr, /kwb test: skip: could not test: the root cannot start kwb's init/);
  });

  it('judges a guest that powers off in the middle of the command as bad, not as a run that never started', async () => {
    const run = await sandbox().run(['run', '--kernel', kernel, '--', 'sh', '-c', 'echo before; poweroff -f']);
    assert.equal(run.code, EXIT.panic, run.stderr);
    assert.match(run.stderr, /the guest ended while the command ran/);
    const test = await box.run(['test', '--kernel', kernel, '--', 'sh', '-c', 'poweroff -f']);
    assert.equal(test.code, VERDICT.bad, test.stderr);
    assert.match(test.stderr, /kwb test: bad: .*the guest ended while the command ran/);
  });

  it('reports a guest whose gdbserver is killed while the command runs as dead mid-command, not unstarted', async () => {
    const child = sandbox().start([
      'run',
      '--kernel',
      kernel,
      '--gdb',
      '0',
      '--',
      'sh',
      '-c',
      'echo command-started; sleep 60',
    ]);
    const done = collect(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('command-started'), 'the command to start', 60_000);
    const gdbserver = box.leftovers().processes.find((p) => / gdbserver /.test(` ${p.split(': ')[1]}`));
    assert.ok(gdbserver, box.leftovers().processes.join('\n'));
    process.kill(Number(gdbserver.split(':')[0]), 'SIGKILL');
    const r = await done;
    assert.equal(r.code, EXIT.panic, r.stderr);
    assert.match(r.stderr, /the guest ended while the command ran, before it finished \(gdbserver ended\)/);
  });

  it('ends every guest process when kwb is killed with SIGKILL; the next kwb removes what it left', async () => {
    const child = sandbox().start(['run', '--kernel', kernel, '--', 'sh', '-c', 'echo started; sleep 300']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('started'), 'the command to start', 60_000);
    assert.ok(box.leftovers().processes.length > 1, 'the guest runs');
    child.kill('SIGKILL');
    await until(() => box.leftovers().processes.length === 0, 'the guest processes to end', 10_000);
    assert.equal(box.leftovers().files.length, 1); // its session dir: nobody was left to remove it
    // a session record of a gdb server whose kwb is gone
    const dead = spawnSync('true').pid!;
    const sessions = join(box.tmp, 'cache', 'sessions');
    mkdirSync(sessions, { recursive: true });
    writeFileSync(join(sessions, `${dead}-1234.json`), JSON.stringify({ pid: dead, host: '127.0.0.1', port: 1234 }));
    const next = await box.run(['run', '--kernel', kernel, '--', 'true'], {
      env: { KWB_CACHE: join(box.tmp, 'cache') },
    });
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(readdirSync(sessions), []);
    assert.deepEqual(box.leftovers().files, ['cache']);
    box.dispose();
    box = new Sandbox();
  });

  it('ends a guest held for gdb, gdbserver and the kernel under it, when kwb is killed with SIGKILL', async () => {
    const cache = { KWB_CACHE: join(sandbox().tmp, 'cache') };
    const child = box.start(['run', '--kernel', kernel, '--gdb', '127.0.0.1:0', '--wait-gdb', '--', 'true'], {
      env: cache,
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => err.includes('the guest waits for gdb'), 'the guest to wait for gdb', 60_000);
    const running = box.leftovers().processes;
    assert.ok(
      running.some((p) => / gdbserver /.test(` ${p.split(': ')[1]}`)) && running.length > 2,
      running.join('\n'),
    );
    child.kill('SIGKILL');
    await until(() => box.leftovers().processes.length === 0, 'the guest processes to end', 10_000);
    const next = await box.run(['run', '--kernel', kernel, '--', 'true'], { env: cache });
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(readdirSync(join(box.tmp, 'cache', 'sessions')), []); // its gdb session record, pruned
    assert.deepEqual(box.leftovers().files, ['cache']); // and its session dir
    box.dispose();
    box = new Sandbox();
  });

  const escape = (secretDir: string) => ['sh', '-c', hostfsEscape(secretDir)];

  it("confines hostfs to kwb's session directory: no host file outside it, system directories read-only", async () => {
    const secret = hostSecret();
    after(secret.remove);
    const r = await sandbox().run(['run', '--kernel', kernel, '--', ...escape(secret.dir)]);
    assert.doesNotMatch(r.stdout, new RegExp(SECRET));
    assert.match(r.stderr, /can't create \/m2\/usr\/kwb-was-here: Read-only file system/);
    assert.match(r.stdout, /\broot\b/); // what it does reach: its own session dir
    assert.ok(!existsSync('/usr/kwb-was-here'));
  });

  it('with a root of your own and no share, the guest reaches no host file', async () => {
    const secret = hostSecret();
    after(secret.remove);
    const root = join(scratch(), 'busybox-root');
    busyboxRoot(root);
    const r = await sandbox().run(['run', '--kernel', kernel, '--rootfs', root, '--', ...escape(secret.dir)]);
    assert.doesNotMatch(r.stdout, new RegExp(SECRET));
    assert.match(r.stdout, /\brootfs\b/);
  });

  it('with a disk root, the guest reaches no host file and cannot write the image', async () => {
    const secret = hostSecret();
    after(secret.remove);
    const root = join(scratch(), 'disk-root');
    busyboxRoot(root);
    const image = join(scratch(), 'disk.img');
    execFileSync('mke2fs', ['-q', '-t', 'ext4', '-d', root, image, '16M']);
    const sum = () => createHash('sha256').update(readFileSync(image)).digest('hex');
    const before = sum();
    const r = await sandbox().run([
      'run',
      '--kernel',
      kernel,
      '--disk',
      image,
      '--',
      'sh',
      '-c',
      `${hostfsEscape(secret.dir)}; echo x > /m2/disk/image; echo y > /written-on-the-overlay`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, new RegExp(SECRET));
    assert.match(r.stdout, /\bdisk\b/); // the image's own directory in the session dir
    assert.match(r.stderr, /can't create \/m2\/disk\/image: Read-only file system/);
    assert.equal(sum(), before, 'the disk image was modified');
  });
});
