// Confinement: a UML kernel opens host files for its guest (hostfs mounts, disks), as the user who runs kwb. UML's own
// `hostfs=DIR` prefix does not hold (`mount -t hostfs none /mnt -o ../..` walks out of it), so kwb runs the kernel in a
// fresh user, mount and pid namespace, chrooted into its session directory: everything the guest can reach on the host
// is in that directory (kwb's root, the shares bound into it, the disk image read-only) plus read-only views of the
// host's system directories that UML runs from. Under --gdb, gdbserver (which needs a /proc) runs in the namespaces
// but outside the chroot, with a /proc of the namespace's own processes: the kernel, chrooted, reaches neither that
// /proc nor anything else gdbserver sees. The pid namespace also ends every process of the guest at once when kwb
// dies, even by SIGKILL (setpriv's parent-death signal ends unshare, whose child, the namespace's first process, is
// then killed and takes the rest with it), gdbserver and a kernel stopped under it included.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A host file or directory placed at `at` (a path inside the session directory, no leading slash). */
export interface Bind {
  host: string;
  at: string;
  writable: boolean;
}

// Runs as root of the new namespaces: lay out the session dir $S, then run the command (which chroots into $S).
const SETUP = `set -e
S=$1; PROC=$2; shift 2
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
# gdbserver's /proc: the namespace's processes only (the host's stays underneath, in this mount namespace only)
if [ "$PROC" = proc ]; then mount -t proc proc /proc; fi
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

/** The command line that runs `command` (`chroot SESSION ...`, or gdbserver with that as its wrapper) in the
 *  namespaces, with `binds` placed in `session`; `ownProc`: with a /proc of the namespace (for gdbserver). */
export function confinedCommand(session: string, binds: Bind[], command: string[], ownProc = false): string[] {
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
    ownProc ? 'proc' : 'noproc',
    ...bindArgs,
    '--',
    ...command,
  ];
}

function readOr(path: string, read: (path: string) => string): string {
  try {
    return read(path);
  } catch {
    return '';
  }
}

/** The host pid of the process that the namespaces under `launcher` (the pid confinedCommand's argv runs as) call
 *  `nsPid` (gdbserver names its inferior by it), from the NSpid lines of /proc; undefined if there is none. */
export function hostPid(launcher: number, nsPid: number): number | undefined {
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const status = (pid: string) => readOr(`/proc/${pid}/status`, (p) => readFileSync(p, 'utf8'));
  const pidNamespace = (pid: string) => readOr(`/proc/${pid}/ns/pid`, readlinkSync);
  // unshare's only child is the namespace's first process
  const first = pids.find((pid) => new RegExp(`^PPid:\\s+${launcher}$`, 'm').test(status(pid)));
  const namespace = first && pidNamespace(first);
  if (!namespace) return undefined;
  const found = pids.find(
    (pid) => pidNamespace(pid) === namespace && /^NSpid:.*\s(\d+)$/m.exec(status(pid))?.[1] === String(nsPid),
  );
  return found === undefined ? undefined : Number(found);
}
