// virtio-mmio transport, version 2 (virtio 1.x "modern"), as QEMU's virt machine has it: slots at 0x10001000 +
// 0x1000*i with IRQ 1+i; an empty slot answers with device ID 0, which Linux skips.
// Split virtqueues with indirect descriptors; a QueueNotify write serves every available request at once, in order
// (so runs are deterministic), and then raises the used-buffer interrupt unless the driver suppressed it. A request
// the device cannot serve yet (a receive buffer with no frame for it) stays available until the device kick()s.
// The device behind the transport (virtio-blk, ...) is a VirtioBackend that serves one descriptor chain at a time.
import type { MmioDevice } from '../bus.js';
import type { Stateful } from '../state.js';
import type { IrqSink } from './irq.js';

export const VIRTIO_MMIO_BASE = 0x10001000;
export const VIRTIO_MMIO_STRIDE = 0x1000;
export const VIRTIO_MMIO_SIZE = 0x1000;
/** IRQ of slot 0; slot i uses VIRTIO_MMIO_IRQ + i. */
export const VIRTIO_MMIO_IRQ = 1;
/** QEMU virt has 8 slots. */
export const VIRTIO_MMIO_SLOTS = 8;

/** Guest physical memory as devices see it. The machine drops the CPU's decoded code for written ranges. */
export interface Dma {
  read(paddr: number, len: number): Uint8Array;
  write(paddr: number, data: Uint8Array): void;
}

export const VIRTIO_F_VERSION_1 = 1n << 32n;
export const VIRTIO_RING_F_INDIRECT_DESC = 1n << 28n;

/** A request the driver made malformed: the device stops serving and asks for a reset. */
export class VirtioChainError extends Error {}

export interface Segment {
  addr: number;
  len: number;
}

/** The buffers of one descriptor chain: the device reads `readable` and writes `writable`. */
export class DescriptorChain {
  readonly readableLength: number;
  readonly writableLength: number;

  constructor(
    private readonly dma: Dma,
    readonly readable: Segment[],
    readonly writable: Segment[],
  ) {
    this.readableLength = readable.reduce((n, s) => n + s.len, 0);
    this.writableLength = writable.reduce((n, s) => n + s.len, 0);
  }

  /** `len` bytes starting `offset` bytes into the readable buffers. */
  read(offset: number, len: number): Uint8Array {
    if (offset + len > this.readableLength) throw new VirtioChainError('request reads past its buffers');
    const out = new Uint8Array(len);
    let done = 0;
    for (const seg of this.readable) {
      if (done === len) break;
      if (offset >= seg.len) {
        offset -= seg.len;
        continue;
      }
      const n = Math.min(seg.len - offset, len - done);
      out.set(this.dma.read(seg.addr + offset, n), done);
      done += n;
      offset = 0;
    }
    return out;
  }

  /** Write `data` starting `offset` bytes into the writable buffers. */
  write(offset: number, data: Uint8Array): void {
    if (offset + data.length > this.writableLength) throw new VirtioChainError('request writes past its buffers');
    let done = 0;
    for (const seg of this.writable) {
      if (done === data.length) break;
      if (offset >= seg.len) {
        offset -= seg.len;
        continue;
      }
      const n = Math.min(seg.len - offset, data.length - done);
      this.dma.write(seg.addr + offset, data.subarray(done, done + n));
      done += n;
      offset = 0;
    }
  }
}

/** A virtio device behind the transport; one with state of its own (a disk's written blocks) saves it too. */
export interface VirtioBackend extends Partial<Stateful<unknown>> {
  readonly deviceId: number;
  /** Device-specific feature bits; the transport adds VIRTIO_F_VERSION_1 and VIRTIO_RING_F_INDIRECT_DESC. */
  readonly features: bigint;
  /** Maximum size of each queue. */
  readonly queueSizes: readonly number[];
  readConfig(offset: number, size: 1 | 2 | 4): number;
  writeConfig?(offset: number, size: 1 | 2 | 4, value: number): void;
  /** Serve one request; returns how many bytes it wrote into the chain's writable buffers, or undefined when it has
   *  nothing for it yet (then it and the requests after it wait for kick()). */
  handle(queue: number, chain: DescriptorChain): number | undefined;
  /** The driver reset the device. */
  reset?(): void;
}

// register offsets
const MAGIC = 0x000,
  VERSION = 0x004,
  DEVICE_ID = 0x008,
  VENDOR_ID = 0x00c;
const DEVICE_FEATURES = 0x010,
  DEVICE_FEATURES_SEL = 0x014,
  DRIVER_FEATURES = 0x020,
  DRIVER_FEATURES_SEL = 0x024;
const QUEUE_SEL = 0x030,
  QUEUE_NUM_MAX = 0x034,
  QUEUE_NUM = 0x038,
  QUEUE_READY = 0x044,
  QUEUE_NOTIFY = 0x050;
const INTERRUPT_STATUS = 0x060,
  INTERRUPT_ACK = 0x064,
  STATUS = 0x070;
