import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { parseArgs, type OptionTable } from '../../cli/args.js';
import { bootOptions } from '../../cli/boot.js';
import { parseMem, parseTimeout } from '../../engine/options.js';
import { parseGdbAddress } from '../../cli/serve-gdb.js';
import { dropLines } from '../../cli/lines.js';
import { PanicWatch } from '../../engine/panic.js';
import { exitCodeFor } from '../../engine/results.js';

const table: OptionTable = {
  mem: { value: 'SIZE', help: '' },
  share: { value: 'DIR', repeat: true, help: '' },
  json: { help: '' },
};

describe('argument parsing', () => {
  it('reads values, repeats, flags and the command after --', () => {
    const a = parseArgs(['--mem=1G', '--share', 'a', '--share', 'b', '--json', '--', 'ls', '--mem'], table);
    assert.deepEqual(a.options.get('mem'), ['1G']);
    assert.deepEqual(a.options.get('share'), ['a', 'b']);
    assert.ok(a.flags.has('json'));
    assert.deepEqual(a.rest, ['ls', '--mem']);
  });

  it('says what is wrong in one line', () => {
    assert.throws(() => parseArgs(['--nope'], table), /unknown option --nope/);
    assert.throws(() => parseArgs(['--mem'], table), /--mem needs a value/);
    assert.throws(() => parseArgs(['--mem', '1G', '--mem', '2G'], table), /given twice/);
    assert.throws(() => parseArgs(['--json=1'], table), /takes no value/);
    assert.throws(() => parseArgs(['ls'], table), /after '--'/);
  });

  it('parses gdb addresses, loopback by default', () => {
    assert.deepEqual(parseGdbAddress(':1234'), { host: '127.0.0.1', port: 1234 });
    assert.deepEqual(parseGdbAddress('1234'), { host: '127.0.0.1', port: 1234 });
    assert.deepEqual(parseGdbAddress('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
    assert.deepEqual(parseGdbAddress('[::1]:9'), { host: '::1', port: 9 });
    assert.throws(() => parseGdbAddress('host:'), /HOST:\]PORT/);
    assert.throws(() => parseGdbAddress(':70000'), /HOST:\]PORT/);
  });
});

describe('boot option ranges', () => {
  it('takes memory sizes from 16M up to the host RAM, in bytes', () => {
    const host = 8 * 2 ** 30;
    assert.equal(parseMem('256M', host), 256 * 2 ** 20);
    assert.equal(parseMem('1g', host), 2 ** 30);
    assert.equal(parseMem('16384K', host), 16 * 2 ** 20);
    assert.throws(() => parseMem('0', host), /--mem 0: too small/);
    assert.throws(() => parseMem('1K', host), /--mem 1K: too small/);
    assert.throws(() => parseMem('9G', host), /--mem 9G: more than this host's 8192M of RAM/);
    assert.throws(() => parseMem('12T', host), /give a size like 256M/);
  });

  it('checks values as they are parsed: --mem, --timeout, --engine, --share', () => {
    assert.throws(() => parseArgs(['--mem', '99999G'], bootOptions), /--mem 99999G: more than this host's/);
    assert.throws(() => parseArgs(['--timeout', '0'], bootOptions), /--timeout 0: give a number of seconds/);
    assert.throws(() => parseArgs(['--timeout=abc'], bootOptions), /--timeout abc/);
    assert.equal(parseTimeout('2.5'), 2.5);
    assert.throws(() => parseArgs(['--engine', 'qemu'], bootOptions), /--engine qemu: use uml or rv64/);
    assert.throws(() => parseArgs(['--share', '/a:rel'], bootOptions), /guest path must be absolute/);
  });
});

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const kwb = (...argv: string[]) => spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8', timeout: 30_000 });
/** Every command, as `kwb --help` lists them: a new one is covered here without being named. */
const COMMANDS = [...kwb('--help').stdout.matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]!);

describe('the kwb command line', () => {
  it('answers -h, --help and kwb help CMD on every command with its own help, exit 0', () => {
    assert.ok(COMMANDS.length >= 11 && COMMANDS.includes('rootfs'), `commands in kwb --help: ${COMMANDS.join(' ')}`);
    for (const name of COMMANDS) {
      for (const argv of [
        [name, '-h'],
        [name, '--help'],
        ['help', name],
      ]) {
        const r = kwb(...argv);
        assert.equal(r.status, 0, `kwb ${argv.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^usage: kwb ${name}\\b`), argv.join(' '));
        assert.match(r.stdout, /-h, --help/);
      }
    }
  });

  it('refuses an unknown option on every command with one line and exit 2 (kwb test: 125, a skip)', () => {
    for (const name of COMMANDS) {
      const r = kwb(name, '--bogus');
      assert.equal(r.status, name === 'test' ? 125 : 2, `kwb ${name} --bogus`);
      assert.equal(r.stderr, `kwb ${name}: unknown option --bogus\n`);
    }
  });

  it('refuses an out-of-range --mem before booting anything', () => {
    for (const mem of ['99999G', '0', '1K']) {
      const r = kwb('run', '--kernel', '/usr/bin/linux.uml', '--mem', mem, '--', 'true');
      assert.equal(r.status, 2);
      assert.match(r.stderr, new RegExp(`^kwb run: --mem ${mem}: [^\n]+\n$`));
    }
  });
});

