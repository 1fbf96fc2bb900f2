import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readLab } from '../../../engine/lab.js';
import { KwbError } from '../../../engine/results.js';

const dir = mkdtempSync(join(tmpdir(), 'kwb-lab-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lab(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return readLab(file, () => '/default/linux');
}

describe('lab files', () => {
  it('reads guests, kernels relative to the file, LANs in both spellings, commands and gdb ports', () => {
    const l = lab(
      'two.yaml',
      [
        'kernel: build/linux',
        'lans: [left]',
        'guests:',
        '  a:',
        '    net: ["lan=left,ip=10.1.0.1/24"]',
        '    command: echo hi && true',
        '    gdb: 1234',
        '  b:',
        '    kernel: /abs/linux',
        '    mem: 128m',
        '    net:',
        '      - { lan: left, ip: 10.1.0.2/24, mac: "02:00:00:00:00:02" }',
        '      - { user: true, hostfwd: ["tcp:8080:80"] }',
        '    command: [nc, -l, -p, "5000"]',
      ].join('\n'),
    );
    assert.equal(l.name, 'two');
    const [a, b] = l.guests;
    assert.equal(a!.boot.kernel, join(dir, 'build/linux'));
    assert.deepEqual(a!.boot.command, ['sh', '-c', 'echo hi && true']);
    assert.equal(a!.gdbPort, 1234);
    assert.deepEqual(a!.boot.debug, { wait: false });
    assert.deepEqual(a!.boot.net, [{ kind: 'lan', name: 'left', ip: '10.1.0.1/24', mac: undefined }]);
    assert.equal(b!.boot.kernel, '/abs/linux');
    assert.equal(b!.boot.mem, '128M');
    assert.deepEqual(b!.boot.command, ['nc', '-l', '-p', '5000']);
    assert.deepEqual(b!.boot.net?.[1], {
      kind: 'user',
      mac: undefined,
      forwards: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 }],
    });
    assert.equal(b!.boot.debug, undefined);
  });

  it('reads JSON, and falls back to the default kernel', () => {
    const l = lab('j.json', '{"guests": {"solo": {}}}');
    assert.equal(l.guests[0]!.boot.kernel, '/default/linux');
  });

  it('refuses mistakes in one line naming the file and the guest', () => {
    const cases: [string, RegExp][] = [
      ['guests: []', /give a 'guests:' map/],
      ['guests:\n  a: {nett: 1}', /guest a: unknown key 'nett'/],
      ['guests:\n  a: {net: [lan=x, ip=1]}', /guest a: --net ip=1: unknown network/],
      ['lans: [x]\nguests:\n  a: {net: ["lan=y"]}', /guest a: LAN y is not in the file's lans/],
      ['guests:\n  a: {gdb: 1}\n  b: {gdb: 1}', /same gdb port/],
      ['guests:\n  a: {mem: 1K}', /--mem 1K: too small/],
      ['guests: {a: [1', /lab file .*: unexpected end/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => lab('bad.yaml', text),
        (e: unknown) =>
          e instanceof KwbError && e.exitCode === 2 && message.test(e.message) && !e.message.includes('\n'),
        text,
      );
    }
  });
});
