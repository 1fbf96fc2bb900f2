// distcc for builds, with a real distccd on a loopback port, real distcc, ccache and gcc (and the RISC-V cross gcc
// when installed): compiles reach the daemon through ccache's prefix and through distcc's own compiler links, a host
// that refuses connections makes distcc compile here, and the client log says where each compile ran.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findCcache } from '../../../engine/build/ccache.js';
import { checkDistccHost, distccFarm, distccHostsFrom, DistccLog, useDistcc } from '../../../engine/build/distcc.js';
import { makeEnv } from '../../../engine/build/env.js';
import { toolchain } from '../../../engine/build/toolchain.js';
import { KwbError } from '../../../engine/results.js';
import { findOnPath } from '../../../engine/which.js';
import { DISTCCD, DistccFarm, freePort } from '../../helpers/distccd.js';

const RISCV_GCC = 'riscv64-linux-gnu-gcc';

describe('distcc for builds', { skip: !(findOnPath('distcc') && DISTCCD) && 'needs distcc (scripts/setup.sh)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-distcc-'));
  const farm = new DistccFarm();
  let refused = 0;
  const saved = { ...process.env };
  before(async () => {
    process.env.KWB_CACHE = join(dir, 'kwb'); // the compiler links are made in kwb's cache
    process.env.DISTCC_DIR = join(dir, 'distcc'); // distcc's locks and its memory of failed hosts
    mkdirSync(process.env.DISTCC_DIR);
    process.env.CCACHE_DIR = join(dir, 'ccache');
    writeFileSync(join(dir, 'Makefile'), '# the tree whose date stamps the build\n');
    writeFileSync(join(dir, 'a.c'), 'int answer(int x) { return x * 42; }\n');
    await farm.start(1);
    refused = await freePort();
  });
  after(async () => {
    await farm.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Compile a.c with `compiler` in a build's environment; the object's `file` description. */
  const compile = (env: NodeJS.ProcessEnv, compiler: string, object: string) => {
    execFileSync(compiler, ['-c', 'a.c', '-o', object], { env, cwd: dir, stdio: 'pipe' });
    return execFileSync('file', [join(dir, object)], { encoding: 'utf8' });
  };

  it('takes the host list from the option, else DISTCC_HOSTS; distcc itself checks it and sizes -j', () => {
    assert.equal(distccHostsFrom(' a/2 ', { DISTCC_HOSTS: 'b' }), 'a/2');
    assert.equal(distccHostsFrom(undefined, { DISTCC_HOSTS: 'b/3' }), 'b/3');
    assert.equal(distccHostsFrom(undefined, { DISTCC_HOSTS: '  ' }), undefined);
    const f = distccFarm(`127.0.0.1:${farm.daemons[0]!.port}/3 10.0.0.6:3633,lzo`);
    assert.equal(f.jobs, 7); // distcc's default limit for a host without one is 4
    assert.deepEqual(f.names, [`127.0.0.1:${farm.daemons[0]!.port}`, '10.0.0.6:3633']);
    assert.throws(
      () => distccFarm('host/x'),
      (e: Error) => e instanceof KwbError && /bad multiplier/.test(e.message),
    );
  });

  it('sends ccache misses to the host (CCACHE_PREFIX), with the compiler named as the build names it', () => {
    const f = distccFarm(farm.hosts());
    const compilers = ['gcc', RISCV_GCC];
    const ccache = findCcache(true, compilers);
    assert.ok(ccache, 'ccache is installed');
    const d = useDistcc(f, true, compilers, join(dir, 'client.log'));
    const log = new DistccLog(d);
    const env = makeEnv(dir, ccache, d);
    assert.equal(env.CCACHE_PREFIX, f.binary);
    assert.match(compile(env, 'gcc', 'x86.o'), /x86-64/);
    if (findOnPath(RISCV_GCC)) assert.match(compile(env, RISCV_GCC, 'rv.o'), /RISC-V/);
    const daemon = farm.daemons[0]!.read();
    assert.match(daemon, /COMPILE_OK .*gcc a\.c/);
    if (findOnPath(RISCV_GCC)) assert.match(daemon, new RegExp(`COMPILE_OK .*${RISCV_GCC} a\\.c`));
    log.read();
    const host = `127.0.0.1:${farm.daemons[0]!.port}`;
    assert.deepEqual(log.stats().compiles, { [host]: findOnPath(RISCV_GCC) ? 2 : 1 });
    assert.deepEqual(log.inUse(), {});
  });

  it('without ccache, goes through compiler links to distcc', () => {
    const d = useDistcc(distccFarm(farm.hosts()), false, ['gcc'], join(dir, 'client.log'));
    assert.ok(d.linkDir);
    const log = new DistccLog(d);
    const before = farm.daemons[0]!.read().split('COMPILE_OK').length;
    assert.match(compile(makeEnv(dir, undefined, d), 'gcc', 'plain.o'), /x86-64/);
    assert.equal(farm.daemons[0]!.read().split('COMPILE_OK').length, before + 1);
    log.read();
    assert.equal(log.stats().compiles[`127.0.0.1:${farm.daemons[0]!.port}`], 1);
  });

  it(
    'an ARCH=riscv toolchain sends the cross compiler by its name, through ccache or through the links',
    { skip: !findOnPath(RISCV_GCC) && 'needs gcc-riscv64-linux-gnu (scripts/setup.sh --riscv)' },
    () => {
      const port = farm.daemons[0]!.port;
      for (const ccache of [true, false]) {
        const tc = toolchain(dir, dir, 'riscv', { ccache, distcc: `127.0.0.1:${port}/3` });
        assert.equal(tc.cross, 'riscv64-linux-gnu-');
        assert.equal(tc.jobs, 3, '-j from the host list');
        assert.equal(!!tc.ccache, ccache);
        const log = new DistccLog(tc.distcc!);
        const compiles = () =>
          farm.daemons[0]!.read().match(new RegExp(`COMPILE_OK .*${RISCV_GCC} a\\.c`, 'g'))?.length ?? 0;
        const before = compiles();
        // a fresh source each time, so that ccache cannot answer from the first compile
        writeFileSync(join(dir, 'a.c'), `int answer(int x) { return x * ${ccache ? 43 : 44}; }\n`);
        assert.match(compile(tc.env, RISCV_GCC, `rv-${ccache}.o`), /RISC-V/);
        assert.equal(compiles(), before + 1, `compiled on the host (ccache ${ccache})`);
        log.read();
        assert.deepEqual(log.stats().compiles, { [`127.0.0.1:${port}`]: 1 });
      }
    },
  );

  it('compiles here when a host refuses connections, and says so', async () => {
    const f = distccFarm(`127.0.0.1:${refused}/2`);
    const d = useDistcc(f, false, ['gcc'], join(dir, 'client.log'));
    const log = new DistccLog(d);
    assert.match(compile(makeEnv(dir, undefined, d), 'gcc', 'local.o'), /x86-64/);
    log.read();
    assert.deepEqual(log.stats().compiles, { localhost: 1 });
    assert.deepEqual(log.stats().failures, { [`127.0.0.1:${refused}`]: 1 });
    assert.equal(log.stats().fallbacks, 1);
    assert.match(readFileSync(d.log, 'utf8'), /running locally instead/);
    // kwb doctor's check: the live host compiles, the refused one is named with distcc's complaint
    assert.equal(await checkDistccHost(f, `127.0.0.1:${farm.daemons[0]!.port}`, 'gcc'), undefined);
    assert.match((await checkDistccHost(f, `127.0.0.1:${refused}`, 'gcc')) ?? '', /connect.*refused/i);
  });
});
