// The rv64 machine's devices on their own: PLIC, NS16550A UART, SiFive test/syscon, virtio-mmio + virtio-blk on a
// copy-on-write disk. Each is driven through its registers the way Linux's drivers do, with recording interrupt
// lines; virtio-blk serves requests from a real split queue laid out in a byte array.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CowDisk } from '../../../engine/rv64/devices/cow-disk';
import type { InterruptLines, IrqSink } from '../../../engine/rv64/devices/irq';
import { Plic } from '../../../engine/rv64/devices/plic';
import { Syscon, type PowerEvent } from '../../../engine/rv64/devices/syscon';
import { Uart16550 } from '../../../engine/rv64/devices/uart16550';
import { VirtioBlk } from '../../../engine/rv64/devices/virtio-blk';
import { DescriptorChain, VirtioMmio, type Dma, type VirtioBackend } from '../../../engine/rv64/devices/virtio-mmio';
import { RX_QUEUE, VirtioNet } from '../../../engine/rv64/devices/virtio-net';

class RecordingLines implements InterruptLines {
  readonly level = new Map<number, boolean>();
  setInterruptLine(bit: number, level: boolean): void {
    this.level.set(bit, level);
  }
  high(bit: number): boolean {
    return this.level.get(bit) ?? false;
  }
}

class RecordingIrq implements IrqSink {
  readonly level = new Map<number, boolean>();
  readonly changes: [number, boolean][] = [];
  setIrq(irq: number, level: boolean): void {
    this.level.set(irq, level);
    this.changes.push([irq, level]);
  }
  high(irq: number): boolean {
    return this.level.get(irq) ?? false;
  }
}

const MEIP = 11,
  SEIP = 9;
const priority = (src: number): number => 4 * src;
const enable = (ctx: number): number => 0x2000 + 0x80 * ctx;
const threshold = (ctx: number): number => 0x200000 + 0x1000 * ctx;
const claim = (ctx: number): number => 0x200004 + 0x1000 * ctx;

describe('PLIC', () => {
  it('routes an enabled source to the S-mode context, claims and completes it (level-triggered)', () => {
    const lines = new RecordingLines();
    const plic = new Plic(lines);
    plic.store(priority(10), 4, 1);
    plic.store(enable(1), 4, 1 << 10);
    plic.setIrq(10, true);
    assert.equal(lines.high(SEIP), true);
    assert.equal(lines.high(MEIP), false, 'not enabled on the M-mode context');
    assert.equal(plic.load(0x1000, 4), 1 << 10, 'pending bit');

    assert.equal(plic.load(claim(1), 4), 10);
    assert.equal(lines.high(SEIP), false, 'claimed: no longer pending');
    assert.equal(plic.load(0x1000, 4), 0);
    assert.equal(plic.load(claim(1), 4), 0, 'nothing else to claim');

    plic.store(claim(1), 4, 10); // complete while the line is still high: pending again
    assert.equal(lines.high(SEIP), true);
    assert.equal(plic.load(claim(1), 4), 10);
    plic.setIrq(10, false); // the device is serviced before completion
    plic.store(claim(1), 4, 10);
    assert.equal(lines.high(SEIP), false);
    assert.equal(plic.load(claim(1), 4), 0);
  });

  it('masks sources at or below the threshold and with priority 0', () => {
    const lines = new RecordingLines();
    const plic = new Plic(lines);
    plic.store(enable(1), 4, 1 << 3);
    plic.setIrq(3, true);
    assert.equal(lines.high(SEIP), false, 'priority 0 never interrupts');
    plic.store(priority(3), 4, 2);
    assert.equal(lines.high(SEIP), true);
    plic.store(threshold(1), 4, 2);
    assert.equal(lines.high(SEIP), false, 'priority must exceed the threshold');
    assert.equal(plic.load(threshold(1), 4), 2);
    plic.store(threshold(1), 4, 1);
    assert.equal(lines.high(SEIP), true);
    plic.store(priority(3), 4, 0xff);
    assert.equal(plic.load(priority(3), 4), 7, 'priorities have 3 bits');
  });

  it('claims the highest priority first, the lowest ID on ties; M-mode context drives MEIP', () => {
    const lines = new RecordingLines();
    const plic = new Plic(lines);
    for (const [src, prio] of [
      [3, 2],
      [5, 5],
      [7, 2],
    ] as const) {
      plic.store(priority(src), 4, prio);
      plic.setIrq(src, true);
    }
    plic.store(enable(0), 4, (1 << 3) | (1 << 5) | (1 << 7) | 1);
    assert.equal(plic.load(enable(0), 4), (1 << 3) | (1 << 5) | (1 << 7), 'source 0 cannot be enabled');
    assert.equal(lines.high(MEIP), true);
    assert.equal(lines.high(SEIP), false);
    assert.deepEqual(
      [plic.load(claim(0), 4), plic.load(claim(0), 4), plic.load(claim(0), 4), plic.load(claim(0), 4)],
      [5, 3, 7, 0],
    );
    assert.equal(lines.high(MEIP), false);
  });

  it('handles sources in the upper enable words and ignores completions of unclaimed or disabled sources', () => {
    const lines = new RecordingLines();
    const plic = new Plic(lines);
    plic.store(priority(95), 4, 1);
    plic.store(enable(1) + 8, 4, 1 << 31);
    plic.setIrq(95, true);
    assert.equal(plic.load(0x1000 + 8, 4) >>> 0, 0x80000000);
    assert.equal(plic.load(claim(1), 4), 95);
    plic.store(claim(0), 4, 95); // not enabled on context 0: ignored
    assert.equal(plic.load(claim(1), 4), 0, 'still claimed');
    plic.store(claim(1), 4, 95);
    assert.equal(plic.load(claim(1), 4), 95);
  });
});

