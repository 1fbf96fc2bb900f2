// kwb's guest init: a busybox shell script that mounts proc/sys/dev, mounts the host shares, runs the requested
// command (or an interactive shell), records its exit status and powers off. Its settings come from a generated
// `config` file beside it, so the script itself never changes.
import type { ShareSpec } from '../guest.js';
import type { NetSetup } from '../net.js';

/** Quote one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const INIT_SCRIPT = `#!/bin/sh
# kwb's guest init. $KWB is the directory holding this script, its config and busybox.
KWB=\${KWB:-/kwb}
# tell the host kwb's init runs: a root that could not get this far cannot test anything
: > "$KWB/started"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$KWB/bin HOME=/root TERM=\${TERM:-linux}
# every command is a fork+exec under the guest kernel: keep them few, use shell builtins where possible
mount -t proc proc /proc
mount -t sysfs sysfs /sys
[ -c /dev/null ] || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
[ -d /tmp ] && mount -t tmpfs tmpfs /tmp
echo kwb > /proc/sys/kernel/hostname
# debugfs and tracefs where the kernel has them (read with the shell: no process per check)
while read -r fs1 fs2; do
  case "\${fs2:-$fs1}" in
    debugfs) mount -t debugfs debugfs /sys/kernel/debug ;;
    tracefs) mount -t tracefs tracefs /sys/kernel/tracing ;;
  esac
done < /proc/filesystems
share() { mkdir -p "$2" && mount -t hostfs hostfs "$2" -o "$1" || echo "kwb: cannot mount host directory $1 at $2" >&2; }
# net DEVICE [ADDR/PREFIX [GATEWAY [DNS]]]: bring up a --net interface (busybox's ip: a user root may have none)
net() {
  ip="$KWB/bin/busybox ip"
  $ip link set lo up
  $ip link set "$1" up && { [ -z "$2" ] || $ip addr add "$2" dev "$1"; } &&
    { [ -z "$3" ] || $ip route add default via "$3"; } || echo "kwb: cannot configure $1" >&2
  [ -n "$4" ] || return 0
  # the resolver, without writing to the user's root: kwb's root has an empty file to mount over
  echo "nameserver $4" > "$KWB/resolv.conf"
  [ "$KWB" = /kwb ] && : >> /etc/resolv.conf
  mount --bind "$KWB/resolv.conf" /etc/resolv.conf 2>/dev/null || echo "kwb: no /etc/resolv.conf for DNS $4" >&2
}
. "$KWB/config"
# the first boot of a kernel: keep its kernel log, from which the host learns the delay-loop calibration (see lpj.ts)
[ -n "$learn_lpj" ] && "$KWB/bin/busybox" dmesg > "$KWB/kmsg"
if [ $# -gt 0 ]; then
  # the command's stdin and stdout are tty1 and its stderr tty2, host channels of their own: the kernel console
  # (this script's output) never mixes with them
  for n in 1 2; do [ -c /dev/tty$n ] || mknod /dev/tty$n c 4 $n; done
  # the command's output should reach the host as it wrote it: no CR added, no echo of forwarded input
  stty -echo -onlcr < /dev/tty1 2>/dev/null
  stty -onlcr < /dev/tty2 2>/dev/null
  # tell the host the command starts now (input sent earlier would be echoed or lost before the tty is set up)
  : > "$KWB/running"
  "$@" < /dev/tty1 > /dev/tty1 2> /dev/tty2
  status=$?
else
  echo "kwb: guest shell; 'poweroff' (or Ctrl-D) ends the guest"
  # in the foreground: a background job would start with SIGINT ignored, and Ctrl-C must reach the guest's commands
  setsid cttyhack sh -l
  status=0
fi
echo "$status" > "$KWB/status"
echo "$status" > /proc/exitcode 2>/dev/null
sync
exec poweroff -f
`;

export interface InitConfig {
  shares: ShareSpec[];
  /** The --net interfaces, brought up before the command runs. */
  net?: NetSetup[];
  cwd?: string;
  command?: string[];
  /** Dump the kernel log to $KWB/kmsg before running the command (the console hides it when quiet). */
  learnLpj?: boolean;
}

export function initConfig(config: InitConfig): string {
  const lines = ['# written by kwb for this boot'];
  for (const share of config.shares) lines.push(`share ${shellQuote(share.host)} ${shellQuote(share.guest)}`);
  for (const n of config.net ?? []) {
    const words = [n.device, n.address ?? '', n.gateway ?? '', n.dns ?? ''];
    while (words.at(-1) === '') words.pop();
    lines.push(`net ${words.map(shellQuote).join(' ')}`);
  }
  if (config.learnLpj) lines.push('learn_lpj=1');
  if (config.cwd) lines.push(`cd ${shellQuote(config.cwd)} || exit 1`);
  lines.push(config.command?.length ? `set -- ${config.command.map(shellQuote).join(' ')}` : 'set --');
  return lines.join('\n') + '\n';
}
