// ELF64 (little-endian, RISC-V) loader for bare-metal programs: PT_LOAD segments at their physical addresses,
// the entry point, and the symbol table (for the HTIF tohost/fromhost words).
import type { MemoryBus } from './bus.js';

export interface ElfSegment {
  paddr: number;
  vaddr: number;
  fileOffset: number;
  fileSize: number;
  memSize: number;
}
export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  symbols: Map<string, number>;
  /** Allocated sections by name (address), e.g. ".htif" when a firmware has no symbol table. */
  sections: Map<string, number>;
  data: Uint8Array;
}

const EM_RISCV = 243;

function u64(v: DataView, off: number): number {
  const lo = v.getUint32(off, true),
    hi = v.getUint32(off + 4, true);
  // kernel addresses (0xffffffff8...) are kept sign-extended, as the CPU keeps the pc: exact in a JS number
  if (hi >= 0xffe00000) return (hi - 4294967296) * 4294967296 + lo;
  if (hi >= 0x200000) throw new Error(`ELF value at 0x${off.toString(16)} does not fit in 53 bits`);
  return hi * 4294967296 + lo;
}

export function parseElf(data: Uint8Array): ElfImage {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 64 || v.getUint32(0, false) !== 0x7f454c46) throw new Error('not an ELF file');
  if (data[4] !== 2) throw new Error('not a 64-bit ELF (ELFCLASS64 expected)');
  if (data[5] !== 1) throw new Error('not a little-endian ELF');
  const machine = v.getUint16(0x12, true);
  if (machine !== EM_RISCV) throw new Error(`ELF machine ${machine} is not RISC-V (243)`);
  const entry = u64(v, 0x18);
  const phoff = u64(v, 0x20),
    shoff = u64(v, 0x28);
  const phentsize = v.getUint16(0x36, true),
    phnum = v.getUint16(0x38, true);
  const shentsize = v.getUint16(0x3a, true),
    shnum = v.getUint16(0x3c, true);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (v.getUint32(p, true) !== 1) continue; // PT_LOAD
    segments.push({
      fileOffset: u64(v, p + 0x08),
      vaddr: u64(v, p + 0x10),
      paddr: u64(v, p + 0x18),
      fileSize: u64(v, p + 0x20),
      memSize: u64(v, p + 0x28),
    });
  }
  const symbols = new Map<string, number>();
  const sections = new Map<string, number>();
  const shstrndx = v.getUint16(0x3e, true);
  if (shoff && shstrndx < shnum) {
    const strOff = u64(v, shoff + shstrndx * shentsize + 0x18);
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * shentsize;
      const addr = v.getUint32(sh + 0x10, true) + v.getUint32(sh + 0x14, true) * 4294967296;
      if (!addr) continue;
      let end = strOff + v.getUint32(sh, true);
      const start = end;
      while (end < data.length && data[end] !== 0) end++;
      sections.set(Buffer.from(data.subarray(start, end)).toString('latin1'), addr);
    }
  }
  for (let i = 0; i < shnum && shoff; i++) {
    const sh = shoff + i * shentsize;
    if (v.getUint32(sh + 4, true) !== 2) continue; // SHT_SYMTAB
    const off = u64(v, sh + 0x18),
      size = u64(v, sh + 0x20),
      link = v.getUint32(sh + 0x28, true);
    const strOff = u64(v, shoff + link * shentsize + 0x18);
    for (let s = off; s + 24 <= off + size; s += 24) {
      const nameOff = v.getUint32(s, true);
      if (!nameOff) continue;
      let end = strOff + nameOff;
      while (data[end] !== 0 && end < data.length) end++;
      const name = Buffer.from(data.subarray(strOff + nameOff, end)).toString('latin1');
      const lo = v.getUint32(s + 8, true),
        hi = v.getUint32(s + 12, true);
      if (hi < 0x200000) symbols.set(name, hi * 4294967296 + lo);
    }
  }
  return { entry, segments, symbols, sections, data };
}

/** Copy every PT_LOAD segment to its physical address (zero-filling the bss part). */
export function loadElf(img: ElfImage, bus: MemoryBus): void {
  for (const s of img.segments) {
    if (s.memSize === 0) continue;
    const mem = new Uint8Array(s.memSize);
    mem.set(img.data.subarray(s.fileOffset, s.fileOffset + s.fileSize));
    bus.writePhys(s.paddr, mem);
  }
}

/** Lowest and highest physical address the segments occupy. */
export function elfExtent(img: ElfImage): { lo: number; hi: number } {
  let lo = Infinity,
    hi = 0;
  for (const s of img.segments) {
    if (s.memSize === 0) continue;
    lo = Math.min(lo, s.paddr);
    hi = Math.max(hi, s.paddr + s.memSize);
  }
  return { lo, hi };
}