// UART register offsets
const RBR = 0,
  IER = 1,
  IIR = 2,
  FCR = 2,
  LCR = 3,
  MCR = 4,
  LSR = 5,
  MSR = 6,
  SCR = 7;

function uart(): { dev: Uart16550; irq: RecordingIrq; out: Uint8Array[] } {
  const irq = new RecordingIrq();
  const out: Uint8Array[] = [];
  return { dev: new Uart16550(irq, 10, (b) => out.push(b)), irq, out };
}
const text = (chunks: Uint8Array[]): string[] => chunks.map((c) => Buffer.from(c).toString('latin1'));

describe('NS16550A UART', () => {
  it('passes the 8250 driver autoconfig probe as a 16550A', () => {
    const { dev } = uart();
    // IER existence test
    dev.store(IER, 1, 0);
    assert.equal(dev.load(IER, 1) & 0x0f, 0);
    dev.store(IER, 1, 0x0f);
    assert.equal(dev.load(IER, 1) & 0x0f, 0x0f);
    dev.store(IER, 1, 0);
    // loopback test: MCR = LOOP | OUT2 | RTS must read back as DCD | CTS
    dev.store(MCR, 1, 0x1a);
    assert.equal(dev.load(MSR, 1) & 0xf0, 0x90);
    dev.store(MCR, 1, 0);
    // FIFO type: IIR's top bits both set once FIFOs are enabled
    dev.store(LCR, 1, 0xbf);
    dev.store(2, 1, 0); // EFR on chips that have one; FCR here
    dev.store(LCR, 1, 0);
    dev.store(FCR, 1, 1);
    assert.equal(dev.load(IIR, 1) >> 6, 3);
    // no EFR: in LCR 0xbf mode offset 2 still reads IIR (non-zero)
    dev.store(LCR, 1, 0xbf);
    assert.notEqual(dev.load(2, 1), 0);
    dev.store(LCR, 1, 0);
    // the modem lines of a connected console
    assert.equal(dev.load(MSR, 1) & 0xf0, 0xb0);
    dev.store(SCR, 1, 0x5a);
    assert.equal(dev.load(SCR, 1), 0x5a);
  });

  it('keeps the divisor latch behind LCR.DLAB', () => {
    const { dev, out } = uart();
    dev.store(IER, 1, 0x05);
    dev.store(LCR, 1, 0x83);
    dev.store(RBR, 1, 0x0c);
    dev.store(IER, 1, 0x00);
    assert.equal(dev.load(RBR, 1), 0x0c);
    assert.equal(dev.load(IER, 1), 0x00);
    dev.store(LCR, 1, 0x03);
    assert.equal(dev.load(LCR, 1), 0x03);
    assert.equal(dev.load(IER, 1), 0x05, 'IER untouched by the divisor write');
    dev.flush();
    assert.deepEqual(out, [], 'divisor writes are not transmitted');
    dev.store(LCR, 1, 0x80);
    assert.equal(dev.load(RBR, 1) | (dev.load(IER, 1) << 8), 0x000c);
  });

  it('raises THRE when THRI is enabled on an empty transmitter, clears it on IIR read, re-arms it on IER toggle', () => {
    const { dev, irq } = uart();
    dev.store(FCR, 1, 1);
    assert.equal(dev.load(IIR, 1), 0xc1, 'no interrupt');
    dev.store(IER, 1, 0x02);
    assert.equal(irq.high(10), true);
    assert.equal(dev.load(IIR, 1), 0xc2, 'THRE is the cause');
    assert.equal(irq.high(10), false, 'reading IIR acknowledges THRE');
    assert.equal(dev.load(IIR, 1), 0xc1);
    // the driver's startup test: IER=0 then IER=THRI must reassert
    dev.store(IER, 1, 0);
    dev.store(IER, 1, 0x02);
    assert.equal(dev.load(IIR, 1) & 0x0f, 0x02);
    // each transmitted byte empties the transmitter again
    dev.store(RBR, 1, 0x41);
    assert.equal(irq.high(10), true);
    assert.equal(dev.load(LSR, 1) & 0x60, 0x60, 'THRE and TEMT');
  });

  it('queues received bytes with data-ready and the RX interrupt, ahead of THRE', () => {
    const { dev, irq } = uart();
    dev.store(IER, 1, 0x01);
    assert.equal(irq.high(10), false);
    dev.receive(Buffer.from('hi'));
    assert.equal(irq.high(10), true);
    assert.equal(dev.load(IIR, 1) & 0x0f, 0x04);
    assert.equal(dev.load(LSR, 1) & 1, 1);
    assert.equal(String.fromCharCode(dev.load(RBR, 1), dev.load(RBR, 1)), 'hi');
    assert.equal(dev.load(LSR, 1) & 1, 0);
    assert.equal(irq.high(10), false);
    assert.equal(dev.load(RBR, 1), 0, 'empty FIFO reads 0');
    // more input than the FIFO holds is delivered as the guest drains it
    const long = Buffer.alloc(100, 0x61);
    dev.receive(long);
    let n = 0;
    while (dev.load(LSR, 1) & 1) {
      dev.load(RBR, 1);
      n++;
    }
    assert.equal(n, 100);
    // clearing the RX FIFO drops what reached it (16 bytes), not input that has not arrived yet
    dev.receive(Buffer.from('0123456789abcdefXYZ'));
    dev.store(FCR, 1, 0x03);
    assert.equal(String.fromCharCode(dev.load(RBR, 1), dev.load(RBR, 1), dev.load(RBR, 1)), 'XYZ');
    assert.equal(dev.load(LSR, 1) & 1, 0);
  });

  it('loops transmitted bytes back into a 16-byte FIFO in loopback mode', () => {
    const { dev, out } = uart();
    dev.store(FCR, 1, 0x07);
    dev.store(MCR, 1, 0x10);
    for (let i = 0; i < 20; i++) dev.store(RBR, 1, i);
    const got: number[] = [];
    const lsr = dev.load(LSR, 1);
    assert.equal(lsr & 0x02, 0x02, 'overrun');
    while (dev.load(LSR, 1) & 1) got.push(dev.load(RBR, 1));
    assert.deepEqual(got, [...Array(16).keys()]);
    dev.flush();
    assert.deepEqual(out, [], 'nothing reaches the console in loopback');
  });

  it('hands output over in one batch per flush', () => {
    const { dev, out } = uart();
    for (const c of Buffer.from('ab\ncd')) dev.store(RBR, 1, c);
    assert.deepEqual(out, []);
    dev.flush();
    dev.flush();
    assert.deepEqual(text(out), ['ab\ncd']);
    dev.store(RBR, 1, 0x65);
    dev.flush();
    assert.deepEqual(text(out), ['ab\ncd', 'e']);
  });
});

