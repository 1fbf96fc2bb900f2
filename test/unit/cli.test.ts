import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, type OptionTable } from '../../cli/args.js';
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
