// The boot options, listed once: name, kind, range check, help, the engines that use them and whether a VS Code
// launch.json may set them. The CLI parser and `--help` of boot/run/test/bisect/watch, the launch.json schema in
// package.json (scripts/launch-schema.mjs) and the debug adapter's kwb command line are all derived from this table.
import { accessSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { EngineName, ShareSpec } from './guest.js';
import { KwbError } from './results.js';
import { parseNet } from './net.js';

export type BootOptionKind = 'flag' | 'string' | 'number' | 'list';

export interface BootOption {
  name: string;
  kind: BootOptionKind;
  /** What the value looks like in --help (not for flags). */
  value?: string;
  help: string;
  /** The engines that use it. */
  engines: readonly EngineName[];
  /** The only values allowed. */
  choices?: readonly string[];
  /** A launch.json property of the same name passes it to kwb (the others are set by the adapter or are CLI-only). */
  launch?: true;
  /** Range or form check: a one-line KwbError when the value is unusable. */
  check?: (text: string) => void;
}

const BOTH = ['uml', 'rv64'] as const;

export const BOOT_OPTIONS = [
  {
    name: 'kernel',
    kind: 'string',
    value: 'FILE',
    help: 'the kernel: ./linux (ARCH=um), a RISC-V Image or vmlinux (default: the build in the tree here)',
    engines: BOTH,
    launch: true,
  },
  {
    name: 'engine',
    kind: 'string',
    value: 'uml|rv64',
    choices: BOTH,
    help: 'override the engine chosen from the kernel file',
    engines: BOTH,
    launch: true,
  },
  {
    name: 'initrd',
    kind: 'string',
    value: 'FILE',
    help: 'initramfs (cpio) as the root filesystem',
    engines: ['rv64'],
    launch: true,
  },
  {
    name: 'rootfs',
    kind: 'string',
    value: 'DIR|debian',
    help: "a host directory as the root filesystem (hostfs), or debian: kwb's Debian root (kwb rootfs; built on first use)",
    engines: ['uml'],
    launch: true,
  },
  {
    name: 'disk',
    kind: 'string',
    value: 'IMG',
    help: 'a disk image as root, behind a copy-on-write overlay (never written)',
    engines: BOTH,
    launch: true,
  },
  {
    name: 'share',
    kind: 'list',
    value: 'HOST[:GUEST]',
    help: 'mount a host directory in the guest (default: same path)',
    engines: ['uml'],
    launch: true,
    check: (text) => void parseShare(text),
  },
  {
    name: 'net',
    kind: 'list',
    value: 'user[,hostfwd=tcp:[ADDR:]HPORT:GPORT]|lan=NAME[,ip=A/N][,mac=M]',
    help: 'a network interface (eth0, eth1, ... in order): NAT through libslirp (the host is 10.0.2.2), or the LAN NAME shared by the guests naming it',
    engines: ['uml'],
    launch: true,
    check: (text) => void parseNet(text),
  },
  {
    name: 'pcap',
    kind: 'string',
    value: 'FILE',
    help: "record every frame of the guest's interfaces in FILE (pcap, for tcpdump -r or Wireshark)",
    engines: ['uml'],
    launch: true,
    check: (text) => createOutput('pcap', text),
  },
  {
    name: 'mem',
    kind: 'string',
    value: 'SIZE',
    help: 'guest memory, e.g. 512M (default 256M; 16M up to the host RAM)',
    engines: BOTH,
    launch: true,
    check: (text) => void parseMem(text),
  },
  {
    name: 'record',
    kind: 'string',
    value: 'SIZE|off|FILE',
    help: 'with --gdb: memory for the recording gdb runs backwards through (default 1G), or off; without --gdb: save the run in FILE for kwb replay',
    engines: ['rv64'],
    launch: true,
    check: (text) => void parseRecord(text),
  },
  {
    name: 'bios',
    kind: 'string',
    value: 'FILE|none',
    help: 'firmware to run in M-mode (OpenSBI fw_dynamic.bin), or none for a bare-metal ELF',
    engines: ['rv64'],
    launch: true,
  },
  {
    name: 'append',
    kind: 'list',
    value: 'ARGS',
    help: 'extra kernel command line arguments',
    engines: BOTH,
    launch: true,
  },
  {
    name: 'gdb',
    kind: 'string',
    value: '[HOST:]PORT',
    help: 'serve gdb on this address (loopback unless HOST is given; port 0 picks one)',
    engines: BOTH,
  },
  {
    name: 'wait-gdb',
    kind: 'flag',
    help: 'hold the guest before the kernel runs until gdb connects and continues',
    engines: BOTH,
  },
  {
    name: 'timeout',
    kind: 'number',
    value: 'SEC',
    help: 'stop the guest after SEC seconds (result: timeout)',
    engines: BOTH,
    launch: true,
    check: (text) => void parseTimeout(text),
  },
  {
    name: 'log',
    kind: 'string',
    value: 'FILE',
    help: 'also write the console output to FILE',
    engines: BOTH,
    launch: true,
    check: (text) => createOutput('log', text),
  },
  {
    name: 'json',
    kind: 'flag',
    help: 'print the result and timings as JSON on stdout (console output goes to stderr)',
    engines: BOTH,
  },
  { name: 'quiet', kind: 'flag', help: 'no progress notes from kwb itself', engines: BOTH },
] as const satisfies readonly BootOption[];

export type BootOptionName = (typeof BOOT_OPTIONS)[number]['name'];

type LaunchValue<K extends BootOptionKind> = K extends 'number'
  ? number
  : K extends 'list'
    ? string | string[]
    : K extends 'flag'
      ? boolean
      : string;

/** The launch.json properties the table allows, typed. */
export type BootLaunchProperties = {
  [O in (typeof BOOT_OPTIONS)[number] as O extends { launch: true } ? O['name'] : never]?: LaunchValue<O['kind']>;
};

/** The boot options that launch.json may set. */
export const LAUNCH_OPTIONS: readonly BootOption[] = BOOT_OPTIONS.filter((o: BootOption) => o.launch);

/** The help line for an option: its text, and the engine when only one uses it. */
export function optionHelp(o: BootOption): string {
  return o.engines.length === 1 ? `${o.engines[0]}: ${o.help}` : o.help;
}

const UNITS: Record<string, number> = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 };
const MIN_MEM = 16 << 20;

