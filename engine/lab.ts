// A lab: several guests, their kernels, LANs, addresses, commands and gdb ports, from one YAML or JSON file (read with
// js-yaml; JSON is YAML). Each guest becomes the BootOptions `kwb boot` would build from its options.
//
//   kernel: ./linux                  # default for every guest (relative to the file)
//   lans: [left, right]              # optional: when given, guests may only name these
//   guests:
//     a:      { net: [lan=left,ip=10.1.0.1/24], command: "ping -c 3 10.2.0.2", gdb: 1234 }
//     router: { net: [lan=left,ip=10.1.0.254/24, {lan: right, ip: 10.2.0.254/24}] }
//     b:      { kernel: ../other/linux, mem: 128M, net: [lan=right,ip=10.2.0.2/24] }
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { load } from 'js-yaml';
import type { BootOptions } from './guest.js';
import { parseNet, type NetSpec } from './net.js';
import { parseMem } from './options.js';
import { KwbError } from './results.js';

export interface LabGuest {
  name: string;
  /** What `kwb boot` would get; `console: 'pipe'`. */
  boot: BootOptions;
  gdbPort?: number;
}

export interface Lab {
  name: string;
  file: string;
  guests: LabGuest[];
}

const GUEST_KEYS = ['kernel', 'mem', 'net', 'command', 'gdb', 'append'] as const;
const LAB_KEYS = ['name', 'kernel', 'mem', 'lans', 'guests'] as const;

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(fields: Fields, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) throw new KwbError(`${where}: unknown key '${key}' (use ${allowed.join(', ')})`);
  }
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new KwbError(`${where}: give a string`);
  return String(value);
}

function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A `net` item: the --net syntax, or {lan, ip, mac} / {user: true, hostfwd: [...]} spelled as fields. */
function netItem(item: unknown, where: string): NetSpec {
  if (!isFields(item)) return parseNet(text(item, where));
  if (item.user !== undefined) {
    checkKeys(item, ['user', 'hostfwd'], where);
    return parseNet(['user', ...list(item.hostfwd).map((f) => `hostfwd=${text(f, where)}`)].join(','));
  }
  checkKeys(item, ['lan', 'ip', 'mac'], where);
  const parts = [`lan=${text(item.lan, `${where}: lan`)}`];
  for (const key of ['ip', 'mac'] as const) if (item[key] !== undefined) parts.push(`${key}=${text(item[key], where)}`);
  return parseNet(parts.join(','));
}

function gdbPort(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new KwbError(`${where}: gdb: give a port, 1-65535`);
  return port;
}

/** Read and check a lab file; every error is one line naming the file and the guest. */
export function readLab(file: string, fallbackKernel: () => string): Lab {
  const path = resolve(file);
  let doc: unknown;
  try {
    doc = load(readFileSync(path, 'utf8'), { filename: path });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KwbError(
      `lab file ${file}: ${code ? `cannot read it (${code})` : (err as Error).message.split('\n')[0]}`,
    );
  }
  if (!isFields(doc) || !isFields(doc.guests) || !Object.keys(doc.guests).length) {
    throw new KwbError(`lab file ${file}: give a 'guests:' map of guest names to their settings`);
  }
  checkKeys(doc, LAB_KEYS, `lab file ${file}`);
  const here = dirname(path);
  const lans = doc.lans === undefined ? undefined : list(doc.lans).map((l) => text(l, `${file}: lans`));
  const guests = Object.entries(doc.guests).map(([name, value]): LabGuest => {
    const where = `lab file ${file}: guest ${name}`;
    if (!/^[A-Za-z0-9][\w.-]{0,31}$/.test(name))
      throw new KwbError(`${where}: a name of letters, digits, '.', '_', '-'`);
    const g = value ?? {};
    if (!isFields(g)) throw new KwbError(`${where}: give its settings as a map`);
    checkKeys(g, GUEST_KEYS, where);
    const kernel = g.kernel ?? doc.kernel;
    const mem = g.mem ?? doc.mem;
    if (mem !== undefined) parseMem(text(mem, where).toUpperCase());
    const net = list(g.net).map((item) => {
      try {
        return netItem(item, where);
      } catch (err) {
        throw err instanceof KwbError && !err.message.startsWith(where)
          ? new KwbError(`${where}: ${err.message}`)
          : err;
      }
    });
    for (const n of net) {
      if (n.kind === 'lan' && lans && !lans.includes(n.name)) {
        throw new KwbError(`${where}: LAN ${n.name} is not in the file's lans (${lans.join(', ')})`);
      }
    }
    const command = g.command === undefined ? undefined : list(g.command).map((w) => text(w, `${where}: command`));
    const gdb = gdbPort(g.gdb, where);
    return {
      name,
      gdbPort: gdb,
      boot: {
        kernel: kernel === undefined ? fallbackKernel() : resolve(here, text(kernel, where)),
        mem: mem === undefined ? undefined : text(mem, where).toUpperCase(),
        net,
        append: list(g.append).flatMap((a) => text(a, where).split(/\s+/).filter(Boolean)),
        // a string is a shell command line; a list is the argv
        command: command && (typeof g.command === 'string' ? ['sh', '-c', command[0]!] : command),
        console: 'pipe',
        debug: gdb === undefined ? undefined : { wait: false },
      },
    };
  });
  const ports = guests.flatMap((g) => (g.gdbPort ? [g.gdbPort] : []));
  if (new Set(ports).size !== ports.length) throw new KwbError(`lab file ${file}: two guests have the same gdb port`);
  const name = doc.name === undefined ? basename(path, extname(path)) : text(doc.name, `lab file ${file}: name`);
  return { name, file: path, guests };
}
