// A recording file (`kwb boot --record FILE`, read by `kwb replay FILE`): everything needed to run a recorded rv64
// boot again, instruction for instruction, on another machine: the kernel, initramfs and firmware themselves
// (compressed), the command line and memory size, every input the host gave, stamped with its instruction count,
// and how the run ended (instruction count, result, a digest of its console) so the replay can tell it matched.
//
// Layout (format 1, integers little-endian):
//   "KWB-REC\n"             8 bytes of magic
//   u32 format              1
//   u32 H                   length of the header
//   header                  H bytes of JSON (RecordHeader)
//   sections                in the header's order, each gzip-compressed: `bytes` long in the file, `size` and
//                           `sha256` of its contents
// The input section is a sequence of: f64 instruction count, u8 kind (0 console bytes: u32 length, the bytes;
// 1 time: f64 timer ticks).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, fstatSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { KwbError, type GuestResult } from '../results.js';
import type { HostInput } from './machine.js';
import type { StampedInput } from './recording.js';

const MAGIC = Buffer.from('KWB-REC\n', 'latin1');
export const RECORD_FORMAT = 1;
const PREAMBLE = MAGIC.length + 8;
/** A header is a few hundred bytes; anything far larger is not one. */
const MAX_HEADER = 1 << 20;

/** A file the machine boots from, by name (as given when recording) and contents. */
export interface MediaFile {
  name: string;
  bytes: Uint8Array;
}

/** What the machine is started from: the same for a boot and its replay. */
export interface BootMedia {
  kernel: MediaFile;
  initrd?: MediaFile;
  firmware?: MediaFile;
  bootargs: string;
  memBytes: number;
}

/** How the recorded run ended, to compare a replay with. */
export interface RecordedEnd {
  /** Instructions the machine retired. */
  instructions: number;
  result: GuestResult;
  console: ConsoleDigest;
}

export interface ConsoleDigest {
  bytes: number;
  sha256: string;
}

/** A recorded boot, as written and read. */
export interface RecordedBoot {
  media: BootMedia;
  /** The kernel's symbols where the recording was made (not embedded: the replay looks for them, or is given them). */
  symbols?: { vmlinux: string; buildId?: string };
  inputs: StampedInput[];
  end: RecordedEnd;
}

type SectionName = 'kernel' | 'initrd' | 'firmware' | 'inputs';

interface SectionEntry {
  name: SectionName;
  /** Compressed length in the file. */
  bytes: number;
  size: number;
  sha256: string;
}

