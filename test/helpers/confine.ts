// What tests of UML confinement share: a host file the guest must not reach, a guest command that tries to reach it
// through hostfs (plainly, at /, and walking out with `..`), and a busybox root for roots of the user's own.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SECRET = 'host secret';

/** A host directory holding secret.txt, outside any sandbox; removed by the returned function. */
export function hostSecret(): { dir: string; remove: () => void } {
  const top = mkdtempSync(join(tmpdir(), 'kwb-secret-'));
  const dir = join(top, 'host-secret');
  mkdirSync(dir);
  writeFileSync(join(dir, 'secret.txt'), `${SECRET}\n`);
  return { dir, remove: () => rmSync(top, { recursive: true, force: true }) };
}

/** The shell line a guest runs to reach `secretDir` through hostfs, to write into the host's /usr, and to list the
 *  host root it got (/m2). */
export function hostfsEscape(secretDir: string): string {
  return (
    `mkdir -p /m1 /m2 /m3; mount -t hostfs none /m1 -o ${secretDir}; mount -t hostfs none /m2 -o /; ` +
    `mount -t hostfs none /m3 -o ../../../../../../..${secretDir}; ` +
    'cat /m1/secret.txt /m3/secret.txt /m2/secret.txt 2>/dev/null; echo x > /m2/usr/kwb-was-here; ls /m2'
  );
}

/** A root directory with busybox and the applets kwb's init and these tests use. */
export function busyboxRoot(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'mount', 'mkdir', 'cat', 'ls', 'echo']) symlinkSync('busybox', join(root, 'bin', applet));
  for (const dir of ['proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, dir));
}
