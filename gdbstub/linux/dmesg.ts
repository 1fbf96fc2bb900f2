// The kernel log from guest memory: the lockless printk ring buffer of 5.10+ (kernel/printk/printk_ringbuffer.h),
// read the way the kernel's own lx-dmesg reads it and printed in the same text, so the two can be compared.
import type { Offsets } from './offsets.js';
import type { ReadMemory } from './tasks.js';

export const DMESG_REQUIRED = [
  'prb',
  'prb.desc_ring',
  'prb.text_data_ring',
  'prb.size',
  'desc_ring.count_bits',
  'desc_ring.descs',
  'desc_ring.infos',
  'desc_ring.head_id',
  'desc_ring.tail_id',
  'desc.size',
  'desc.state_var',
  'desc.text_blk_lpos.begin',
  'desc.text_blk_lpos.next',
  'info.size',
  'info.ts_nsec',
  'info.text_len',
  'data_ring.size_bits',
  'data_ring.data',
];

// descriptor states live in the top two bits of state_var (64-bit longs)
const DESC_FLAGS_SHIFT = 62n;
const DESC_ID_MASK = (1n << DESC_FLAGS_SHIFT) - 1n;
const DESC_COMMITTED = 1n;
const DESC_FINALIZED = 2n;

const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Python's str.splitlines(), which lx-dmesg uses: these are its line boundaries. */
function splitLines(text: string): string[] {
  // eslint-disable-next-line no-control-regex -- Python's line boundaries include the ASCII separators
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Records between two ring indexes, read as one or two spans (the ring may wrap). */
async function readRing(
  read: ReadMemory,
  base: bigint,
  itemSize: number,
  count: number,
  first: number,
  n: number,
): Promise<Buffer> {
  const firstPart = Math.min(n, count - first);
  const a = buf(await read(base + BigInt(first * itemSize), firstPart * itemSize));
  if (firstPart === n) return a;
  const b = buf(await read(base, (n - firstPart) * itemSize));
  return Buffer.concat([a, b]);
}

export async function readDmesg(o: Offsets, read: ReadMemory): Promise<string> {
  const prbAddr = buf(await read(o.get('prb'), 8)).readBigUInt64LE(0);
  const prb = buf(await read(prbAddr, o.n('prb.size')));
  const ring = o.n('prb.desc_ring');
  const count = 1 << prb.readUInt32LE(ring + o.n('desc_ring.count_bits'));
  const descs = prb.readBigUInt64LE(ring + o.n('desc_ring.descs'));
  const infos = prb.readBigUInt64LE(ring + o.n('desc_ring.infos'));
  const headId = prb.readBigUInt64LE(ring + o.n('desc_ring.head_id'));
  const tailId = prb.readBigUInt64LE(ring + o.n('desc_ring.tail_id'));
  const data = o.n('prb.text_data_ring');
  const textSize = 1 << prb.readUInt32LE(data + o.n('data_ring.size_bits'));
  const textAddr = prb.readBigUInt64LE(data + o.n('data_ring.data'));

  const descSize = o.n('desc.size');
  const infoSize = o.n('info.size');
  const records = Number((headId - tailId) & DESC_ID_MASK) + 1;
  if (records > count) throw new Error('the printk ring buffer is inconsistent');
  const first = Number(tailId % BigInt(count));
  const descBytes = await readRing(read, descs, descSize, count, first, records);
  const infoBytes = await readRing(read, infos, infoSize, count, first, records);
  const text = buf(await read(textAddr, textSize));

  let out = '';
  for (let i = 0; i < records; i++) {
    const desc = descBytes.subarray(i * descSize, (i + 1) * descSize);
    const info = infoBytes.subarray(i * infoSize, (i + 1) * infoSize);
    const state = (desc.readBigUInt64LE(o.n('desc.state_var')) >> DESC_FLAGS_SHIFT) & 3n;
    if (state !== DESC_COMMITTED && state !== DESC_FINALIZED) continue;
    let begin = Number(desc.readBigUInt64LE(o.n('desc.text_blk_lpos.begin')) % BigInt(textSize));
    const end = Number(desc.readBigUInt64LE(o.n('desc.text_blk_lpos.next')) % BigInt(textSize));
    let message = '';
    if ((begin & 1) === 0) {
      // a block that wraps starts again at the beginning of the data ring; each block opens with its descriptor id
      if (begin > end) begin = 0;
      const textStart = begin + 8;
      const length = Math.max(0, Math.min(info.readUInt16LE(o.n('info.text_len')), end - textStart));
      message = text.subarray(textStart, textStart + length).toString('utf8');
    }
    const seconds = (Number(info.readBigUInt64LE(o.n('info.ts_nsec'))) / 1e9).toFixed(6).padStart(12);
    for (const line of splitLines(message)) out += `[${seconds}] ${line}\n`;
  }
  return out;
}
