// The UML kernel command line for a boot: memory, identity, root filesystem, console and kwb's init.
// Pure, so the rules are visible in one place and unit-tested.
import { kernelLogParams, type KernelLog } from '../guest.js';

export type UmlRoot =
  /** kwb's default root: a host directory it built (hostfs), with kwb's init at /kwb/init. */
  | { kind: 'kwb'; dir: string }
  /** The user's directory as hostfs root. */
  | { kind: 'hostfs'; dir: string }
  /** The user's disk image behind a copy-on-write overlay in kwb's temp dir. */
  | { kind: 'disk'; image: string; cow: string };

export interface UmlArgvOptions {
  umid: string;
  umlDir: string;
  mem: string;
  root: UmlRoot;
  /** Host directory holding kwb's init for a user root (mounted at /dev/.kwb in the guest); none: the root's own init. */
  kwbDir?: string;
  kernelLog: KernelLog;
  /** Console file descriptors in the UML process (input, output): the kernel's console, /dev/console. */
  consoleFds: [number, number];
  /** With a command: the lines kwb's init gives it, apart from the kernel console. io: tty1 (its stdin and
   *  stdout); stderr: tty2 (its input fd is never written). */
  commandFds?: { io: [number, number]; stderr: [number, number] };
  append: string[];
}

/** Where kwb's init directory appears in a guest whose root is not kwb's. devtmpfs is always writable. */
export const GUEST_KWB_DIR = '/dev/.kwb';

export function umlArgv(o: UmlArgvOptions): string[] {
  const params = [`mem=${o.mem}`, `umid=${o.umid}`, `uml_dir=${o.umlDir}`];
  // hostfs roots go through rootflags (hostfs= would re-root every later hostfs mount); ubd0r=/dev/null keeps UML
  // from opening a ./root_fs of its own accord (/dev/zero: /dev/null makes UML complain about a short COW header)
  const hostfsRoot = (dir: string) => [
    'root=/dev/root',
    'rootfstype=hostfs',
    `rootflags=${dir}`,
    'rw',
    'ubd0r=/dev/zero',
  ];
  let initArgs: string[] = [];
  switch (o.root.kind) {
    case 'kwb':
      params.push(...hostfsRoot(o.root.dir), 'init=/kwb/init');
      break;
    case 'hostfs':
      params.push(...hostfsRoot(o.root.dir));
      break;
    case 'disk':
      params.push(`ubd0=${o.root.cow},${o.root.image}`, 'root=/dev/ubda', 'rw');
      break;
  }
  if (o.root.kind !== 'kwb' && o.kwbDir) {
    // the user's root has no kwb init: a shell from that root mounts kwb's directory over hostfs and runs it
    const d = GUEST_KWB_DIR;
    params.push('init=/bin/sh');
    initArgs = [
      '-c',
      `"mkdir -p ${d} && mount -t hostfs hostfs ${d} -o ${o.kwbDir} && KWB=${d} exec ${d}/bin/sh ${d}/init"`,
    ];
  }
  // quiet also silences UML's own host-side start-up notes
  params.push(...kernelLogParams(o.kernelLog));
  const line = (n: number, [input, output]: [number, number]) => `con${n}=fd:${input},fd:${output}`;
  params.push('con=null', line(0, o.consoleFds));
  if (o.commandFds) params.push(line(1, o.commandFds.io), line(2, o.commandFds.stderr));
  params.push(...o.append);
  // everything after `--` is passed to init, so it comes last
  return initArgs.length ? [...params, '--', ...initArgs] : params;
}