const QUEUE_DESC_LOW = 0x080,
  QUEUE_DESC_HIGH = 0x084,
  QUEUE_DRIVER_LOW = 0x090,
  QUEUE_DRIVER_HIGH = 0x094;
const QUEUE_DEVICE_LOW = 0x0a0,
  QUEUE_DEVICE_HIGH = 0x0a4,
  CONFIG_GENERATION = 0x0fc,
  CONFIG = 0x100;

const MAGIC_VALUE = 0x74726976; // "virt"
/** QEMU's vendor ID ("QEMU"): drivers do not care, and it keeps guests' view identical under both machines. */
const VENDOR_QEMU = 0x554d4551;
const STATUS_FEATURES_OK = 8;
const STATUS_DEVICE_NEEDS_RESET = 0x40;
const INT_USED_BUFFER = 1;
const INT_CONFIG_CHANGE = 2;
const DESC_F_NEXT = 1,
  DESC_F_WRITE = 2,
  DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;
const DESC_SIZE = 16;

class Queue {
  num = 0;
  ready = false;
  desc = 0;
  driver = 0;
  device = 0;
  /** Next avail ring index the device will serve (= the used ring's idx: every request completes at once). */
  nextAvail = 0;
}

const TWO32 = 4294967296;
const setLow = (addr: number, v: number): number => Math.floor(addr / TWO32) * TWO32 + (v >>> 0);
const setHigh = (addr: number, v: number): number => (v >>> 0) * TWO32 + (addr % TWO32);

interface VirtioMmioState {
  driverFeatures: bigint;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  queueSel: number;
  queues: Queue[];
  status: number;
  interruptStatus: number;
  irqLevel: boolean;
  backend: unknown;
}

export class VirtioMmio implements MmioDevice, Stateful<VirtioMmioState> {
  readonly name = 'virtio-mmio';
  private readonly deviceFeatures: bigint;
  private driverFeatures = 0n;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private queues: Queue[] = [];
  private status = 0;
  private interruptStatus = 0;
  private irqLevel = false;

  /** `backend` undefined: an empty slot (device ID 0). */
  constructor(
    private readonly backend: VirtioBackend | undefined,
    private readonly dma: Dma,
    private readonly irq: IrqSink,
    private readonly irqNum: number,
  ) {
    this.deviceFeatures = backend ? backend.features | VIRTIO_F_VERSION_1 | VIRTIO_RING_F_INDIRECT_DESC : 0n;
    this.reset();
  }

  save(): VirtioMmioState {
    return {
      driverFeatures: this.driverFeatures,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      queueSel: this.queueSel,
      queues: this.queues.map((q) => Object.assign(new Queue(), q)),
      status: this.status,
      interruptStatus: this.interruptStatus,
      irqLevel: this.irqLevel,
      backend: this.backend?.save?.(),
    };
  }

  restore(s: VirtioMmioState): void {
    this.driverFeatures = s.driverFeatures;
    this.deviceFeaturesSel = s.deviceFeaturesSel;
    this.driverFeaturesSel = s.driverFeaturesSel;
    this.queueSel = s.queueSel;
    this.queues = s.queues.map((q) => Object.assign(new Queue(), q));
    this.status = s.status;
    this.interruptStatus = s.interruptStatus;
    this.irqLevel = s.irqLevel;
    this.irq.setIrq(this.irqNum, this.irqLevel);
    this.backend?.restore?.(s.backend);
  }

