// The UML engine end to end: the real kwb CLI boots the real fixture kernel (and Debian's linux.uml).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, collect, until } from '../helpers/kwb.js';

const EXIT = { usage: 2, interrupted: 122, panic: 123, timeout: 124 };

describe('uml engine', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let kernel: string;
  let box: Sandbox;
  before(() => {
    kernel = umlKernel();
  });
  afterEach(() => {
    // every exit path leaves nothing behind: no temp dir, no UML process
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
  });
  const sandbox = () => (box = new Sandbox());

  it('boots to init and runs a command, printing its output', async () => {
    const r = await sandbox().run([
      'run',
      '--kernel',
      kernel,
      '--',
      'sh',
      '-c',
      'echo hello from $(uname -s) $(uname -m)',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from Linux x86_64\n');
  });

  for (const [cmd, status] of [
    [['true'], 0],
    [['false'], 1],
    [['sh', '-c', 'exit 7'], 7],
  ] as const) {
    it(`exits with the guest command's status: ${cmd.join(' ')} -> ${status}`, async () => {
      const r = await sandbox().run(['run', '--kernel', kernel, '--', ...cmd]);
      assert.equal(r.code, status, r.stderr);
    });
  }

  it("calibrates the delay loop on a kernel's first boot only, then presets what it learned", async () => {
    const cache = join(sandbox().tmp, 'cache'); // a cache of its own: this kernel's first boot happens here
    const dmesg = ['run', '--kernel', kernel, '--', 'dmesg'];
    const first = await box.run(dmesg, { env: { KWB_CACHE: cache } });
    assert.equal(first.code, 0, first.stderr);
    const learned = /Calibrating delay loop\.\.\. [\d.]+ BogoMIPS \(lpj=(\d+)\)/.exec(first.stdout);
    assert.ok(learned, first.stdout);
    const second = await box.run(dmesg, { env: { KWB_CACHE: cache } });
    assert.match(
      second.stdout,
      new RegExp(`Calibrating delay loop \\(skipped\\) preset value\\.\\. [\\d.]+ BogoMIPS \\(lpj=${learned[1]}\\)`),
    );
    // the user's own lpj= wins
    const own = await box.run(['run', '--kernel', kernel, '--append', 'lpj=1000000', '--', 'dmesg'], {
      env: { KWB_CACHE: cache },
    });
    assert.match(own.stdout, /preset value\.\. [\d.]+ BogoMIPS \(lpj=1000000\)/);
    rmSync(cache, { recursive: true, force: true });
  });

  it("hands kwb's input to the command, and its end as end of file", async () => {
    const lines = await sandbox().run(['run', '--kernel', kernel, '--', 'sh', '-c', 'cat; echo after cat'], {
      input: 'line one\nline two\n',
    });
    assert.equal(lines.stdout, 'line one\nline two\nafter cat\n');
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    const partial = await box.run(['run', '--kernel', kernel, '--', 'wc', '-c'], { input: 'no newline' });
    assert.equal(partial.stdout.trim(), '10');
  });

  it('reports a guest-triggered kernel panic with its own exit code', async () => {
    const r = await sandbox().run(['run', '--kernel', kernel, '--', 'sh', '-c', 'echo c > /proc/sysrq-trigger']);
    assert.equal(r.code, EXIT.panic);
    assert.match(r.stderr, /kwb: kernel panic: Kernel panic - not syncing: sysrq triggered crash/);
  });

  it('catches a hang with --timeout', async () => {
    const t0 = Date.now();
    const r = await sandbox().run(['run', '--kernel', kernel, '--timeout', '2', '--', 'sleep', '600']);
    assert.equal(r.code, EXIT.timeout);
    assert.match(r.stderr, /timeout/);
    assert.ok(Date.now() - t0 < 20_000);
  });

  it('prints the result with timings as JSON', async () => {
    const r = await sandbox().run(['run', '--kernel', kernel, '--json', '--', 'sh', '-c', 'echo out; exit 3']);
    assert.equal(r.code, 3);
    const json = JSON.parse(r.stdout.trim()) as {
      result: { kind: string; code: number };
      exitCode: number;
      timings: { totalMs: number };
    };
    assert.deepEqual(json.result, { kind: 'exited', code: 3 });
    assert.equal(json.exitCode, 3);
    assert.ok(json.timings.totalMs > 0);
    assert.match(r.stderr, /^out$/m); // the console goes to stderr with --json
  });

  it('shares a host directory that the guest reads and writes, and runs the command there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-share-'));
    try {
      writeFileSync(join(dir, 'in.txt'), 'from the host\n');
      const r = await sandbox().run(
        ['run', '--kernel', kernel, '--share', '.', '--', 'sh', '-c', 'cat in.txt; pwd; echo from the guest > out.txt'],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `from the host\n${dir}\n`);
      assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'from the guest\n');
      const named = await box.run([
        'run',
        '--kernel',
        kernel,
        '--share',
        `${dir}:/mnt/host`,
        '--',
        'cat',
        '/mnt/host/in.txt',
      ]);
      assert.equal(named.stdout, 'from the host\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('boots a disk image through a copy-on-write overlay and never writes the image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwb-disk-'));
    try {
      const rootDir = join(dir, 'root');
      for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootDir, d), { recursive: true });
      copyFileSync('/bin/busybox', join(rootDir, 'bin', 'busybox'));
      chmodSync(join(rootDir, 'bin', 'busybox'), 0o755);
      for (const applet of ['sh', 'cat', 'echo', 'mount', 'mkdir'])
        symlinkSync('busybox', join(rootDir, 'bin', applet));
      writeFileSync(join(rootDir, 'marker'), 'on the disk\n');
      const image = join(dir, 'disk.img');
      execFileSync('mke2fs', ['-q', '-t', 'ext4', '-d', rootDir, image, '32M']);
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
        'cat /marker; echo changed > /marker; cat /marker',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'on the disk\nchanged\n');
      assert.equal(sum(), before, 'the disk image was modified');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs three guests at once', async () => {
    const box = sandbox();
    const runs = await Promise.all(
      [1, 2, 3].map((n) =>
        box.run(['run', '--kernel', kernel, '--', 'sh', '-c', `sleep 1; echo guest ${n}; exit ${n}`]),
      ),
    );
    runs.forEach((r, i) => {
      assert.equal(r.code, i + 1, r.stderr);
      assert.equal(r.stdout, `guest ${i + 1}\n`);
    });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`shuts the guest down on ${signal} to kwb`, async () => {
      const child = sandbox().start(['run', '--kernel', kernel, '--', 'sh', '-c', 'echo running; sleep 600']);
      const done = collect(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => out.includes('running'), 'the guest command to start');
      child.kill(signal);
      const r = await done;
      assert.equal(r.code, EXIT.interrupted);
      assert.match(r.stderr, new RegExp(`interrupted by ${signal}`));
    });
  }

  it(
    "boots Debian's ready-made /usr/bin/linux.uml with the default root",
    { skip: !existsSync('/usr/bin/linux.uml') },
    async () => {
      const r = await sandbox().run(['run', '--kernel', '/usr/bin/linux.uml', '--', 'sh', '-c', 'uname -r; exit 5']);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stdout, /^6\.1\./m);
    },
  );
});

