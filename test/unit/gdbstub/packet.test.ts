// RSP framing: checksums, acks, ^C, escapes, run-length decoding, limits, resynchronisation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checksum,
  decodeBody,
  escapeBinary,
  frame,
  frameRaw,
  fromHex,
  PacketReader,
  type PacketEvent,
} from '../../../gdbstub/packet.js';

function read(input: (string | Buffer)[], opts = {}): PacketEvent[] {
  const events: PacketEvent[] = [];
  const r = new PacketReader((e) => events.push(e), opts);
  for (const chunk of input) r.feed(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  return events;
}

const packets = (evs: PacketEvent[]) =>
  evs.filter((e) => e.type === 'packet').map((e) => (e as { data: Buffer }).data.toString('latin1'));
const types = (evs: PacketEvent[]) => evs.map((e) => e.type);

describe('packet framing', () => {
  it('frames with a two-digit lowercase checksum', () => {
    assert.equal(frame('OK').toString(), '$OK#9a');
    assert.equal(frame('').toString(), '$#00');
    assert.equal(
      frame('qSupported').toString(),
      `$qSupported#${checksum(Buffer.from('qSupported')).toString(16).padStart(2, '0')}`,
    );
  });

  it('reads packets, acks, naks and ^C between packets', () => {
    const evs = read(['+$g#67-', Buffer.from([3]), '$m0,4#fd+']);
    assert.deepEqual(types(evs), ['ack', 'packet', 'nak', 'interrupt', 'packet', 'ack']);
    assert.deepEqual(packets(evs), ['g', 'm0,4']);
  });

  it('reassembles a packet split at every byte', () => {
    const whole = frame('qXfer:features:read:target.xml:0,ffb').toString('latin1');
    const evs = read(whole.split(''));
    assert.deepEqual(packets(evs), ['qXfer:features:read:target.xml:0,ffb']);
  });

  it('reports a bad checksum and goes on with the next packet', () => {
    const evs = read(['$g#00$g#67']);
    assert.deepEqual(types(evs), ['bad', 'packet']);
  });

  it('accepts upper-case checksum digits', () => {
    assert.deepEqual(packets(read(['$OK#9A'])), ['OK']);
  });

  it('a non-hex checksum digit is bad, and the byte is looked at again', () => {
    const evs = read(['$g#6$g#67']);
    assert.deepEqual(types(evs), ['bad', 'packet']);
  });

  it('a $ inside a body restarts (the earlier packet was cut off)', () => {
    const evs = read(['$m12,$g#67']);
    assert.deepEqual(types(evs), ['bad', 'packet']);
    assert.deepEqual(packets(evs), ['g']);
  });

  it('a 0x03 inside a packet body is data (binary X payloads), not an interrupt', () => {
    const body = Buffer.concat([Buffer.from('X10,1:'), Buffer.from([3])]);
    const evs = read([frame(body)]);
    assert.deepEqual(types(evs), ['packet']);
  });

  it('drops garbage between packets', () => {
    assert.deepEqual(packets(read(['hello world\n\x00\xff$g#67'])), ['g']);
  });

  it('skips a packet over the raw limit to its end and reports overflow, then reads on', () => {
    const big = '$' + 'a'.repeat(5000) + '#00';
    const evs = read([big.slice(0, 2000), big.slice(2000), '$g#67'], { maxRaw: 1024 });
    assert.deepEqual(types(evs), ['overflow', 'packet']);
  });

  it('checksums are not verified when the caller says so (no-ack relay)', () => {
    assert.deepEqual(types(read(['$g#00'], { verify: () => false })), ['packet']);
  });
});

describe('escapes and run-length encoding', () => {
  it('unescapes } sequences', () => {
    const raw = Buffer.from([0x61, 0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a]); // a } $ # } *
    assert.deepEqual([...decodeBody(raw, 100)!], [0x61, 0x23, 0x24, 0x7d, 0x2a]);
  });

  it('escapeBinary round-trips through decodeBody for every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const escaped = escapeBinary(all);
    for (const c of [0x23, 0x24, 0x2a]) assert.equal(escaped.indexOf(c), -1);
    assert.deepEqual(decodeBody(escaped, 1000), all);
  });

  it('expands runs: X*n repeats X n-29 more times', () => {
    assert.equal(decodeBody(Buffer.from('0* '), 100)!.toString(), '0000'); // ' ' = 32: 3 more
    assert.equal(decodeBody(Buffer.from('ab*"c'), 100)!.toString(), 'abbbbbbc'); // '"' = 34: 5 more
  });

  it('the reader decodes run-length encoded packets (checksum over the encoded form)', () => {
    assert.deepEqual(packets(read([frame(Buffer.from('f0*"a'))])), ['f000000a']);
    assert.deepEqual(packets(read([frame(Buffer.from('0*}'))])), ['0'.repeat(97)]); // '}' after '*' is a count (96)
  });

  it('rejects a truncated escape, a run with nothing before it and out-of-range counts', () => {
    assert.equal(decodeBody(Buffer.from('ab}'), 100), undefined);
    assert.equal(decodeBody(Buffer.from('*"'), 100), undefined);
    assert.equal(decodeBody(Buffer.from('a*'), 100), undefined);
    assert.equal(decodeBody(Buffer.from([0x61, 0x2a, 0x1e]), 100), undefined); // count 1
  });

  it('bounds the decoded size', () => {
    assert.equal(decodeBody(Buffer.from('a*~'.repeat(10)), 100), undefined);
    assert.equal(decodeBody(Buffer.from('a*~'), 100)!.length, 98);
  });

  it('frameRaw passes run-length encoded bodies through back to back with a summed checksum', () => {
    // as a relay would receive them: each with its wire form and checksum
    const wire: { raw: Buffer; cs: number }[] = [];
    const r = new PacketReader((e) => e.type === 'packet' && wire.push({ raw: e.raw, cs: e.cs }));
    for (const body of ['00*"ff', 'ab*!c', '0123']) r.feed(frame(Buffer.from(body)));
    const out = read([frameRaw(wire).framed]);
    assert.deepEqual(types(out), ['packet']); // the checksum holds
    assert.equal(packets(out)[0], '0000000ff' + 'abbbbbc' + '0123');
  });

  it('fromHex is strict', () => {
    assert.deepEqual([...fromHex('00ff10')!], [0, 255, 16]);
    assert.equal(fromHex('abc'), undefined);
    assert.equal(fromHex('zz'), undefined);
  });
});