interface RecordHeader {
  bootargs: string;
  memBytes: number;
  names: { kernel: string; initrd?: string; firmware?: string };
  symbols?: RecordedBoot['symbols'];
  end: RecordedEnd;
  inputs: number;
  sections: SectionEntry[];
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

function encodeInputs(inputs: readonly StampedInput[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const { at, input } of inputs) {
    const stamp = Buffer.alloc(8);
    stamp.writeDoubleLE(at, 0);
    if (input.kind === 'console') {
      const head = Buffer.alloc(5);
      head.writeUInt8(0, 0);
      head.writeUInt32LE(input.bytes.length, 1);
      parts.push(stamp, head, Buffer.from(input.bytes));
    } else if (input.kind === 'time') {
      const head = Buffer.alloc(9);
      head.writeUInt8(1, 0);
      head.writeDoubleLE(input.ticks, 1);
      parts.push(stamp, head);
    } else {
      const head = Buffer.alloc(6);
      head.writeUInt8(2, 0);
      head.writeUInt8(input.nic, 1);
      head.writeUInt32LE(input.frame.length, 2);
      parts.push(stamp, head, Buffer.from(input.frame));
    }
  }
  return Buffer.concat(parts);
}

function decodeInputs(data: Buffer, file: string): StampedInput[] {
  const inputs: StampedInput[] = [];
  let o = 0;
  const need = (n: number) => {
    if (o + n > data.length) throw damaged(file, 'its input log ends mid-entry');
  };
  while (o < data.length) {
    need(9);
    const at = data.readDoubleLE(o);
    const kind = data.readUInt8(o + 8);
    o += 9;
    let input: HostInput;
    if (kind === 0) {
      need(4);
      const len = data.readUInt32LE(o);
      need(4 + len);
      input = { kind: 'console', bytes: Uint8Array.from(data.subarray(o + 4, o + 4 + len)) };
      o += 4 + len;
    } else if (kind === 1) {
      need(8);
      input = { kind: 'time', ticks: data.readDoubleLE(o) };
      o += 8;
    } else if (kind === 2) {
      need(5);
      const nic = data.readUInt8(o);
      const len = data.readUInt32LE(o + 1);
      need(5 + len);
      input = { kind: 'frame', nic, frame: Uint8Array.from(data.subarray(o + 5, o + 5 + len)) };
      o += 5 + len;
    } else throw damaged(file, `its input log has an entry of unknown kind ${kind}`);
    const last = inputs[inputs.length - 1];
    if (!Number.isFinite(at) || at < 0 || (last && at < last.at)) throw damaged(file, 'its input log is out of order');
    inputs.push({ at, input });
  }
  return inputs;
}

const damaged = (file: string, why: string) =>
  new KwbError(`${file} is a damaged kwb recording (${why}); record the boot again`);

/** Write `rec` to `path` (through a temporary file beside it, so a failed write leaves no half file). Returns the
 *  file's size. */
export function writeRecordFile(path: string, rec: RecordedBoot): number {
  const contents: [SectionName, Uint8Array | undefined][] = [
    ['kernel', rec.media.kernel.bytes],
    ['initrd', rec.media.initrd?.bytes],
    ['firmware', rec.media.firmware?.bytes],
    ['inputs', encodeInputs(rec.inputs)],
  ];
  const sections: SectionEntry[] = [];
  const blobs: Buffer[] = [];
  for (const [name, data] of contents) {
    if (!data) continue;
    const blob = gzipSync(data);
    blobs.push(blob);
    sections.push({ name, bytes: blob.length, size: data.length, sha256: sha256(data) });
  }
  const { media } = rec;
  const header: RecordHeader = {
    bootargs: media.bootargs,
    memBytes: media.memBytes,
    names: {
      kernel: basename(media.kernel.name),
      initrd: media.initrd && basename(media.initrd.name),
      firmware: media.firmware && basename(media.firmware.name),
    },
    symbols: rec.symbols,
    end: rec.end,
    inputs: rec.inputs.length,
    sections,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const preamble = Buffer.alloc(PREAMBLE);
  MAGIC.copy(preamble);
  preamble.writeUInt32LE(RECORD_FORMAT, MAGIC.length);
  preamble.writeUInt32LE(json.length, MAGIC.length + 4);
  const all = Buffer.concat([preamble, json, ...blobs]);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, all);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return all.length;
}

/** Read a recording file; a one-line KwbError (exit 2) when it is missing, not one, from a newer kwb, cut short or
 *  damaged. */
export function readRecordFile(file: string): RecordedBoot {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new KwbError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}; check the path`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new KwbError(`${file} is not a file; give a recording made by kwb boot --record FILE`);
    const read = (at: number, len: number): Buffer => {
      const buf = Buffer.alloc(len);
      const n = readSync(fd, buf, 0, len, at);
      return buf.subarray(0, n);
    };
    const preamble = read(0, PREAMBLE);
    if (preamble.length < MAGIC.length || !preamble.subarray(0, MAGIC.length).equals(MAGIC))
      throw new KwbError(`${file} is not a kwb recording; give a file made by kwb boot --record FILE`);
    if (preamble.length < PREAMBLE) throw truncated(file);
    const format = preamble.readUInt32LE(MAGIC.length);
    if (format !== RECORD_FORMAT)
      throw new KwbError(
        `${file} is a kwb recording of format ${format}; this kwb reads format ${RECORD_FORMAT}: replay it with the kwb that made it`,
      );
    const headerLen = preamble.readUInt32LE(MAGIC.length + 4);
    if (headerLen > MAX_HEADER) throw damaged(file, 'its header is too long');
    const headerBytes = read(PREAMBLE, headerLen);
    if (headerBytes.length < headerLen) throw truncated(file);
    const header = parseHeader(headerBytes, file);
    const total = PREAMBLE + headerLen + header.sections.reduce((sum, s) => sum + s.bytes, 0);
    if (stat.size < total) throw truncated(file);
    if (stat.size > total) throw damaged(file, `${stat.size - total} bytes after its end`);
    const data = new Map<SectionName, Buffer>();
    let at = PREAMBLE + headerLen;
    for (const s of header.sections) {
      let contents: Buffer;
      try {
        contents = gunzipSync(read(at, s.bytes));
      } catch {
        throw damaged(file, `its ${s.name} does not decompress`);
      }
      if (contents.length !== s.size || sha256(contents) !== s.sha256)
        throw damaged(file, `its ${s.name} does not match its checksum`);
      data.set(s.name, contents);
      at += s.bytes;
    }
    const kernel = data.get('kernel');
    if (!kernel) throw damaged(file, 'it holds no kernel');
    const media = (name: SectionName, fileName: string | undefined): MediaFile | undefined => {
      const bytes = data.get(name);
      return bytes && { name: fileName ?? name, bytes };
    };
    const inputs = decodeInputs(data.get('inputs') ?? Buffer.alloc(0), file);
    if (inputs.length !== header.inputs) throw damaged(file, 'its input log does not match its header');
    return {
      media: {
        kernel: { name: header.names.kernel, bytes: kernel },
        initrd: media('initrd', header.names.initrd),
        firmware: media('firmware', header.names.firmware),
        bootargs: header.bootargs,
        memBytes: header.memBytes,
      },
      symbols: header.symbols,
      inputs,
      end: header.end,
    };
  } finally {
    closeSync(fd);
  }
}

const truncated = (file: string) =>
  new KwbError(`${file} is a kwb recording cut short (truncated); copy the whole file again`);

function parseHeader(bytes: Buffer, file: string): RecordHeader {
  let h: RecordHeader;
  try {
    h = JSON.parse(bytes.toString('utf8')) as RecordHeader;
  } catch {
    throw damaged(file, 'its header is not JSON');
  }
  const num = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  const ok =
    typeof h === 'object' &&
    h !== null &&
    typeof h.bootargs === 'string' &&
    num(h.memBytes) &&
    typeof h.names?.kernel === 'string' &&
    num(h.end?.instructions) &&
    typeof h.end?.result?.kind === 'string' &&
    num(h.end?.console?.bytes) &&
    typeof h.end?.console?.sha256 === 'string' &&
    num(h.inputs) &&
    Array.isArray(h.sections) &&
    h.sections.every(
      (s) =>
        ['kernel', 'initrd', 'firmware', 'inputs'].includes(s?.name) &&
        num(s.bytes) &&
        num(s.size) &&
        typeof s.sha256 === 'string',
    );
  if (!ok) throw damaged(file, 'its header lacks fields this kwb needs');
  return h;
}

/** The sha256 and length of a console transcript as it is produced. */
export class ConsoleHash {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  digest(): ConsoleDigest {
    return { bytes: this.bytes, sha256: this.hash.copy().digest('hex') };
  }
}
