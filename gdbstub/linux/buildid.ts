// The GNU build-id of an ELF file (its .note.gnu.build-id), read with a few small reads: vmlinux files are large.
import { closeSync, openSync, readSync } from 'node:fs';

const NT_GNU_BUILD_ID = 3;
const SHT_NOTE = 7;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

/** The build-id as hex, or undefined when the file is not a 64-bit little-endian ELF or has none. */
export function gnuBuildId(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const head = readAt(fd, 0, 64);
    // ELF magic, ELFCLASS64, ELFDATA2LSB: the only kind kwb debugs (x86-64 UML, riscv64)
    if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return undefined;
    const shoff = Number(head.readBigUInt64LE(0x28));
    const shentsize = head.readUInt16LE(0x3a);
    const shnum = head.readUInt16LE(0x3c);
    const table = readAt(fd, shoff, shentsize * shnum);
    for (let i = 0; i < shnum; i++) {
      const sh = table.subarray(i * shentsize, (i + 1) * shentsize);
      if (sh.length < 0x40 || sh.readUInt32LE(4) !== SHT_NOTE) continue;
      const notes = readAt(fd, Number(sh.readBigUInt64LE(0x18)), Number(sh.readBigUInt64LE(0x20)));
      for (let at = 0; at + 12 <= notes.length;) {
        const namesz = notes.readUInt32LE(at);
        const descsz = notes.readUInt32LE(at + 4);
        const type = notes.readUInt32LE(at + 8);
        const name = notes.subarray(at + 12, at + 12 + namesz).toString('latin1');
        const desc = at + 12 + ((namesz + 3) & ~3);
        if (type === NT_GNU_BUILD_ID && name === 'GNU\0') return notes.subarray(desc, desc + descsz).toString('hex');
        at = desc + ((descsz + 3) & ~3);
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
