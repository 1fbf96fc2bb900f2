import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { umlArgv, type UmlArgvOptions } from '../../../engine/uml/argv.js';

const base: UmlArgvOptions = {
  umid: 'kwb-1-1',
  umlDir: '/tmp/kwb-uml-x',
  mem: '256M',
  root: { kind: 'kwb', dir: '/tmp/kwb-uml-x/root' },
  kernelLog: 'quiet',
  consoleFds: [0, 1],
  append: ['loglevel=7'],
};

describe('UML command line', () => {
  it("boots kwb's root over hostfs via rootflags, with kwb's init and no ./root_fs lookup", () => {
    assert.deepEqual(umlArgv(base), [
      'mem=256M',
      'umid=kwb-1-1',
      'uml_dir=/tmp/kwb-uml-x',
      'root=/dev/root',
      'rootfstype=hostfs',
      'rootflags=/tmp/kwb-uml-x/root',
      'rw',
      'ubd0r=/dev/zero',
      'init=/kwb/init',
      'quiet',
      'con=null',
      'con0=fd:0,fd:1',
      'loglevel=7',
    ]);
  });

  it('puts a disk behind a COW file', () => {
    const argv = umlArgv({ ...base, root: { kind: 'disk', image: '/img/root.ext4', cow: '/tmp/k/disk.cow' } });
    assert.ok(argv.includes('ubd0=/tmp/k/disk.cow,/img/root.ext4'));
    assert.ok(argv.includes('root=/dev/ubda'));
  });

  it("runs kwb's init from a hostfs mount when the root is the user's, with init arguments last", () => {
    const argv = umlArgv({
      ...base,
      root: { kind: 'hostfs', dir: '/srv/root' },
      kwbDir: '/tmp/k/kwb',
      consoleFds: [3, 4],
    });
    const dashes = argv.indexOf('--');
    assert.ok(dashes > 0);
    assert.deepEqual(argv.slice(dashes + 1, dashes + 2), ['-c']);
    assert.match(
      argv[dashes + 2]!,
      /^"mkdir -p \/dev\/\.kwb && mount -t hostfs hostfs \/dev\/\.kwb -o \/tmp\/k\/kwb && KWB=\/dev\/\.kwb exec/,
    );
    assert.ok(argv.indexOf('init=/bin/sh') < dashes);
    assert.ok(argv.indexOf('con0=fd:3,fd:4') < dashes);
    assert.ok(argv.indexOf('loglevel=7') < dashes);
  });
});
