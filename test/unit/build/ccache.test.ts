// ccache through kwb's compiler links, with real ccache and gcc: the second identical compile is a hit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findCcache, hitRate, readCcacheStats, statsSince } from '../../../engine/build/ccache.js';
import { makeEnv } from '../../../engine/build/env.js';
import { findOnPath } from '../../../engine/which.js';

describe('ccache for builds', { skip: !findOnPath('ccache') && 'needs ccache (scripts/setup.sh)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-ccache-'));
  process.env.KWB_CACHE = join(dir, 'kwb'); // the compiler links are made in kwb's cache
  const env = { ...process.env, CCACHE_DIR: join(dir, 'ccache') };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is off when asked, by flag or KWB_CCACHE=0', () => {
    assert.equal(findCcache(false, ['gcc'], env), undefined);
    assert.equal(findCcache(true, ['gcc'], { ...env, KWB_CCACHE: '0' }), undefined);
  });

  it('compiles through a gcc link to ccache, and the second compile of the same file hits', async () => {
    const ccache = findCcache(true, ['gcc'], env);
    assert.ok(ccache);
    assert.equal(readlinkSync(join(ccache.linkDir, 'gcc')), ccache.binary);
    const src = join(dir, 'a.c');
    writeFileSync(src, 'int answer(void) { return 42; }\n');
    writeFileSync(join(dir, 'Makefile'), '# the tree whose date stamps the build\n');
    utimesSync(join(dir, 'Makefile'), 1e9, 1e9);
    const buildEnv = makeEnv(dir, ccache, undefined, env);
    assert.equal(buildEnv.KBUILD_BUILD_TIMESTAMP, 'Sun, 09 Sep 2001 01:46:40 GMT');
    assert.equal(buildEnv.KBUILD_BUILD_USER, 'kwb');
    const compile = () => execFileSync('gcc', ['-c', src, '-o', join(dir, 'a.o')], { env: buildEnv, cwd: dir });
    const start = (await readCcacheStats(ccache, buildEnv))!;
    compile();
    const first = statsSince(start, (await readCcacheStats(ccache, buildEnv))!);
    assert.deepEqual(first, { hits: 0, misses: 1 });
    compile();
    const both = statsSince(start, (await readCcacheStats(ccache, buildEnv))!);
    assert.deepEqual(both, { hits: 1, misses: 1 });
    assert.equal(hitRate(both), 0.5);
  });
});
