// Flattened device tree (DTB) writer: the machine describes itself to the kernel and to OpenSBI with it.
// Format: devicetree specification v0.4, chapter 5 (header, memory reservation block, structure block, strings).

/** A property value: a string, a string list, 32-bit cells, or raw bytes (64-bit values go in as two cells). */
export type FdtValue = string | string[] | number | number[] | Uint8Array | true;

export interface FdtNode {
  name: string;
  props?: Record<string, FdtValue>;
  children?: FdtNode[];
}

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_END = 9;
const HEADER_SIZE = 40;

/** Cells for a 64-bit value (high, low), e.g. in `reg` with #address-cells = 2. */
export function cells64(v: number): [number, number] {
  return [Math.floor(v / 0x100000000), v >>> 0];
}

function encodeValue(v: FdtValue): Uint8Array {
  if (v === true) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v + '\0', 'utf8');
  if (typeof v === 'number') v = [v];
  if (typeof v[0] === 'string' || v.length === 0)
    return Buffer.from((v as string[]).map((s) => s + '\0').join(''), 'utf8');
  const cells = v as number[];
  const out = Buffer.alloc(cells.length * 4);
  cells.forEach((c, i) => out.writeUInt32BE(c >>> 0, i * 4));
  return out;
}

/** Serialize a tree (the root node's name is ignored) to a DTB blob. */
export function buildFdt(root: FdtNode, bootCpu = 0): Uint8Array {
  const struct: Buffer[] = [];
  const strings: string[] = [];
  const stringOffset = new Map<string, number>();
  let stringsSize = 0;
  const word = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    struct.push(b);
  };
  const padded = (b: Uint8Array) => {
    struct.push(Buffer.from(b));
    const pad = (4 - (b.length % 4)) % 4;
    if (pad) struct.push(Buffer.alloc(pad));
  };
  const nameOffset = (name: string) => {
    let off = stringOffset.get(name);
    if (off === undefined) {
      off = stringsSize;
      stringOffset.set(name, off);
      strings.push(name);
      stringsSize += Buffer.byteLength(name) + 1;
    }
    return off;
  };
  const emit = (node: FdtNode, isRoot: boolean) => {
    word(FDT_BEGIN_NODE);
    padded(Buffer.from((isRoot ? '' : node.name) + '\0', 'utf8'));
    for (const [name, value] of Object.entries(node.props ?? {})) {
      const data = encodeValue(value);
      word(FDT_PROP);
      word(data.length);
      word(nameOffset(name));
      padded(data);
    }
    for (const child of node.children ?? []) emit(child, false);
    word(FDT_END_NODE);
  };
  emit(root, true);
  word(FDT_END);

  const structBlock = Buffer.concat(struct);
  const stringsBlock = Buffer.from(strings.map((s) => s + '\0').join(''), 'utf8');
  const rsvmap = Buffer.alloc(16); // one terminating (0, 0) entry: no reserved regions
  const offRsv = HEADER_SIZE;
  const offStruct = offRsv + rsvmap.length;
  const offStrings = offStruct + structBlock.length;
  const total = offStrings + stringsBlock.length;
  const header = Buffer.alloc(HEADER_SIZE);
  [FDT_MAGIC, total, offStruct, offStrings, offRsv, 17, 16, bootCpu, stringsBlock.length, structBlock.length].forEach(
    (v, i) => header.writeUInt32BE(v >>> 0, i * 4),
  );
  return new Uint8Array(Buffer.concat([header, rsvmap, structBlock, stringsBlock]));
}