describe('SiFive test device (syscon poweroff/reboot)', () => {
  it('reports poweroff, reset and failure codes', () => {
    const events: PowerEvent[] = [];
    const dev = new Syscon((e) => events.push(e));
    assert.equal(dev.load(), 0);
    dev.store(0, 4, 0x1234); // not a command
    dev.store(4, 4, 0x5555); // wrong offset
    dev.store(0, 4, 0x5555);
    dev.store(0, 4, 0x7777);
    dev.store(0, 4, 0x3333 | (5 << 16));
    assert.deepEqual(events, [
      { kind: 'poweroff', code: 0 },
      { kind: 'reset', code: 0 },
      { kind: 'fail', code: 5 },
    ]);
  });
});

// ---- virtio ----

const RAM_BASE = 0x80000000;
class ArrayDma implements Dma {
  readonly mem = new Uint8Array(1 << 20);
  readonly view = new DataView(this.mem.buffer);
  read(paddr: number, len: number): Uint8Array {
    const off = paddr - RAM_BASE;
    if (off < 0 || off + len > this.mem.length) throw new RangeError(`DMA read outside RAM at 0x${paddr.toString(16)}`);
    return this.mem.slice(off, off + len);
  }
  write(paddr: number, data: Uint8Array): void {
    const off = paddr - RAM_BASE;
    if (off < 0 || off + data.length > this.mem.length)
      throw new RangeError(`DMA write outside RAM at 0x${paddr.toString(16)}`);
    this.mem.set(data, off);
  }
}

