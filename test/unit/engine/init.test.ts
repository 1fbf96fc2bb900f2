import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { initConfig, shellQuote } from '../../../engine/rootfs/init.js';

describe("kwb's guest init config", () => {
  it('quotes every word so a real shell gets the exact argv back', () => {
    const words = ['plain', 'with space', "it's", '$HOME', '`x`', 'a"b', '', '*', 'new\nline', '--', '-c'];
    const script = `${initConfig({ shares: [], command: words })}printf '%s\\0' "$@"`;
    const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    assert.deepEqual(out.split('\0').slice(0, -1), words);
  });

  it('leaves simple words unquoted', () => {
    assert.equal(shellQuote('/usr/bin/uname'), '/usr/bin/uname');
    assert.equal(shellQuote('a b'), "'a b'");
  });

  it('writes shares and the working directory before the command', () => {
    const text = initConfig({ shares: [{ host: '/home/me/src', guest: '/src' }], cwd: '/src', command: ['make'] });
    assert.deepEqual(text.trim().split('\n').slice(1), ['share /home/me/src /src', 'cd /src || exit 1', 'set -- make']);
  });

  it('with no command leaves the argument list empty (the init then starts a shell)', () => {
    assert.match(initConfig({ shares: [] }), /^set --$/m);
  });
});
