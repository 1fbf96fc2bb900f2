// A disk image opened read-only with a copy-on-write overlay in memory: the guest's writes land in 4 KiB blocks kept
// here, and the user's file is never written. Sizes that are not a multiple of 512 are padded with zeros.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Stateful } from '../state.js';
import { SECTOR_SIZE, type BlockStorage } from './virtio-blk.js';

const BLOCK_SIZE = 4096;

export class CowDisk implements BlockStorage, Stateful<ReadonlyMap<number, Uint8Array>> {
  readonly sectors: number;
  private fd: number | undefined;
  private readonly fileSize: number;
  /** Written blocks by block number. A block is never changed in place once written (a write replaces it), so
   *  a saved state is a copy of this map. */
  private blocks = new Map<number, Uint8Array>();

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.fileSize = fstatSync(this.fd).size;
    this.sectors = Math.ceil(this.fileSize / SECTOR_SIZE);
  }

  save(): ReadonlyMap<number, Uint8Array> {
    return new Map(this.blocks);
  }

  restore(blocks: ReadonlyMap<number, Uint8Array>): void {
    this.blocks = new Map(blocks);
  }

  /** Bytes held in the overlay. */
  get overlayBytes(): number {
    return this.blocks.size * BLOCK_SIZE;
  }

  read(sector: number, count: number): Uint8Array {
    this.checkRange(sector, count);
    const start = sector * SECTOR_SIZE;
    const out = new Uint8Array(count * SECTOR_SIZE);
    this.readBase(start, out);
    if (this.blocks.size === 0) return out;
    const end = start + out.length;
    for (let b = Math.floor(start / BLOCK_SIZE); b * BLOCK_SIZE < end; b++) {
      const block = this.blocks.get(b);
      if (!block) continue;
      const from = Math.max(start, b * BLOCK_SIZE);
      const to = Math.min(end, (b + 1) * BLOCK_SIZE);
      out.set(block.subarray(from - b * BLOCK_SIZE, to - b * BLOCK_SIZE), from - start);
    }
    return out;
  }

  write(sector: number, data: Uint8Array): void {
    if (data.length % SECTOR_SIZE !== 0) throw new Error('disk writes are whole sectors');
    this.checkRange(sector, data.length / SECTOR_SIZE);
    const start = sector * SECTOR_SIZE;
    const end = start + data.length;
    for (let b = Math.floor(start / BLOCK_SIZE); b * BLOCK_SIZE < end; b++) {
      const old = this.blocks.get(b);
      const block = new Uint8Array(BLOCK_SIZE);
      if (old) block.set(old);
      else this.readBase(b * BLOCK_SIZE, block);
      this.blocks.set(b, block);
      const from = Math.max(start, b * BLOCK_SIZE);
      const to = Math.min(end, (b + 1) * BLOCK_SIZE);
      block.set(data.subarray(from - start, to - start), from - b * BLOCK_SIZE);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private checkRange(sector: number, count: number): void {
    if (sector < 0 || count < 0 || sector + count > this.sectors) {
      throw new RangeError(`sectors ${sector}+${count} are outside the ${this.sectors}-sector disk ${this.path}`);
    }
  }

  /** Fill `into` from the base file at `position`; past its end stays zero. */
  private readBase(position: number, into: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`disk ${this.path} is closed`);
    let done = 0;
    while (done < into.length && position + done < this.fileSize) {
      const n = readSync(this.fd, into, done, into.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
  }
}