// virtio-mmio registers
const R = {
  magic: 0x0,
  version: 0x4,
  deviceId: 0x8,
  devFeatures: 0x10,
  devFeaturesSel: 0x14,
  drvFeatures: 0x20,
  drvFeaturesSel: 0x24,
  queueSel: 0x30,
  queueNumMax: 0x34,
  queueNum: 0x38,
  queueReady: 0x44,
  notify: 0x50,
  intStatus: 0x60,
  intAck: 0x64,
  status: 0x70,
  descLo: 0x80,
  descHi: 0x84,
  driverLo: 0x90,
  driverHi: 0x94,
  deviceLo: 0xa0,
  deviceHi: 0xa4,
  config: 0x100,
};
const QUEUE_NUM = 8;
const DESC = 0x0,
  AVAIL = 0x1000,
  USED = 0x2000,
  TABLE = 0x3000,
  BUFS = 0x10000;
type Buf = { addr: number; len: number; write?: boolean };

/** A minimal virtio driver: one split queue in ArrayDma, the way Linux's virtio_mmio + virtio_ring lay it out. */
class Driver {
  readonly dma = new ArrayDma();
  readonly irq = new RecordingIrq();
  readonly dev: VirtioMmio;
  private availIdx = 0;
  private nextBuf = BUFS;

  constructor(
    backend: VirtioBackend,
    private readonly features = 1n << 32n,
  ) {
    this.dev = new VirtioMmio(backend, this.dma, this.irq, 1);
    this.setup();
  }

  /** Linux's probe sequence: negotiate features, set up queue 0, DRIVER_OK. */
  setup(): void {
    const features = this.features;
    this.availIdx = 0;
    this.dma.mem.fill(0, 0, BUFS);
    const r = (o: number): number => this.dev.load(o, 4) >>> 0;
    const w = (o: number, v: number): void => this.dev.store(o, 4, v);
    w(R.status, 1 | 2);
    w(R.drvFeaturesSel, 0);
    w(R.drvFeatures, Number(features & 0xffffffffn));
    w(R.drvFeaturesSel, 1);
    w(R.drvFeatures, Number(features >> 32n));
    w(R.status, 1 | 2 | 8);
    if (!(r(R.status) & 8)) return;
    w(R.queueSel, 0);
    w(R.queueNum, QUEUE_NUM);
    w(R.descLo, RAM_BASE + DESC);
    w(R.descHi, 0);
    w(R.driverLo, RAM_BASE + AVAIL);
    w(R.driverHi, 0);
    w(R.deviceLo, RAM_BASE + USED);
    w(R.deviceHi, 0);
    w(R.queueReady, 1);
    w(R.status, 1 | 2 | 8 | 4);
  }

