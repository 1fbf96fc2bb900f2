// RSP framing: `$payload#cs`, acks (`+`/`-`), `^C` (0x03) out of band, escaping (`}` then byte ^ 0x20) and run-length
// encoding (`X*n`: X repeated n - 29 more times). Used in both directions: by the stub (reading gdb's packets) and by
// the proxy (reading gdbserver's replies, which are often run-length encoded).
//
// The reader never throws and never grows without bound: a packet whose raw or decoded size passes the limit is
// skipped to its end and reported as 'overflow'; a bad checksum is reported as 'bad' (the caller answers `-`).

export type PacketEvent =
  | {
      type: 'packet';
      data: Buffer;
      /** the body as it was on the wire (escaped, run-length encoded) */ raw: Buffer;
      cs: number;
    }
  | { type: 'ack' }
  | { type: 'nak' }
  | { type: 'interrupt' }
  | { type: 'bad' }
  | { type: 'overflow' };

const DOLLAR = 0x24;
const HASH = 0x23;
const ESCAPE = 0x7d;
const STAR = 0x2a;

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Decode a raw packet body: escapes and run-length encoding. Returns undefined when malformed or too long. */
export function decodeBody(raw: Buffer, limit: number): Buffer | undefined {
  let esc = raw.indexOf(ESCAPE);
  let star = raw.indexOf(STAR);
  // fast path: nothing to decode
  if (esc < 0 && star < 0) return raw.length <= limit ? raw : undefined;
  let out = Buffer.allocUnsafe(Math.min(limit, raw.length * 2 + 64));
  let n = 0;
  const len = raw.length;
  const room = (extra: number): boolean => {
    if (n + extra <= out.length) return true;
    if (n + extra > limit) return false;
    const bigger = Buffer.allocUnsafe(Math.min(limit, Math.max(out.length * 2, n + extra)));
    out.copy(bigger, 0, 0, n);
    out = bigger;
    return true;
  };
  let i = 0;
  while (i < len) {
    if (esc >= 0 && esc < i) esc = raw.indexOf(ESCAPE, i);
    if (star >= 0 && star < i) star = raw.indexOf(STAR, i);
    const next = esc < 0 ? star : star < 0 ? esc : Math.min(esc, star);
    const stop = next < 0 ? len : next;
    // copy the plain run natively
    if (stop > i) {
      if (!room(stop - i)) return undefined;
      raw.copy(out, n, i, stop);
      n += stop - i;
      i = stop;
    }
    if (next < 0) break;
    if (i + 1 >= len) return undefined; // truncated escape or run
    if (raw[i] === ESCAPE) {
      if (!room(1)) return undefined;
      out[n++] = raw[i + 1]! ^ 0x20;
    } else {
      const count = raw[i + 1]! - 29;
      if (n === 0 || count < 3 || count > 97) return undefined;
      if (!room(count)) return undefined;
      out.fill(out[n - 1]!, n, n + count);
      n += count;
    }
    i += 2;
  }
  return out.subarray(0, n);
}

export function checksum(buf: Buffer, start = 0, end = buf.length): number {
  let sum = 0;
  let i = start;
  // four at a time: this runs over every byte of every packet
  for (; i + 4 <= end; i += 4) sum += buf[i]! + buf[i + 1]! + buf[i + 2]! + buf[i + 3]!;
  for (; i < end; i++) sum += buf[i]!;
  return sum & 0xff;
}

/** Escape the bytes that may not appear raw in a packet body ($ # } *), for binary payloads. */
export function escapeBinary(data: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === DOLLAR || c === HASH || c === ESCAPE || c === STAR) extra++;
  }
  if (extra === 0) return Buffer.from(data.buffer, data.byteOffset, data.length);
  const out = Buffer.allocUnsafe(data.length + extra);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === DOLLAR || c === HASH || c === ESCAPE || c === STAR) {
      out[n++] = ESCAPE;
      out[n++] = c ^ 0x20;
    } else out[n++] = c;
  }
  return out;
}

/** A packet that is framed already: sent as it is (a relay passing its server's reply through). */
export interface Framed {
  framed: Buffer;
}

/** Frame wire-form bodies (escaped / run-length encoded as received) back to back, given their checksums: a
 *  concatenation of valid bodies is a valid body, and its checksum is the sum of theirs. */
export function frameRaw(bodies: { raw: Buffer; cs: number }[]): Framed {
  let cs = 0;
  let len = 0;
  for (const b of bodies) {
    cs += b.cs;
    len += b.raw.length;
  }
  const out = Buffer.allocUnsafe(len + 4);
  out[0] = DOLLAR;
  let n = 1;
  for (const b of bodies) n += b.raw.copy(out, n);
  out[n] = HASH;
  out.write((cs & 0xff).toString(16).padStart(2, '0'), n + 1, 'latin1');
  return { framed: out };
}

/** Frame a payload as `$payload#cs`. The payload must already be escaped if it is binary. */
export function frame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const out = Buffer.allocUnsafe(body.length + 4);
  out[0] = DOLLAR;
  body.copy(out, 1);
  out[body.length + 1] = HASH;
  out.write(checksum(body).toString(16).padStart(2, '0'), body.length + 2, 'latin1');
  return out;
}

