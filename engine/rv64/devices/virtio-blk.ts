// virtio-blk device (virtio 1.x, device ID 2) on a BlockStorage: read, write, flush and get-ID requests on one queue.
// Config space: capacity (512-byte sectors), seg_max and blk_size.
import type { Stateful } from '../state.js';
import { VirtioChainError, type DescriptorChain, type VirtioBackend } from './virtio-mmio.js';

export const SECTOR_SIZE = 512;

/** What the block device stores its sectors in (CowDisk for a user's image). */
export interface BlockStorage extends Partial<Stateful<unknown>> {
  /** Size in 512-byte sectors. */
  readonly sectors: number;
  read(sector: number, count: number): Uint8Array;
  write(sector: number, data: Uint8Array): void;
  flush?(): void;
}

const VIRTIO_BLK_F_SEG_MAX = 1n << 2n;
const VIRTIO_BLK_F_BLK_SIZE = 1n << 6n;
const VIRTIO_BLK_F_FLUSH = 1n << 9n;

const T_IN = 0,
  T_OUT = 1,
  T_FLUSH = 4,
  T_GET_ID = 8;
const S_OK = 0,
  S_IOERR = 1,
  S_UNSUPP = 2;
const HEADER_SIZE = 16;
const ID_SIZE = 20;
const QUEUE_SIZE = 256;

export class VirtioBlk implements VirtioBackend {
  readonly deviceId = 2;
  readonly features = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH;
  readonly queueSizes = [QUEUE_SIZE];
  private readonly config: DataView;

  constructor(
    private readonly disk: BlockStorage,
    private readonly serial = 'kwb-disk',
  ) {
    // struct virtio_blk_config up to blk_size: capacity u64 @0, size_max u32 @8, seg_max u32 @12, geometry @16, blk_size u32 @20
    this.config = new DataView(new ArrayBuffer(24));
    this.config.setBigUint64(0, BigInt(disk.sectors), true);
    this.config.setUint32(12, QUEUE_SIZE - 2, true); // the header and the status byte take two descriptors
    this.config.setUint32(20, SECTOR_SIZE, true);
  }

  /** The storage's own state (a copy-on-write overlay's written blocks); the device has none besides. */
  save(): unknown {
    return this.disk.save?.();
  }

  restore(state: unknown): void {
    this.disk.restore?.(state);
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    if (offset + size > this.config.byteLength) return 0;
    return size === 1
      ? this.config.getUint8(offset)
      : size === 2
        ? this.config.getUint16(offset, true)
        : this.config.getInt32(offset, true);
  }

  handle(_queue: number, chain: DescriptorChain): number {
    if (chain.readableLength < HEADER_SIZE || chain.writableLength < 1) {
      throw new VirtioChainError('virtio-blk request without header or status byte');
    }
    const header = new DataView(chain.read(0, HEADER_SIZE).buffer);
    const type = header.getUint32(0, true);
    const sector = header.getUint32(8, true) + header.getUint32(12, true) * 4294967296;
    const statusAt = chain.writableLength - 1;
    const finish = (status: number, dataBytes: number): number => {
      chain.write(statusAt, Uint8Array.of(status));
      return dataBytes + 1;
    };
    const fits = (bytes: number): boolean =>
      bytes % SECTOR_SIZE === 0 && sector + bytes / SECTOR_SIZE <= this.disk.sectors;
    switch (type) {
      case T_IN: {
        const bytes = statusAt;
        if (!fits(bytes)) return finish(S_IOERR, 0);
        chain.write(0, this.disk.read(sector, bytes / SECTOR_SIZE));
        return finish(S_OK, bytes);
      }
      case T_OUT: {
        const bytes = chain.readableLength - HEADER_SIZE;
        if (!fits(bytes)) return finish(S_IOERR, 0);
        this.disk.write(sector, chain.read(HEADER_SIZE, bytes));
        return finish(S_OK, 0);
      }
      case T_FLUSH:
        this.disk.flush?.();
        return finish(S_OK, 0);
      case T_GET_ID: {
        const id = new Uint8Array(ID_SIZE);
        id.set(new TextEncoder().encode(this.serial).subarray(0, ID_SIZE));
        const bytes = Math.min(ID_SIZE, statusAt);
        chain.write(0, id.subarray(0, bytes));
        return finish(S_OK, bytes);
      }
      default:
        return finish(S_UNSUPP, 0);
    }
  }
}