  /** Guest buffer with `data` (or `len` zero bytes). */
  buffer(data: Uint8Array | number): number {
    const addr = this.nextBuf;
    const bytes = typeof data === 'number' ? new Uint8Array(data) : data;
    this.dma.mem.set(bytes, addr);
    this.nextBuf += (bytes.length + 15) & ~15;
    return RAM_BASE + addr;
  }

  private writeDescs(at: number, bufs: Buf[]): void {
    bufs.forEach((b, i) => {
      const d = at + 16 * i;
      this.dma.view.setBigUint64(d, BigInt(b.addr), true);
      this.dma.view.setUint32(d + 8, b.len, true);
      this.dma.view.setUint16(d + 12, (i < bufs.length - 1 ? 1 : 0) | (b.write ? 2 : 0), true);
      this.dma.view.setUint16(d + 14, i + 1, true);
    });
  }

  /** Put a chain on the avail ring (directly or through one indirect descriptor) and notify. Returns the used element. */
  submit(bufs: Buf[], indirect = false): { id: number; len: number } {
    this.post(bufs, indirect);
    return this.used();
  }

  /** Put a chain on the avail ring and notify, without expecting it served. */
  post(bufs: Buf[], indirect = false): void {
    if (indirect) {
      this.writeDescs(TABLE, bufs);
      this.dma.view.setBigUint64(DESC, BigInt(RAM_BASE + TABLE), true);
      this.dma.view.setUint32(DESC + 8, 16 * bufs.length, true);
      this.dma.view.setUint16(DESC + 12, 4, true);
    } else {
      this.writeDescs(DESC, bufs);
    }
    this.dma.view.setUint16(AVAIL + 4 + 2 * (this.availIdx % QUEUE_NUM), 0, true);
    this.availIdx++;
    this.dma.view.setUint16(AVAIL + 2, this.availIdx, true);
    this.dev.store(R.notify, 4, 0);
  }

  /** The used element of the last chain posted (it must have been served). */
  used(): { id: number; len: number } {
    assert.equal(this.dma.view.getUint16(USED + 2, true), this.availIdx, 'used idx advanced');
    const slot = USED + 4 + 8 * ((this.availIdx - 1) % QUEUE_NUM);
    return { id: this.dma.view.getUint32(slot, true), len: this.dma.view.getUint32(slot + 4, true) };
  }

  /** A virtio-blk request; returns the status byte, the data read (for IN/GET_ID) and the used length. */
  request(
    type: number,
    sector: number,
    data: Uint8Array | number,
    indirect = false,
  ): { status: number; data: Uint8Array; len: number } {
    const header = new DataView(new ArrayBuffer(16));
    header.setUint32(0, type, true);
    header.setBigUint64(8, BigInt(sector), true);
    const hdr = this.buffer(new Uint8Array(header.buffer));
    const dataLen = typeof data === 'number' ? data : data.length;
    const buf = this.buffer(data);
    const status = this.buffer(Uint8Array.of(0xff));
    const writesData = typeof data === 'number';
    const bufs: Buf[] = [{ addr: hdr, len: 16 }];
    if (dataLen) bufs.push({ addr: buf, len: dataLen, write: writesData });
    bufs.push({ addr: status, len: 1, write: true });
    const used = this.submit(bufs, indirect);
    assert.equal(used.id, 0);
    return { status: this.dma.mem[status - RAM_BASE]!, data: this.dma.read(buf, dataLen), len: used.len };
  }
}

const T_IN = 0,
  T_OUT = 1,
  T_FLUSH = 4,
  T_GET_ID = 8;

