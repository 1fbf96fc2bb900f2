// A RISC-V kernel as the machine loads it: the flat Image (arch/riscv/boot/Image, Documentation/riscv/boot-image-
// header.rst) or the ELF vmlinux, laid out the same way: `bytes` copied to RAM base + textOffset, bss cleared up to
// `memSize`, execution starting `entryOffset` bytes in.
import { isRiscvImageHeader } from '../detect.js';
import { parseElf } from './loader.js';

export interface KernelImage {
  format: 'Image' | 'ELF';
  bytes: Uint8Array;
  /** Where the kernel goes, relative to the start of RAM (2 MiB on rv64: PMD-aligned, as QEMU and OpenSBI place it). */
  textOffset: number;
  /** Bytes the running kernel occupies (image + bss): nothing else may be placed there. */
  memSize: number;
  entryOffset: number;
}

const DEFAULT_TEXT_OFFSET = 0x200000;

function u64(v: DataView, off: number): number {
  return v.getUint32(off + 4, true) * 4294967296 + v.getUint32(off, true);
}

export function parseKernelImage(data: Uint8Array): KernelImage {
  if (isRiscvImageHeader(data)) {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const imageSize = u64(v, 16);
    return {
      format: 'Image',
      bytes: data,
      textOffset: u64(v, 8) || DEFAULT_TEXT_OFFSET,
      memSize: Math.max(imageSize, data.length),
      entryOffset: 0,
    };
  }
  const elf = parseElf(data);
  const segs = elf.segments.filter((s) => s.memSize > 0);
  if (segs.length === 0) throw new Error('the kernel ELF has no loadable segments');
  const base = Math.min(...segs.map((s) => s.vaddr));
  const end = Math.max(...segs.map((s) => s.vaddr + s.memSize));
  const fileEnd = Math.max(...segs.map((s) => s.vaddr + s.fileSize));
  const bytes = new Uint8Array(fileEnd - base);
  for (const s of segs) bytes.set(data.subarray(s.fileOffset, s.fileOffset + s.fileSize), s.vaddr - base);
  return { format: 'ELF', bytes, textOffset: DEFAULT_TEXT_OFFSET, memSize: end - base, entryOffset: elf.entry - base };
}