/** `--mem`: a size with an optional K/M/G suffix, from 16M up to this host's RAM; returned as bytes. */
export function parseMem(text: string, hostBytes = totalmem()): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) throw new KwbError(`--mem ${text}: give a size like 256M or 1G`);
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (bytes < MIN_MEM) throw new KwbError(`--mem ${text}: too small; a kernel needs at least 16M`);
  if (bytes > hostBytes)
    throw new KwbError(`--mem ${text}: more than this host's ${Math.floor(hostBytes / (1 << 20))}M of RAM`);
  return bytes;
}

/** `--record`: the memory cap in bytes of the recording a debugged guest keeps, 'off', or a file to save the run in.
 *  Digits with an optional K/M/G are a size, anything else a file (a file named like a size: ./1G). */
export function parseRecord(text: string): number | 'off' | { file: string } {
  if (text === 'off') return 'off';
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) return { file: checkRecordFile(text) };
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (!(bytes >= 1 << 20)) throw new KwbError(`--record ${text}: give a size of 1M or more (like 512M or 2G), or off`);
  return bytes;
}

/** The file `--record FILE` will write at the end of the run, checked now (nothing is created before then). */
function checkRecordFile(path: string): string {
  const full = resolve(path);
  try {
    if (existsSync(full)) {
      if (!statSync(full).isFile()) throw new KwbError(`--record ${path}: not a file; name a file to save the run in`);
      accessSync(full, constants.W_OK);
    } else accessSync(dirname(full), constants.W_OK);
  } catch (err) {
    if (err instanceof KwbError) throw err;
    throw new KwbError(`--record ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return full;
}

/** `--timeout`: seconds, more than 0. */
export function parseTimeout(text: string): number {
  const sec = Number(text);
  if (!/^\s*[\d.]/.test(text) || !Number.isFinite(sec) || sec <= 0)
    throw new KwbError(`--timeout ${text}: give a number of seconds greater than 0`);
  return sec;
}

/** `--log FILE`, `--pcap FILE`: created (emptied) as it is read, so a path kwb cannot write is a usage error before
 *  anything boots. */
export function createOutput(option: string, path: string): void {
  try {
    closeSync(openSync(path, 'w'));
  } catch (err) {
    throw new KwbError(`--${option} ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** `--share HOST[:GUEST]`: the host directory (absolute) and where the guest sees it (the same path by default). */
export function parseShare(spec: string): ShareSpec {
  const colon = spec.indexOf(':');
  const host = resolve(colon < 0 ? spec : spec.slice(0, colon));
  const guest = colon < 0 ? host : spec.slice(colon + 1);
  if (!guest.startsWith('/')) throw new KwbError(`--share ${spec}: the guest path must be absolute`);
  return { host, guest };
}
