// What kind of kernel a file is, read from its first bytes (and, for x86-64 ELF, its program headers), with a
// one-line error that says what to do when it is not a kernel kwb can boot.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { KwbError, ExitCode } from './results.js';
import type { EngineName } from './guest.js';

export type KernelKind = { kind: 'uml'; dynamic: boolean } | { kind: 'riscv-image' } | { kind: 'riscv-elf' };

const ELF_MAGIC = 0x464c457f; // "\x7fELF" little-endian
const EM_X86_64 = 62;
const EM_RISCV = 243;
const PT_LOAD = 1;
const PT_INTERP = 3;
const RISCV_IMAGE_MAGIC2 = 'RSC\x05';
/** UML is an x86-64 program; a native x86-64 vmlinux is linked at kernel addresses (top half). */
const USER_SPACE_TOP = 0x0000800000000000n;

/** A RISC-V Image (Documentation/riscv/boot-image-header.rst): magic2 "RSC\x05" at offset 56 of its header. */
export function isRiscvImageHeader(head: Uint8Array): boolean {
  return head.length >= 64 && Buffer.from(head.subarray(56, 60)).toString('latin1') === RISCV_IMAGE_MAGIC2;
}

function readHead(path: string, bytes: number): Buffer {
  let fd: number;
  try {
    if (!statSync(path).isFile()) throw new KwbError(`${path} is not a file; pass the kernel binary with --kernel`);
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof KwbError) throw err;
    throw new KwbError(`cannot read kernel ${path}: ${(err as NodeJS.ErrnoException).code ?? err}; check the path`);
  }
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function detectKernel(path: string): KernelKind {
  const head = readHead(path, 64);
  if (isRiscvImageHeader(head)) return { kind: 'riscv-image' };
  if (head.length >= 0x206 && head.subarray(0x202, 0x206).toString('latin1') === 'HdrS') {
    throw new KwbError(
      `${path} is an x86 bzImage, not a User-mode Linux kernel; build with 'make ARCH=um' and pass ./linux`,
    );
  }
  if (head.length < 64 || head.readUInt32LE(0) !== ELF_MAGIC) {
    const full = readHead(path, 0x206);
    if (full.length >= 0x206 && full.subarray(0x202, 0x206).toString('latin1') === 'HdrS') {
      throw new KwbError(
        `${path} is an x86 bzImage, not a User-mode Linux kernel; build with 'make ARCH=um' and pass ./linux`,
      );
    }
    throw new KwbError(
      `${path} is not a kernel kwb can boot (not ELF, not a RISC-V Image); pass ./linux (ARCH=um) or arch/riscv/boot/Image`,
    );
  }
  if (head[4] !== 2 || head[5] !== 1)
    throw new KwbError(`${path} is not a 64-bit little-endian ELF; kwb boots x86-64 UML and RV64 kernels`);
  const machine = head.readUInt16LE(18);
  if (machine === EM_RISCV) return { kind: 'riscv-elf' };
  if (machine !== EM_X86_64)
    throw new KwbError(
      `${path} is an ELF for machine ${machine}, not x86-64 (UML) or RISC-V; rebuild with ARCH=um or ARCH=riscv`,
    );

  const phoff = Number(head.readBigUInt64LE(32));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  const ph = readAt(path, phoff, phentsize * phnum);
  let dynamic = false;
  let loads = 0;
  for (let i = 0; i < phnum && (i + 1) * phentsize <= ph.length; i++) {
    const p = ph.subarray(i * phentsize);
    const type = p.readUInt32LE(0);
    if (type === PT_INTERP) dynamic = true;
    if (type === PT_LOAD) {
      loads++;
      if (p.readBigUInt64LE(16) >= USER_SPACE_TOP) {
        throw new KwbError(
          `${path} is a native x86-64 vmlinux, not a User-mode Linux kernel; build with 'make ARCH=um' and pass ./linux`,
        );
      }
    }
  }
  const type = head.readUInt16LE(16);
  if (loads === 0 || (type !== 2 && type !== 3))
    throw new KwbError(`${path} is not a linked executable; pass the kernel ./linux built with 'make ARCH=um'`);
  if (!hasSection(path, head, '.uml.setup.init')) {
    throw new KwbError(
      `${path} is an x86-64 program but not a User-mode Linux kernel; build the kernel with 'make ARCH=um' and pass ./linux`,
    );
  }
  return { kind: 'uml', dynamic };
}

/** Whether the ELF has a section of this name (section headers survive `strip`, so this works on linux.uml). */
function hasSection(path: string, head: Buffer, name: string): boolean {
  const shoff = Number(head.readBigUInt64LE(40));
  const shentsize = head.readUInt16LE(58);
  const shnum = head.readUInt16LE(60);
  const shstrndx = head.readUInt16LE(62);
  if (!shoff || !shnum || shstrndx >= shnum) return false;
  const sh = readAt(path, shoff, shentsize * shnum);
  const strtab = sh.subarray(shstrndx * shentsize);
  const names = readAt(path, Number(strtab.readBigUInt64LE(24)), Number(strtab.readBigUInt64LE(32)));
  return names.includes(Buffer.from(`\0${name}\0`, 'latin1'));
}

/** The engine that boots a kernel of this kind. */
export function engineFor(kind: KernelKind): EngineName {
  return kind.kind === 'uml' ? 'uml' : 'rv64';
}

export function checkEngine(path: string, kind: KernelKind, engine: EngineName): void {
  if (engineFor(kind) === engine) return;
  if (engine === 'uml') {
    throw new KwbError(
      `${path} is a RISC-V kernel; the uml engine runs only ARCH=um kernels (drop --engine uml to use rv64)`,
    );
  }
  throw new KwbError(
    `${path} is a User-mode Linux kernel; the rv64 engine boots ARCH=riscv kernels (drop --engine rv64)`,
    ExitCode.usage,
  );
}
