// kwb build on a distcc farm: two real distccd daemons on loopback ports, started here, receive the compiles of a
// small UML kernel (tinyconfig + uml-tiny.config, out of tree from Debian's linux-source-6.1) built through a cold
// ccache; a third host in the list refuses connections and the build still succeeds, its share compiled here; -j
// comes from distcc; the kernel boots. Loopback daemons add no CPU: this checks the plumbing, not a speed-up
// (bench/build-farm.ts measures that, framed the same way).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOnPath } from '../../engine/which.js';
import { DISTCCD, DistccFarm, freePort } from '../helpers/distccd.js';
import { Sandbox } from '../helpers/kwb.js';

const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const FRAGMENT = join(__dirname, '..', 'fixtures', 'uml-tiny.config');
const needs = !existsSync(TARBALL)
  ? `needs ${TARBALL}`
  : !(findOnPath('distcc') && DISTCCD)
    ? 'needs distcc (scripts/setup.sh)'
    : false;

describe('kwb build --distcc', { timeout: 120 * 60 * 1000, skip: needs }, () => {
  const box = new Sandbox();
  const farm = new DistccFarm();
  const dir = mkdtempSync(join(tmpdir(), 'kwb-distcc-build-'));
  const out = join(dir, 'out');
  // a cold ccache, so that every compile is a miss that goes to distcc; distcc's own state kept here too
  const env = { KWB_CACHE: join(dir, 'kwb'), CCACHE_DIR: join(dir, 'ccache'), DISTCC_DIR: join(dir, 'distcc') };
  let source = '';
  let hosts = '';
  let refused = 0;
  before(async () => {
    source = execFileSync('bash', [join(__dirname, '..', 'fixtures', 'linux-source.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    mkdirSync(env.DISTCC_DIR);
    await farm.start(2);
    // listed first, so distcc tries it first: it refuses, and those files compile here
    refused = await freePort();
    hosts = `127.0.0.1:${refused}/2 ${farm.hosts(2)}`;
  });
  after(async () => {
    await farm.stop();
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends compiles to both daemons, survives a host that refuses, and the kernel boots', async () => {
    const r = await box.run(
      [
        'build',
        '--tree',
        source,
        `O=${out}`,
        '--base',
        'tinyconfig',
        '--config',
        FRAGMENT,
        '--distcc',
        hosts,
        '--stats',
      ],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    for (const daemon of farm.daemons) assert.match(daemon.read(), /COMPILE_OK/, `distccd on ${daemon.port}`);
    // -j from distcc: three hosts taking 2 each
    assert.match(r.stderr, /^distcc: 3 host\(s\) taking 6 compiles at once/m);
    const counts = /compiles: (.*?)(?: \(|$)/m.exec(r.stderr.split('\n').find((l) => l.startsWith('distcc:'))!)![1]!;
    for (const daemon of farm.daemons) assert.match(counts, new RegExp(`127\\.0\\.0\\.1:${daemon.port} [1-9]`));
    // distcc sent what the refused host did not take to the others (or compiled it here)
    assert.match(r.stderr, new RegExp(`; 127\\.0\\.0\\.1:${refused} failed [1-9]\\d* time`));
    assert.match(r.stderr, /ccache: \d+ hits, [1-9]\d* misses/);

    const boot = await box.run(['run', '--', 'uname', '-r'], { cwd: out, env });
    assert.equal(boot.code, 0, boot.stderr);
    assert.match(boot.stdout, /^6\.1\.\d+/m);
  });

  it('says what is wrong with a host list distcc cannot read, before building', async () => {
    const r = await box.run(['build', '--tree', source, `O=${join(dir, 'never')}`, '--distcc', 'host/x'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^kwb build: distcc hosts 'host\/x': bad multiplier/m);
    assert.ok(!existsSync(join(dir, 'never')));
  });
});