describe('virtio-mmio + virtio-blk on a copy-on-write disk', () => {
  let dir: string;
  let image: string;
  let original: Buffer;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kwb-vblk-'));
    image = join(dir, 'disk.img');
    original = Buffer.alloc(64 * 512 + 100); // not a whole number of sectors: the tail is padded
    for (let s = 0; s < 65; s++) original.write(`sector ${s}`.padEnd(16, '.'), s * 512, 'latin1');
    writeFileSync(image, original);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('identifies itself and negotiates VERSION_1', () => {
    const disk = new CowDisk(image);
    try {
      const drv = new Driver(new VirtioBlk(disk));
      const r = (o: number): number => drv.dev.load(o, 4) >>> 0;
      assert.equal(r(R.magic), 0x74726976);
      assert.equal(r(R.version), 2);
      assert.equal(r(R.deviceId), 2);
      drv.dev.store(R.devFeaturesSel, 4, 1);
      assert.equal(r(R.devFeatures) & 1, 1, 'VIRTIO_F_VERSION_1');
      assert.equal(r(R.status), 0xf, 'FEATURES_OK accepted, DRIVER_OK');
      assert.equal(r(R.queueNumMax), 256);
      assert.equal(r(R.queueReady), 1);
      // capacity as two 32-bit halves, blk_size, seg_max
      assert.equal(r(R.config) + r(R.config + 4) * 2 ** 32, 65);
      assert.equal(r(R.config + 20), 512);
      assert.equal(drv.dev.load(R.config, 1), 65);
      assert.ok(r(R.config + 12) >= 1);

      const legacy = new Driver(new VirtioBlk(disk), 0n);
      assert.equal(legacy.dev.load(R.status, 4) & 8, 0, 'a driver without VERSION_1 is refused');
      const empty = new VirtioMmio(undefined, new ArrayDma(), new RecordingIrq(), 2);
      assert.equal(empty.load(R.magic, 4), 0x74726976);
      assert.equal(empty.load(R.deviceId, 4), 0, 'an empty slot');
    } finally {
      disk.close();
    }
  });

  it('reads and writes sectors through the queue, never touching the image', () => {
    const disk = new CowDisk(image);
    try {
      const drv = new Driver(new VirtioBlk(disk));
      const read1 = drv.request(T_IN, 1, 1024);
      assert.equal(read1.status, 0);
      assert.equal(read1.len, 1025, 'data and status byte written');
      assert.equal(Buffer.from(read1.data.subarray(0, 16)).toString('latin1'), 'sector 1........');
      assert.equal(Buffer.from(read1.data.subarray(512, 528)).toString('latin1'), 'sector 2........');
      assert.equal(drv.irq.high(1), true, 'used-buffer interrupt');
      assert.equal(drv.dev.load(R.intStatus, 4), 1);
      drv.dev.store(R.intAck, 4, 1);
      assert.equal(drv.irq.high(1), false);

      const payload = new Uint8Array(512 * 3).fill(0x5a);
      payload.set(Buffer.from('written by the guest'), 512);
      const write = drv.request(T_OUT, 7, payload);
      assert.equal(write.status, 0);
      assert.equal(write.len, 1);
      const back = drv.request(T_IN, 6, 512 * 5, true); // through an indirect table
      assert.equal(back.status, 0);
      assert.equal(Buffer.from(back.data.subarray(0, 16)).toString('latin1'), 'sector 6........');
      assert.deepEqual(back.data.subarray(512, 2048), payload);
      assert.equal(Buffer.from(back.data.subarray(2048, 2064)).toString('latin1'), 'sector 10.......');

      const tail = drv.request(T_IN, 64, 512);
      assert.equal(Buffer.from(tail.data.subarray(0, 16)).toString('latin1'), 'sector 64.......');
      assert.deepEqual(tail.data.subarray(100), new Uint8Array(412), 'padded past the end of the file');

      assert.equal(drv.request(T_FLUSH, 0, 0).status, 0);
      const id = drv.request(T_GET_ID, 0, 20);
      assert.equal(id.status, 0);
      assert.equal(Buffer.from(id.data).toString('latin1').replace(/\0+$/, ''), 'kwb-disk');
      assert.equal(drv.request(T_IN, 64, 1024).status, 1, 'past the end: I/O error');
      assert.equal(drv.request(99, 0, 0).status, 2, 'unsupported request');
      assert.ok(disk.overlayBytes > 0);
    } finally {
      disk.close();
    }
    assert.deepEqual(readFileSync(image), original, 'the base image is unchanged');
    const fresh = new CowDisk(image);
    try {
      assert.equal(
        Buffer.from(fresh.read(8, 1).subarray(0, 16)).toString('latin1'),
        'sector 8........',
        'writes lived in memory only',
      );
    } finally {
      fresh.close();
    }
    assert.throws(() => fresh.read(0, 1), /closed/);
  });

  it('asks for a reset on a malformed chain and recovers after one', () => {
    const disk = new CowDisk(image);
    try {
      const blk = new VirtioBlk(disk);
      const drv = new Driver(blk);
      const dma = drv.dma;
      // a descriptor pointing at itself
      dma.view.setBigUint64(DESC, BigInt(RAM_BASE + BUFS), true);
      dma.view.setUint32(DESC + 8, 16, true);
      dma.view.setUint16(DESC + 12, 1, true);
      dma.view.setUint16(DESC + 14, 0, true);
      dma.view.setUint16(AVAIL + 2, 1, true);
      drv.dev.store(R.notify, 4, 0);
      assert.equal(drv.dev.load(R.status, 4) & 0x40, 0x40, 'DEVICE_NEEDS_RESET');
      assert.equal(drv.dev.load(R.intStatus, 4) & 2, 2, 'configuration-change interrupt');
      drv.dev.store(R.status, 4, 0);
      assert.equal(drv.dev.load(R.status, 4), 0);
      assert.equal(drv.irq.high(1), false);
      drv.setup();
      assert.equal(drv.request(T_IN, 3, 512).status, 0, 'works again after the reset');
      // an avail index more than a ring's worth ahead of the device
      dma.view.setUint16(AVAIL + 2, 1 + QUEUE_NUM + 1, true);
      drv.dev.store(R.notify, 4, 0);
      assert.equal(drv.dev.load(R.status, 4) & 0x40, 0x40);
    } finally {
      disk.close();
    }
  });
});

