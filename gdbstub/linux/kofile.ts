// A module's .ko as gdb should read it: the file with each allocated section's address set to where the kernel
// placed that section (the module's sect_attrs), written once per load into kwb's cache. gdb (and lldb) then find
// every symbol, line and DWARF location at its real address with no per-section offsets to give: the library lists
// (svr4 and plain) name this copy and need no relocation of their own.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheDir, cacheKey } from '../../engine/cache.js';

const SHF_ALLOC = 2n;
/** Copies older than this are removed when a new one is written (each load of a module at new addresses makes one). */
const KEEP_MS = 24 * 3600 * 1000;

export interface KoSection {
  name: string;
  /** Byte offset of this section's header in the file (its sh_addr is at +16). */
  header: number;
  alloc: boolean;
}

/** The sections of an ELF64 little-endian relocatable file, in header order; undefined for anything else. */
export function koSections(elf: Buffer): KoSection[] | undefined {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return undefined;
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shentsize < 64 || shoff + shnum * shentsize > elf.length || shstrndx >= shnum) return undefined;
  const strtab = Number(elf.readBigUInt64LE(shoff + shstrndx * shentsize + 24));
  const out: KoSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const header = shoff + i * shentsize;
    const nameAt = strtab + elf.readUInt32LE(header);
    const end = elf.indexOf(0, nameAt);
    out.push({
      name: elf.toString('latin1', nameAt, end < 0 ? nameAt : end),
      header,
      alloc: (elf.readBigUInt64LE(header + 8) & SHF_ALLOC) !== 0n,
    });
  }
  return out;
}

export interface PlacedKo {
  /** The copy with the load addresses in its section headers. */
  file: string;
  /** The address of each allocated section, in header order (what qXfer:libraries:read lists). */
  sections: bigint[];
}

/** The copy of `ko` with its allocated sections at `addresses` (by name; a section the kernel did not keep, e.g.
 *  an empty one, stays at 0). Undefined when `ko` is not a readable ELF64 relocatable file. */
export function placeKo(ko: string, addresses: Map<string, bigint>): PlacedKo | undefined {
  let elf: Buffer;
  let st;
  try {
    st = statSync(ko);
    elf = readFileSync(ko);
  } catch {
    return undefined;
  }
  const sections = koSections(elf);
  if (!sections) return undefined;
  const alloc = sections.filter((s) => s.alloc);
  const placed = alloc.map((s) => addresses.get(s.name) ?? 0n);
  const key = cacheKey(`${ko}:${st.size}:${st.mtimeMs}:${placed.join(',')}`);
  const dir = cacheDir('module-symbols', key);
  const file = join(dir, basename(ko));
  if (!existsSync(file)) {
    alloc.forEach((s, i) => elf.writeBigUInt64LE(placed[i]!, s.header + 16));
    prune(cacheDir('module-symbols'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.${process.pid}`, elf);
    renameSync(`${file}.${process.pid}`, file);
  }
  return { file, sections: placed };
}

function prune(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    try {
      if (now - statSync(join(root, name)).mtimeMs > KEEP_MS)
        rmSync(join(root, name), { recursive: true, force: true });
    } catch {
      // gone meanwhile
    }
  }
}
