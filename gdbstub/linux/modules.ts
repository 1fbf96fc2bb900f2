// Loaded modules, from the kernel's `modules` list in guest memory.
import type { Offsets } from './offsets.js';
import type { ReadMemory } from './tasks.js';

export const MODULES_REQUIRED = ['modules', 'module.list', 'module.name', 'module.name.size'];

export interface Module {
  name: string;
  /** Size of the core (text + data) when the debug info tells where it is kept. */
  size?: number;
}

const MAX_MODULES = 4096;

export async function readModules(o: Offsets, read: ReadMemory): Promise<Module[]> {
  const head = o.get('modules');
  const listOff = o.n('module.list');
  const nameOff = o.n('module.name');
  const nameSize = o.n('module.name.size');
  const sizeOff = o.has('module.core_size') ? o.n('module.core_size') : undefined;
  const end = Math.max(listOff + 8, nameOff + nameSize, (sizeOff ?? 0) + 4);
  const out: Module[] = [];
  let next = Buffer.from(await read(head, 8)).readBigUInt64LE(0);
  while (next !== head && out.length < MAX_MODULES) {
    const mod = next - BigInt(listOff);
    const bytes = Buffer.from(await read(mod, end));
    const name = bytes.subarray(nameOff, nameOff + nameSize);
    const nul = name.indexOf(0);
    out.push({
      name: name.subarray(0, nul < 0 ? nameSize : nul).toString('utf8'),
      ...(sizeOff !== undefined ? { size: bytes.readUInt32LE(sizeOff) } : {}),
    });
    next = bytes.readBigUInt64LE(listOff);
  }
  return out;
}

export function formatModules(modules: Module[]): string {
  if (modules.length === 0) return 'no modules loaded\n';
  return (
    'Module                   Size\n' +
    modules.map((m) => `${m.name.padEnd(24)} ${String(m.size ?? '?').padStart(5)}\n`).join('')
  );
}