describe('virtio-net', () => {
  const frame = (n: number): Uint8Array => Uint8Array.from({ length: 60 }, (_, i) => (i === 59 ? n : i));

  it('holds a frame from the host until the driver posts a receive buffer, then fills it and interrupts', () => {
    const sent: Uint8Array[] = [];
    const net = new VirtioNet('02:6b:00:00:00:01', (f) => sent.push(f));
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => net.readConfig(i, 1)),
      [2, 0x6b, 0, 0, 0, 1],
    );
    const drv = new Driver(net);
    const buf = drv.buffer(1526);
    drv.post([{ addr: buf, len: 1526, write: true }]);
    assert.equal(drv.dma.view.getUint16(USED + 2, true), 0, 'nothing to receive: the buffer waits');
    assert.equal(drv.irq.high(1), false);
    net.receive(frame(7));
    drv.dev.kick(RX_QUEUE);
    assert.deepEqual(drv.used(), { id: 0, len: 12 + 60 });
    assert.equal(drv.irq.high(1), true);
    const got = drv.dma.read(buf, 72);
    assert.equal(got[10], 1, 'num_buffers');
    assert.deepEqual(got.subarray(12), frame(7));
    assert.deepEqual(sent, []);
  });

  it('sends what the guest transmits once per timeline: a replay after restore() does not send it again', () => {
    const sent: number[] = [];
    const net = new VirtioNet('02:6b:00:00:00:02', (f) => sent.push(f[59]!));
    const dma = new ArrayDma();
    const tx = (n: number): void => {
      dma.write(RAM_BASE, new Uint8Array(12));
      dma.write(RAM_BASE + 12, frame(n));
      assert.equal(net.handle(1, new DescriptorChain(dma, [{ addr: RAM_BASE, len: 72 }], [])), 0);
    };
    tx(1);
    const before = net.save();
    net.receive(frame(9));
    tx(2);
    net.restore(before);
    tx(2); // the replay of the same transmission
    tx(3);
    assert.deepEqual(sent, [1, 2, 3]);
    // the frame that arrived after the snapshot is gone with it: the replay gets it again from the recording
    assert.equal(net.handle(RX_QUEUE, new DescriptorChain(dma, [], [{ addr: RAM_BASE, len: 1526 }])), undefined);
  });
});