export interface ReaderOptions {
  /** Upper bound for a raw (on the wire) packet body. */
  maxRaw?: number;
  /** Upper bound for a decoded packet. */
  maxDecoded?: number;
  /** Whether to verify checksums right now (a relay skips it in no-ack mode: the transport is reliable then). */
  verify?: () => boolean;
}

const enum State {
  Idle,
  Body,
  Cs1,
  Cs2,
  Skip, // oversized packet: discard through '#xx'
  SkipCs1,
  SkipCs2,
}

/** Incremental packet reader: feed it bytes as they arrive, get events back. */
export class PacketReader {
  private state = State.Idle;
  private chunks: Buffer[] = [];
  private rawLen = 0;
  private cs = 0;
  private readonly maxRaw: number;
  private readonly maxDecoded: number;
  private readonly verify?: () => boolean;

  constructor(
    private readonly emit: (ev: PacketEvent) => void,
    opts: ReaderOptions = {},
  ) {
    this.maxRaw = opts.maxRaw ?? 256 * 1024;
    this.maxDecoded = opts.maxDecoded ?? 1024 * 1024;
    this.verify = opts.verify;
  }

  /** Forget any partial packet (e.g. when a connection ends). */
  reset(): void {
    this.state = State.Idle;
    this.chunks = [];
    this.rawLen = 0;
  }

  feed(buf: Buffer): void {
    let i = 0;
    const len = buf.length;
    while (i < len) {
      switch (this.state) {
        case State.Idle: {
          // between packets: acks, ^C and noise
          for (; i < len; i++) {
            const c = buf[i]!;
            if (c === DOLLAR) {
              this.state = State.Body;
              this.chunks = [];
              this.rawLen = 0;
              i++;
              break;
            }
            if (c === 0x2b) this.emit({ type: 'ack' });
            else if (c === 0x2d) this.emit({ type: 'nak' });
            else if (c === 0x03) this.emit({ type: 'interrupt' });
            // anything else between packets is ignored
          }
          break;
        }
        case State.Body: {
          const end = buf.indexOf(HASH, i);
          const stop = end < 0 ? len : end;
          // a '$' inside a body means the previous packet was truncated: restart there
          const restart = buf.indexOf(DOLLAR, i);
          if (restart >= 0 && restart < stop) {
            this.chunks = [];
            this.rawLen = 0;
            this.emit({ type: 'bad' });
            i = restart + 1;
            break;
          }
          if (this.rawLen + (stop - i) > this.maxRaw) {
            this.chunks = [];
            this.rawLen = 0;
            this.state = State.Skip;
            break;
          }
          if (stop > i) {
            this.chunks.push(buf.subarray(i, stop));
            this.rawLen += stop - i;
          }
          i = stop;
          if (end >= 0) {
            this.state = State.Cs1;
            i++;
          }
          break;
        }
        case State.Cs1:
        case State.Cs2: {
          const v = hexVal(buf[i]!);
          if (v < 0) {
            // not a checksum digit: a broken packet; resynchronise on what follows
            this.emit({ type: 'bad' });
            this.chunks = [];
            this.state = State.Idle;
            break; // re-examine this byte in Idle
          }
          i++;
          if (this.state === State.Cs1) {
            this.cs = v << 4;
            this.state = State.Cs2;
          } else {
            this.cs |= v;
            this.finish();
          }
          break;
        }
        case State.Skip: {
          const end = buf.indexOf(HASH, i);
          if (end < 0) {
            i = len;
          } else {
            i = end + 1;
            this.state = State.SkipCs1;
          }
          break;
        }
        case State.SkipCs1:
          i++;
          this.state = State.SkipCs2;
          break;
        case State.SkipCs2:
          i++;
          this.state = State.Idle;
          this.emit({ type: 'overflow' });
          break;
      }
    }
  }

  private finish(): void {
    const single = this.chunks.length === 1;
    const raw = single ? this.chunks[0]! : Buffer.concat(this.chunks, this.rawLen);
    this.chunks = [];
    this.state = State.Idle;
    if ((!this.verify || this.verify()) && checksum(raw) !== this.cs) {
      this.emit({ type: 'bad' });
      return;
    }
    const data = decodeBody(raw, this.maxDecoded);
    if (!data) {
      this.emit({ type: 'overflow' });
      return;
    }
    // copy: the chunk may be a view into a buffer the stream reuses
    // copy: a single chunk is a view into a buffer the stream may reuse
    const body = single ? Buffer.from(raw) : raw;
    this.emit({ type: 'packet', data: data === raw ? body : data, raw: body, cs: this.cs });
  }
}

// ---- small helpers for payloads ----

export function toHex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.length).toString('hex');
}

/** Strict hex decode: undefined for odd length or non-hex characters. */
export function fromHex(text: string): Buffer | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

export function hexText(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** Parse a hex number as a bigint; undefined when malformed or absurdly long. */
export function parseHexBig(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,32}$/.test(text)) return undefined;
  return BigInt('0x' + text);
}

/** Parse a hex number that must fit a safe integer. */
export function parseHexInt(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,13}$/.test(text)) return undefined;
  return Number.parseInt(text, 16);
}

export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
