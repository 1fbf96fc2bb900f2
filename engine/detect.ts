// What a kernel file is, read from its headers: a RISC-V Image, or an ELF (machine, program and section headers),
// with a one-line error saying which file, what is wrong and what to do when it is not a kernel kwb can boot. Every
// read is bounds-checked: a truncated or garbage file is an error about that file, never a RangeError.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { KwbError } from './results.js';

export type KernelKind = { kind: 'uml'; dynamic: boolean } | { kind: 'riscv-image' } | { kind: 'riscv-elf' };

export const EM_X86_64 = 62;
const EM_RISCV = 243;
const ELF_MAGIC = 0x464c457f; // "\x7fELF" little-endian
const PT_LOAD = 1;
const PT_INTERP = 3;
const RISCV_IMAGE_MAGIC2 = 'RSC\x05';
/** UML is an x86-64 program; a native x86-64 vmlinux is linked at kernel addresses (top half). */
const USER_SPACE_TOP = 0x0000800000000000n;

/** A RISC-V Image (Documentation/riscv/boot-image-header.rst): magic2 "RSC\x05" at offset 56 of its header. */
export function isRiscvImageHeader(head: Uint8Array): boolean {
  return head.length >= 64 && Buffer.from(head.subarray(56, 60)).toString('latin1') === RISCV_IMAGE_MAGIC2;
}

