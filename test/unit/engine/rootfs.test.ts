// kwb rootfs: the pieces around mmdebstrap that decide what is built from what (the mirror, the cache key, the
// package list), and how its output is read. Building a real root is test/integration/debian-root.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { debianRootDir, debianSpec, failureReason, stageOf, unknownPackages } from '../../../engine/rootfs/debian.js';
import { DEFAULT_MIRROR, hostMirror, parseSources } from '../../../engine/rootfs/mirror.js';

function etcWith(files: Record<string, string>): string {
  const etc = mkdtempSync(join(tmpdir(), 'kwb-etc-'));
  mkdirSync(join(etc, 'apt', 'sources.list.d'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
  return etc;
}

const DEBIAN = 'ID=debian\nVERSION_CODENAME=bookworm\n';

describe('rootfs: the host mirror', () => {
  it('takes the deb822 entry of the host release, not security or a third-party repository', () => {
    const etc = etcWith({
      'os-release': DEBIAN,
      'apt/sources.list.d/google.list': 'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n',
      'apt/sources.list.d/debian.sources':
        'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n' +
        'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n',
    });
    assert.equal(hostMirror(etc), 'http://mirror.example/debian');
    rmSync(etc, { recursive: true });
  });

  it('reads one-line entries with options, and falls back to the CDN elsewhere', () => {
    assert.deepEqual(parseSources('# c\ndeb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main\n', false), [
      { types: ['deb'], uris: ['http://m/debian'], suites: ['bookworm'] },
    ]);
    const etc = etcWith({ 'os-release': DEBIAN, 'apt/sources.list': 'deb-src http://m/debian bookworm main\n' });
    assert.equal(hostMirror(etc), DEFAULT_MIRROR);
    const ubuntu = etcWith({ 'os-release': 'ID=ubuntu\nVERSION_CODENAME=noble\n' });
    assert.equal(hostMirror(ubuntu), DEFAULT_MIRROR);
    rmSync(etc, { recursive: true });
    rmSync(ubuntu, { recursive: true });
  });
});

describe('rootfs: specs and mmdebstrap output', () => {
  it('keys a root by suite and package set, not by the order or repeats of the list', () => {
    const a = debianRootDir(debianSpec('bookworm', ['make', 'bash', 'make']));
    assert.equal(a, debianRootDir(debianSpec('bookworm', ['bash', 'make'])));
    assert.notEqual(a, debianRootDir(debianSpec('trixie', ['bash', 'make'])));
    assert.notEqual(a, debianRootDir(debianSpec('bookworm', ['bash'])));
  });

  it('refuses names that are not Debian package or suite names, before building anything', () => {
    assert.throws(() => debianSpec('bookworm', ['bash;rm']), /not a Debian package name/);
    assert.throws(() => debianSpec('../x', []), /suite/);
  });

  it('says why mmdebstrap failed in one line, and reads its stages', () => {
    const stderr =
      'I: running apt-get update...\nE: Unable to locate package nosuchpkg-kwb\n' +
      'E: apt-get --yes install bash nosuchpkg-kwb failed\nI: removing tempdir /tmp/mmdebstrap.x...\n';
    assert.equal(failureReason(stderr), 'Unable to locate package nosuchpkg-kwb');
    assert.equal(stageOf('I: downloading packages with apt...'), 'downloading packages with apt');
    assert.equal(stageOf('I: chroot architecture amd64 is equal to the host'), undefined);
  });

  it("finds an unknown package in the host's own package lists at once", () => {
    // the host's apt knows bash (kwb's setup ran apt-get); another suite cannot be checked here
    assert.deepEqual(unknownPackages(debianSpec('bookworm', ['bash', 'nosuchpkg-kwb']), 'bookworm'), ['nosuchpkg-kwb']);
    assert.deepEqual(unknownPackages(debianSpec('trixie', ['nosuchpkg-kwb']), 'bookworm'), []);
  });
});
