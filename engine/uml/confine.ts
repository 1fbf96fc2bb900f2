// Confinement: a UML kernel opens host files for its guest (hostfs mounts, disks), as the user who runs kwb. UML's own
// `hostfs=DIR` prefix does not hold (`mount -t hostfs none /mnt -o ../..` walks out of it), so kwb runs the kernel in a
// fresh user, mount and pid namespace, chrooted into its session directory: everything the guest can reach on the host
// is in that directory (kwb's root, the shares bound into it, the disk image read-only) plus read-only views of the
// host's system directories that UML and gdbserver run from. The pid namespace also ends every process of the guest
// at once when kwb dies, even by SIGKILL (setpriv's parent-death signal ends unshare, whose child, the namespace's
// first process, is then killed and takes the rest with it).
import { spawnSync } from 'node:child_process';

/** A host file or directory placed at `at` (a path inside the session directory, no leading slash). */
export interface Bind {
  host: string;
  at: string;
  writable: boolean;
}

// Runs as root of the new namespaces: lay out the session dir $S, then run the command (which chroots into $S).
const SETUP = `set -e
S=$1; shift
ro() { mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"; }
place() { if [ -d "$1" ]; then mkdir -p "$2"; else mkdir -p "$(dirname "$2")" && : > "$2"; fi; }
# the host's system directories, read-only, for the dynamic loader, libc, gdbserver (merged-/usr links as links)
for d in usr bin sbin lib lib32 lib64 libx32; do
  if [ -L /$d ]; then ln -s "$(readlink /$d)" "$S/$d"
  elif [ -d /$d ]; then mkdir "$S/$d" && ro /$d "$S/$d"; fi
done
# UML's memory file: in RAM whatever file system the session dir is on
mkdir -p "$S/dev/shm" && mount -t tmpfs tmpfs "$S/dev/shm"
for n in null zero random urandom; do : > "$S/dev/$n" && mount --bind /dev/$n "$S/dev/$n"; done
while [ "$1" != -- ]; do
  place "$2" "$S/$3"
  if [ "$1" = rw ]; then mount --bind "$2" "$S/$3"; else ro "$2" "$S/$3"; fi
  shift 3
done
shift
ulimit -c 0   # a panicking UML would dump core
# not exec: the namespace's first process ignores signals it sends itself (UML's abort() on a panic), so UML must
# not be it; this shell waits and exits with its status (128+N: killed by signal N)
"$@"
`;

let refusal: string | null | undefined;

/** Why this host does not let kwb create the namespaces (Ubuntu's AppArmor policy, a sysctl), or null if it does. */
export function namespacesRefused(): string | null {
  if (refusal === undefined) {
    const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', '--pid', '--fork', 'true'], {
      encoding: 'utf8',
    });
    refusal = r.status === 0 ? null : (r.stderr || r.error?.message || 'unshare failed').trim().split('\n')[0]!;
  }
  return refusal;
}

/** The one-line warning for a guest kwb cannot confine here. */
export function unconfinedWarning(why: string): string {
  return `warning: this host refuses unprivileged user namespaces (${why}), so the guest is confined only by UML's hostfs= prefix, which it can walk out of; allow them (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0) to confine it`;
}

/** The command line that runs `command` (`chroot SESSION ...`) in the namespaces, with `binds` placed in `session`. */
export function confinedCommand(session: string, binds: Bind[], command: string[]): string[] {
  const bindArgs = binds.flatMap((b) => [b.writable ? 'rw' : 'ro', b.host, b.at]);
  return [
    'setpriv',
    '--pdeathsig',
    'KILL',
    '--',
    'unshare',
    '--user',
    '--map-root-user',
    '--mount',
    '--pid',
    '--kill-child=KILL',
    '--',
    '/bin/sh',
    '-c',
    SETUP,
    'kwb-uml',
    session,
    ...bindArgs,
    '--',
    ...command,
  ];
}
