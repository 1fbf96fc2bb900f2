// Loaded modules, from the kernel's `modules` list in guest memory: name, state and, from each module's sect_attrs
// (what /sys/module/NAME/sections shows), where the kernel placed its sections.
import type { Offsets } from './offsets.js';
import type { ReadMemory } from './tasks.js';

export const MODULES_REQUIRED = ['modules', 'module.list', 'module.name', 'module.name.size'];
/** What section addresses need besides MODULES_REQUIRED (CONFIG_KALLSYMS and SYSFS keep sect_attrs). */
export const SECTIONS_REQUIRED = [
  'module.state',
  'module.sect_attrs',
  'sect_attrs.nsections',
  'sect_attrs.attrs',
  'sect_attr.size',
  'sect_attr.address',
  'sect_attr.name',
];

export interface Module {
  name: string;
  /** The struct module's address. */
  addr: bigint;
  /** Size of the core (text + data) when the debug info tells where it is kept. */
  size?: number;
  /** enum module_state: live, coming, going or unformed (sections are not all placed yet). */
  state?: number;
  /** Section name -> address, when the kernel keeps them (empty while a module is being formed). */
  sections: Map<string, bigint>;
}

const MAX_MODULES = 4096;
/** A module has a few dozen sections; a larger count is not a module's. */
const MAX_SECTIONS = 1024;
const NAME_MAX = 128;

const u64 = (b: Uint8Array, off: number) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64LE(off);

async function readString(read: ReadMemory, addr: bigint): Promise<string> {
  // a name near the end of a mapping: a shorter read still gets it
  for (const len of [NAME_MAX, 32]) {
    try {
      const bytes = Buffer.from(await read(addr, len));
      const nul = bytes.indexOf(0);
      return bytes.toString('latin1', 0, nul < 0 ? len : nul);
    } catch {
      // try the shorter read
    }
  }
  throw new Error(`cannot read a section name at 0x${addr.toString(16)}`);
}

async function readSections(o: Offsets, read: ReadMemory, mod: bigint): Promise<Map<string, bigint>> {
  const sections = new Map<string, bigint>();
  const attrs = u64(await read(mod + o.get('module.sect_attrs'), 8), 0);
  if (attrs === 0n) return sections;
  const count = Buffer.from(await read(attrs + o.get('sect_attrs.nsections'), 4)).readUInt32LE(0);
  if (count > MAX_SECTIONS) return sections;
  const stride = o.n('sect_attr.size');
  const table = await read(attrs + o.get('sect_attrs.attrs'), count * stride);
  for (let i = 0; i < count; i++) {
    const name = await readString(read, u64(table, i * stride + o.n('sect_attr.name')));
    sections.set(name, u64(table, i * stride + o.n('sect_attr.address')));
  }
  return sections;
}

export async function readModules(o: Offsets, read: ReadMemory): Promise<Module[]> {
  const head = o.get('modules');
  const listOff = o.n('module.list');
  const nameOff = o.n('module.name');
  const nameSize = o.n('module.name.size');
  const sizeOff = o.has('module.core_size') ? o.n('module.core_size') : undefined;
  const stateOff = o.has('module.state') ? o.n('module.state') : undefined;
  const withSections = SECTIONS_REQUIRED.every((k) => o.has(k));
  const end = Math.max(listOff + 8, nameOff + nameSize, (sizeOff ?? 0) + 4, (stateOff ?? 0) + 4);
  const out: Module[] = [];
  let next = u64(await read(head, 8), 0);
  while (next !== head && out.length < MAX_MODULES) {
    const mod = next - BigInt(listOff);
    const bytes = Buffer.from(await read(mod, end));
    const name = bytes.subarray(nameOff, nameOff + nameSize);
    const nul = name.indexOf(0);
    const state = stateOff !== undefined ? bytes.readUInt32LE(stateOff) : undefined;
    const unformed = o.has('MODULE_STATE_UNFORMED') && state === o.n('MODULE_STATE_UNFORMED');
    out.push({
      name: name.subarray(0, nul < 0 ? nameSize : nul).toString('utf8'),
      addr: mod,
      ...(sizeOff !== undefined ? { size: bytes.readUInt32LE(sizeOff) } : {}),
      ...(state !== undefined ? { state } : {}),
      sections: withSections && !unformed ? await readSections(o, read, mod) : new Map(),
    });
    next = bytes.readBigUInt64LE(listOff);
  }
  return out;
}

/** The modules a debugger should have symbols for: placed, and not on their way out. */
export function loadedModules(o: Offsets, modules: Module[]): Module[] {
  const gone = ['MODULE_STATE_GOING', 'MODULE_STATE_UNFORMED'].filter((k) => o.has(k)).map((k) => o.n(k));
  return modules.filter((m) => m.sections.size > 0 && !(m.state !== undefined && gone.includes(m.state)));
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

export function formatModules(modules: Module[]): string {
  if (modules.length === 0) return 'no modules loaded\n';
  return (
    'Module                   Size  Address             .text               .data\n' +
    modules
      .map((m) => {
        const at = (s: string) => (m.sections.has(s) ? hex(m.sections.get(s)!) : '-').padEnd(19);
        return (
          `${m.name.padEnd(24)} ${String(m.size ?? '?').padStart(5)}  ${hex(m.addr).padEnd(19)} ${at('.text')} ${at('.data')}`.trimEnd() +
          '\n'
        );
      })
      .join('')
  );
}