describe('module graph', () => {
  it('kwb boot reaches the RISC-V machine only through a dynamic import (a UML boot never evaluates it)', async () => {
    const root = join(__dirname, '..', '..');
    const entry = 'cli/boot.ts';
    const { metafile } = await build({
      entryPoints: [join(root, entry)],
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const reached = new Set<string>();
    for (const todo = [entry]; todo.length;) {
      const file = todo.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      for (const i of metafile.inputs[file]?.imports ?? []) if (i.kind === 'import-statement') todo.push(i.path);
    }
    assert.ok(reached.has('engine/boot.ts'));
    assert.deepEqual(
      [...reached].filter((f) => f.startsWith('engine/rv64/')),
      [],
    );
  });
});

describe('results', () => {
  it('maps every ending to a code within 0..127, 125 only for could-not-test', () => {
    assert.equal(exitCodeFor({ kind: 'exited', code: 7 }), 7);
    assert.equal(exitCodeFor({ kind: 'exited', code: 255 }), 127);
    assert.equal(exitCodeFor({ kind: 'panic' }), 123);
    assert.equal(exitCodeFor({ kind: 'timeout' }), 124);
    assert.equal(exitCodeFor({ kind: 'killed' }), 122);
    assert.equal(exitCodeFor({ kind: 'failed-to-start' }), 125);
  });

  it('finds a panic line split across chunks, and one without a final newline', () => {
    const w = new PanicWatch();
    for (const part of ['boot ok\nKernel pa', 'nic - not syncing: Attempted to ', 'kill init!\r\nmore\n']) w.feed(part);
    assert.equal(w.message, 'Kernel panic - not syncing: Attempted to kill init!');
    const tail = new PanicWatch();
    tail.feed('x\nKernel panic - not syncing: VFS: Unable to mount root fs');
    assert.equal(tail.message, 'Kernel panic - not syncing: VFS: Unable to mount root fs');
    const none = new PanicWatch();
    none.feed('no panic here\n');
    assert.equal(none.message, undefined);
  });

  it("drops the guest's final reboot line from run output, and only that", async () => {
    const t = dropLines(/^reboot: System halted$/);
    let out = '';
    t.on('data', (d: Buffer) => (out += d.toString()));
    t.write('hello\nreb');
    t.write('oot: System halted\nreboot: System halted twice\nend');
    t.end();
    await new Promise((r) => t.on('end', r));
    assert.equal(out, 'hello\nreboot: System halted twice\nend');
  });
});