describe('bad input', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  const box = new Sandbox();
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'kwb-bad-'));
    writeFileSync(join(scratch, 'notes.txt'), 'not a kernel\n');
    const image = Buffer.alloc(64);
    image.write('RSC\x05', 56, 'latin1'); // RISC-V Image header magic
    writeFileSync(join(scratch, 'Image'), image);
    // the fixture kernel cut short (a copy or a link interrupted): once an internal error with a stack, exit 125
    writeFileSync(join(scratch, 'cut-linux'), readFileSync(umlKernel()).subarray(0, 100_000), { mode: 0o755 });
  });
  after(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const cases: [string, () => string[], RegExp][] = [
    [
      'a missing kernel file',
      () => ['run', '--kernel', join(scratch, 'nope'), '--', 'true'],
      /does not exist|cannot read/,
    ],
    [
      'a file that is not ELF',
      () => ['run', '--kernel', join(scratch, 'notes.txt'), '--', 'true'],
      /not a kernel kwb can boot/,
    ],
    [
      'a RISC-V Image given to the uml engine',
      () => ['run', '--engine', 'uml', '--kernel', join(scratch, 'Image'), '--', 'true'],
      /RISC-V kernel; the uml engine/,
    ],
    [
      'an x86-64 program that is not a UML kernel',
      () => ['run', '--kernel', '/bin/true', '--', 'true'],
      /not a User-mode Linux kernel/,
    ],
    [
      'a truncated kernel',
      () => ['run', '--kernel', join(scratch, 'cut-linux'), '--', 'true'],
      /cut-linux is truncated or corrupt: .* rebuild it/,
    ],
    ['an unknown option', () => ['run', '--frobnicate', '--', 'true'], /unknown option --frobnicate/],
    ['run without a command', () => ['run', '--kernel', '/bin/true'], /needs a guest command/],
    ['a bad --mem', () => ['run', '--kernel', umlKernel(), '--mem', 'lots', '--', 'true'], /--mem lots/],
    [
      'a missing shared directory',
      () => ['run', '--kernel', umlKernel(), '--share', join(scratch, 'nodir'), '--', 'true'],
      /shared directory .* does not exist/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`rejects ${what} with one line and exit code 2`, async () => {
      const r = await box.run(args());
      assert.equal(r.code, EXIT.usage);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      // one prefix, naming the command
      assert.match(r.stderr, /^kwb run: (?!kwb)/);
    });
  }
});

describe('kwb doctor and help', () => {
  const box = new Sandbox();
  after(() => box.dispose());

  it('finds this host ready (setup.sh installed everything) and lists each check', async () => {
    const r = await box.run(['doctor']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^\[ ok \] \/dev\/shm allows exec/m);
    assert.match(r.stdout, /^\[ ok \] gdbserver/m);
    assert.match(r.stdout, /This host is ready for kwb\./);
  });

  it('answers an unknown command with one line and exit code 2', async () => {
    const r = await box.run(['frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "kwb: unknown command 'frobnicate'; run kwb --help for the list\n");
  });
});
