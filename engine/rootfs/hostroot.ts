// The default root filesystem for UML: a directory on the host (mounted as hostfs root, which works on a plain
// `make ARCH=um defconfig` kernel with no initrd support) holding Debian's static busybox and kwb's init.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir } from '../cache.js';
import { KwbError, ExitCode } from '../results.js';
import { INIT_SCRIPT, initConfig, type InitConfig } from './init.js';

/** The guest shell's profile. kwb's init is a script that waits for the shell, not a daemon listening for the
 *  signals busybox's halt/poweroff/reboot send to PID 1; these end the guest at once instead. */
const PROFILE = `poweroff() { sync; command poweroff -f; }
halt() { poweroff; }
reboot() { poweroff; }
`;

export const BUSYBOX = process.env.KWB_BUSYBOX || '/bin/busybox';

/** The applets of the host's busybox; asked once per busybox build and remembered in kwb's cache. */
function busyboxApplets(): string[] {
  let stat;
  try {
    stat = statSync(BUSYBOX);
  } catch {
    throw new KwbError(
      `${BUSYBOX} is missing: kwb's default root needs Debian's busybox-static (sudo apt-get install busybox-static)`,
      ExitCode.couldNotTest,
    );
  }
  const cached = cacheDir('busybox', `applets-${stat.size}-${Math.round(stat.mtimeMs)}`);
  try {
    return readFileSync(cached, 'utf8').split('\n').filter(Boolean);
  } catch {
    // first use of this busybox
  }
  const r = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new KwbError(`${BUSYBOX} --list failed; reinstall busybox-static`, ExitCode.couldNotTest);
  const applets = r.stdout.split('\n').filter((name) => /^[\w.[-]+$/.test(name));
  mkdirSync(dirname(cached), { recursive: true });
  writeFileSync(`${cached}.${process.pid}`, applets.join('\n'));
  renameSync(`${cached}.${process.pid}`, cached);
  return applets;
}

function placeBusybox(dest: string): void {
  try {
    linkSync(BUSYBOX, dest); // same file system: no copy
  } catch {
    copyFileSync(BUSYBOX, dest);
  }
}

/** Write kwb's init, its config and a busybox into `kwbDir` (the directory the guest sees as $KWB). */
export function writeKwbDir(kwbDir: string, config: InitConfig): void {
  mkdirSync(join(kwbDir, 'bin'), { recursive: true });
  placeBusybox(join(kwbDir, 'bin', 'busybox'));
  for (const applet of ['sh', 'mount', 'mkdir', 'mknod', 'stty', 'poweroff', 'setsid', 'cttyhack', 'sync']) {
    symlinkSync('busybox', join(kwbDir, 'bin', applet));
  }
  writeFileSync(join(kwbDir, 'init'), INIT_SCRIPT.replace('#!/bin/sh', '#!/kwb/bin/sh'));
  chmodSync(join(kwbDir, 'init'), 0o755);
  writeFileSync(join(kwbDir, 'config'), initConfig(config));
}

/** Build the default root in `root`: /bin with busybox and its applets, the usual mount points, /kwb. */
export function buildHostRoot(root: string, config: InitConfig): void {
  for (const dir of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'mnt', 'usr/bin', 'usr/sbin']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  placeBusybox(join(root, 'bin', 'busybox'));
  for (const applet of busyboxApplets()) {
    if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
  }
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc', 'profile'), PROFILE);
  writeKwbDir(join(root, 'kwb'), config);
}
