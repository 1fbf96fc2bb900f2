// How kwb runs a command in a UML guest and judges it: separate channels for the command and the kernel console,
// honest verdicts for roots that cannot test and guests that die mid-command, bad --log paths, SIGKILL to kwb,
// and hostfs confined to kwb's own session directory. Real fixture kernel, real kwb CLI.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, collect, until } from '../helpers/kwb.js';

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
    const root = join(sandbox().tmp, 'empty-root'); // no /bin/sh
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
    assert.match(test.stderr, /kwb test: bad: the guest ended while the command ran/);
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
});