  private reset(): void {
    this.driverFeatures = 0n;
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    this.queues = (this.backend?.queueSizes ?? []).map(() => new Queue());
    this.status = 0;
    this.interruptStatus = 0;
    this.backend?.reset?.();
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.setIrq(this.irqNum, level);
    }
  }

  load(offset: number, size: 1 | 2 | 4): number {
    if (offset >= CONFIG) return this.backend ? this.backend.readConfig(offset - CONFIG, size) : 0;
    if (size !== 4) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MAGIC:
        return MAGIC_VALUE;
      case VERSION:
        return 2;
      case DEVICE_ID:
        return this.backend?.deviceId ?? 0;
      case VENDOR_ID:
        return VENDOR_QEMU;
      case DEVICE_FEATURES:
        return this.deviceFeaturesSel > 1
          ? 0
          : Number((this.deviceFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffffffffn) | 0;
      case QUEUE_NUM_MAX:
        return q ? this.backend!.queueSizes[this.queueSel]! : 0;
      case QUEUE_READY:
        return q?.ready ? 1 : 0;
      case INTERRUPT_STATUS:
        return this.interruptStatus;
      case STATUS:
        return this.status;
      case CONFIG_GENERATION:
        return 0;
      default:
        return 0;
    }
  }

  store(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset >= CONFIG) {
      this.backend?.writeConfig?.(offset - CONFIG, size, value);
      return;
    }
    if (size !== 4 || !this.backend) return;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = value >>> 0;
        break;
      case DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = value >>> 0;
        break;
      case DRIVER_FEATURES:
        if (this.driverFeaturesSel <= 1) {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(value >>> 0) << shift);
        }
        break;
      case QUEUE_SEL:
        this.queueSel = value >>> 0;
        break;
      case QUEUE_NUM:
        if (q) q.num = value >>> 0;
        break;
      case QUEUE_READY:
        if (q) q.ready = (value & 1) === 1;
        break;
      case QUEUE_DESC_LOW:
        if (q) q.desc = setLow(q.desc, value);
        break;
      case QUEUE_DESC_HIGH:
        if (q) q.desc = setHigh(q.desc, value);
        break;
      case QUEUE_DRIVER_LOW:
        if (q) q.driver = setLow(q.driver, value);
        break;
      case QUEUE_DRIVER_HIGH:
        if (q) q.driver = setHigh(q.driver, value);
        break;
      case QUEUE_DEVICE_LOW:
        if (q) q.device = setLow(q.device, value);
        break;
      case QUEUE_DEVICE_HIGH:
        if (q) q.device = setHigh(q.device, value);
        break;
      case QUEUE_NOTIFY:
        this.kick(value >>> 0);
        break;
      case INTERRUPT_ACK:
        this.interruptStatus &= ~value;
        this.updateIrq();
        break;
      case STATUS:
        this.writeStatus(value & 0xff);
        break;
    }
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    if (value & STATUS_FEATURES_OK && !(this.status & STATUS_FEATURES_OK)) {
      // the driver may only accept what the device offers, and a modern device insists on VERSION_1
      const acceptable =
        (this.driverFeatures & ~this.deviceFeatures) === 0n && (this.driverFeatures & VIRTIO_F_VERSION_1) !== 0n;
      if (!acceptable) value &= ~STATUS_FEATURES_OK;
    }
    this.status = value | (this.status & STATUS_DEVICE_NEEDS_RESET);
  }

  /** Serve queue `index`: the driver notified it, or the device has something for requests that waited. */
  kick(index: number): void {
    const q = this.queues[index];
    if (!q || !q.ready || q.num === 0 || this.status & STATUS_DEVICE_NEEDS_RESET) return;
    try {
      if (this.serve(index, q)) this.updateIrq();
    } catch (e) {
      if (!(e instanceof VirtioChainError || e instanceof RangeError)) throw e;
      this.status |= STATUS_DEVICE_NEEDS_RESET;
      this.interruptStatus |= INT_CONFIG_CHANGE;
      this.updateIrq();
    }
  }

  /** Serve every available request; returns whether the interrupt status changed. */
  private serve(index: number, q: Queue): boolean {
    const availIdx = this.u16(q.driver + 2);
    let served = 0;
    while ((q.nextAvail & 0xffff) !== availIdx) {
      if (served >= q.num) throw new VirtioChainError('avail index runs ahead of the ring');
      const head = this.u16(q.driver + 4 + 2 * (q.nextAvail % q.num));
      const chain = this.chain(q, head);
      const written = this.backend!.handle(index, chain);
      if (written === undefined) break;
      served++;
      const elem = new DataView(new ArrayBuffer(8));
      elem.setUint32(0, head, true);
      elem.setUint32(4, written, true);
      this.dma.write(q.device + 4 + 8 * (q.nextAvail % q.num), new Uint8Array(elem.buffer));
      q.nextAvail = (q.nextAvail + 1) & 0xffff;
      this.dma.write(q.device + 2, new Uint8Array([q.nextAvail & 0xff, q.nextAvail >> 8]));
    }
    if (served === 0 || this.u16(q.driver) & AVAIL_F_NO_INTERRUPT) return false;
    this.interruptStatus |= INT_USED_BUFFER;
    return true;
  }

  private u16(paddr: number): number {
    const b = this.dma.read(paddr, 2);
    return b[0]! | (b[1]! << 8);
  }

  /** Walk the descriptor chain starting at `head` (following one level of indirect table). */
  private chain(q: Queue, head: number): DescriptorChain {
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    let table = q.desc;
    let size = q.num;
    let i = head;
    let indirect = false;
    for (let steps = 0; ; steps++) {
      if (i >= size || steps >= size) throw new VirtioChainError('descriptor chain is out of range or loops');
      const raw = this.dma.read(table + DESC_SIZE * i, DESC_SIZE);
      const d = new DataView(raw.buffer, raw.byteOffset, DESC_SIZE);
      const addr = d.getUint32(0, true) + d.getUint32(4, true) * TWO32;
      const len = d.getUint32(8, true);
      const flags = d.getUint16(12, true);
      if (flags & DESC_F_INDIRECT) {
        if (indirect || flags & DESC_F_NEXT || len % DESC_SIZE !== 0 || len === 0) {
          throw new VirtioChainError('bad indirect descriptor');
        }
        indirect = true;
        table = addr;
        size = len / DESC_SIZE;
        i = 0;
        steps = -1;
        continue;
      }
      if (flags & DESC_F_WRITE) writable.push({ addr, len });
      else if (writable.length) throw new VirtioChainError('device-readable buffer after a writable one');
      else readable.push({ addr, len });
      if (!(flags & DESC_F_NEXT)) break;
      i = d.getUint16(14, true);
    }
    return new DescriptorChain(this.dma, readable, writable);
  }
}