/** An open file read in small pieces; a piece past its end is a "truncated" error naming the file. */
class FileReader {
  readonly size: number;
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    this.size = fstatSync(fd).size;
  }

  static open<T>(path: string, what: string, use: (r: FileReader) => T): T {
    let fd: number;
    try {
      fd = openSync(path, 'r');
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new KwbError(`${path} is not a file; pass the ${what} file itself`);
      }
    } catch (err) {
      if (err instanceof KwbError) throw err;
      throw new KwbError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}; check the path`);
    }
    try {
      return use(new FileReader(path, fd));
    } finally {
      closeSync(fd);
    }
  }

  /** The first `length` bytes (fewer in a shorter file). */
  head(length: number): Buffer {
    const buf = Buffer.alloc(Math.min(length, this.size));
    return buf.subarray(0, readSync(this.fd, buf, 0, buf.length, 0));
  }

  /** A one-line error unless `length` bytes at `offset` lie within the file. */
  check(offset: number, length: number, what: string): void {
    if (Number.isSafeInteger(offset + length) && offset >= 0 && length >= 0 && offset + length <= this.size) return;
    throw new KwbError(
      `${this.path} is truncated or corrupt: its ${what} (bytes ${offset}..${offset + length}) lie past its end ` +
        `(${this.size} bytes); rebuild it (make) or copy the whole file again`,
    );
  }

  /** Exactly `length` bytes at `offset`, or a one-line error that the file is cut short there. */
  exact(offset: number, length: number, what: string): Buffer {
    this.check(offset, length, what);
    const buf = Buffer.alloc(length);
    readSync(this.fd, buf, 0, length, offset);
    return buf;
  }
}

/** The parts of a 64-bit little-endian ELF that kwb reads, checked against the file's size. */
export interface ElfHeaders {
  machine: number;
  type: number;
  programs: { type: number; offset: number; vaddr: bigint; fileSize: number }[];
  sections: { name: string; type: number; offset: number; size: number }[];
}

function readElf(r: FileReader, head: Buffer): ElfHeaders {
  if (head[4] !== 2 || head[5] !== 1)
    throw new KwbError(`${r.path} is not a 64-bit little-endian ELF; kwb boots x86-64 UML and RV64 kernels`);
  const phoff = Number(head.readBigUInt64LE(32));
  const shoff = Number(head.readBigUInt64LE(40));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  const shentsize = head.readUInt16LE(58);
  const shnum = head.readUInt16LE(60);
  const shstrndx = head.readUInt16LE(62);
  if ((phnum && phentsize < 56) || (shnum && shentsize < 64))
    throw new KwbError(`${r.path} is corrupt: its ELF header gives impossible table entry sizes; rebuild it (make)`);
  const ph = r.exact(phoff, phentsize * phnum, 'program headers');
  const programs = Array.from({ length: phnum }, (_, i) => {
    const p = ph.subarray(i * phentsize);
    return {
      type: p.readUInt32LE(0),
      offset: Number(p.readBigUInt64LE(8)),
      vaddr: p.readBigUInt64LE(16),
      fileSize: Number(p.readBigUInt64LE(32)),
    };
  });
  for (const p of programs) if (p.type === PT_LOAD) r.check(p.offset, p.fileSize, 'loadable segments');
  const sh = r.exact(shoff, shentsize * shnum, 'section headers');
  const raw = Array.from({ length: shnum }, (_, i) => {
    const s = sh.subarray(i * shentsize);
    return {
      nameAt: s.readUInt32LE(0),
      type: s.readUInt32LE(4),
      offset: Number(s.readBigUInt64LE(24)),
      size: Number(s.readBigUInt64LE(32)),
    };
  });
  const strtab = raw[shstrndx];
  const names = strtab && shstrndx ? r.exact(strtab.offset, strtab.size, 'section names') : Buffer.alloc(0);
  const sections = raw.map((s) => {
    const end = names.indexOf(0, s.nameAt);
    return { ...s, name: s.nameAt < names.length ? names.toString('latin1', s.nameAt, end < 0 ? undefined : end) : '' };
  });
  return { machine: head.readUInt16LE(18), type: head.readUInt16LE(16), programs, sections };
}

/** The ELF headers of a file (a vmlinux with symbols), or undefined when it is not a 64-bit little-endian ELF. */
export function elfHeaders(path: string): ElfHeaders | undefined {
  return FileReader.open(path, 'symbol file', (r) => {
    const head = r.head(64);
    if (head.length < 64 || head.readUInt32LE(0) !== ELF_MAGIC || head[4] !== 2 || head[5] !== 1) return undefined;
    return readElf(r, head);
  });
}

const BZIMAGE = (path: string) =>
  new KwbError(`${path} is an x86 bzImage, not a User-mode Linux kernel; build with 'make ARCH=um' and pass ./linux`);

export function detectKernel(path: string): KernelKind {
  return FileReader.open(path, 'kernel', (r) => {
    const head = r.head(0x206);
    if (isRiscvImageHeader(head)) return { kind: 'riscv-image' };
    if (head.length >= 0x206 && head.subarray(0x202, 0x206).toString('latin1') === 'HdrS') throw BZIMAGE(path);
    if (head.length < 64 || head.readUInt32LE(0) !== ELF_MAGIC) {
      throw new KwbError(
        `${path} is not a kernel kwb can boot (not ELF, not a RISC-V Image); pass ./linux (ARCH=um) or arch/riscv/boot/Image`,
      );
    }
    const elf = readElf(r, head);
    if (elf.machine === EM_RISCV) return { kind: 'riscv-elf' };
    if (elf.machine !== EM_X86_64)
      throw new KwbError(
        `${path} is an ELF for machine ${elf.machine}, not x86-64 (UML) or RISC-V; rebuild with ARCH=um or ARCH=riscv`,
      );
    const loads = elf.programs.filter((p) => p.type === PT_LOAD);
    if (loads.some((p) => p.vaddr >= USER_SPACE_TOP))
      throw new KwbError(
        `${path} is a native x86-64 vmlinux, not a User-mode Linux kernel; build with 'make ARCH=um' and pass ./linux`,
      );
    if (loads.length === 0 || (elf.type !== 2 && elf.type !== 3))
      throw new KwbError(`${path} is not a linked executable; pass the kernel ./linux built with 'make ARCH=um'`);
    // section headers survive `strip`, so this also recognises Debian's linux.uml
    if (!elf.sections.some((s) => s.name === '.uml.setup.init'))
      throw new KwbError(
        `${path} is an x86-64 program but not a User-mode Linux kernel; build the kernel with 'make ARCH=um' and pass ./linux`,
      );
    return { kind: 'uml', dynamic: elf.programs.some((p) => p.type === PT_INTERP) };
  });
}
