// The g-packet layout of a target, taken from its target description (target.xml and the files it includes): where
// the relay finds the registers it expedites in stop replies, and where the kernel-aware layer puts the registers a
// task saved in guest memory.
import { XREG_NAMES } from './arch/riscv64.js';

export interface RegisterSlot {
  name: string;
  /** gdb's register number (p/P packets). */
  regno: number;
  /** Byte offset in the g packet. */
  offset: number;
  size: number;
}

export interface RegisterLayout {
  slots: RegisterSlot[];
  /** Size of the whole g packet. */
  size: number;
  byName(name: string): RegisterSlot | undefined;
  byRegno(regno: number): RegisterSlot | undefined;
}

// When a server describes only the architecture (gdbserver does unless the client asks for xmlRegisters), gdb lays
// the g packet out by that architecture's built-in numbering; these are the leading core registers of it.
const reg = (name: string, bits = 64) => `<reg name="${name}" bitsize="${bits}"/>`;
const BUILT_IN: Record<string, string> = {
  'i386:x86-64':
    [
      'rax',
      'rbx',
      'rcx',
      'rdx',
      'rsi',
      'rdi',
      'rbp',
      'rsp',
      'r8',
      'r9',
      'r10',
      'r11',
      'r12',
      'r13',
      'r14',
      'r15',
      'rip',
    ]
      .map((r) => reg(r))
      .join('') + ['eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((r) => reg(r, 32)).join(''),
  'riscv:rv64': [...XREG_NAMES, 'pc'].map((r) => reg(r)).join(''),
};

/** Walk the description in document order (includes expanded where they stand) and lay the registers out as gdb
 *  does: one after the other, regnum attributes moving the position forward. */
export function registerLayout(targetXml: (annex: string) => string | undefined): RegisterLayout | undefined {
  const regs: { name: string; bits: number; regnum?: number }[] = [];
  const visit = (annex: string, depth: number): void => {
    const xml = targetXml(annex);
    if (xml === undefined || depth > 8) return;
    for (const m of xml.matchAll(/<xi:include\s+href="([^"]+)"\s*\/?>|<reg\s([^>]*)>/g)) {
      if (m[1]) {
        visit(m[1], depth + 1);
        continue;
      }
      const attrs = m[2]!;
      const attr = (key: string) => new RegExp(`\\b${key}="([^"]*)"`).exec(attrs)?.[1];
      const name = attr('name');
      const bits = Number(attr('bitsize'));
      if (!name || !Number.isFinite(bits)) continue;
      const regnum = attr('regnum');
      regs.push({ name, bits, ...(regnum !== undefined ? { regnum: Number(regnum) } : {}) });
    }
  };
  visit('target.xml', 0);
  if (regs.length === 0) {
    const arch = /<architecture>([^<]*)<\/architecture>/.exec(targetXml('target.xml') ?? '')?.[1];
    const builtIn = arch !== undefined ? BUILT_IN[arch] : undefined;
    if (builtIn === undefined) return undefined;
    return registerLayout((annex) => (annex === 'target.xml' ? builtIn : undefined));
  }
  // as gdb numbers them: in order, a regnum attribute setting the number of that register and those after it;
  // gaps leave no bytes in the g packet, only the order matters for offsets
  let next = 0;
  const ordered = regs
    .map((r) => {
      const n = r.regnum ?? next;
      next = n + 1;
      return { ...r, n };
    })
    .sort((a, b) => a.n - b.n);
  const slots: RegisterSlot[] = [];
  let offset = 0;
  for (const r of ordered) {
    const size = Math.ceil(r.bits / 8);
    slots.push({ name: r.name, regno: r.n, offset, size });
    offset += size;
  }
  const names = new Map(slots.map((s) => [s.name, s]));
  const numbers = new Map(slots.map((s) => [s.regno, s]));
  return { slots, size: offset, byName: (name) => names.get(name), byRegno: (regno) => numbers.get(regno) };
}
