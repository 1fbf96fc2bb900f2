// The recording file (engine/rv64/record-file.ts): what is written is read back whole, and a file that is not a
// recording, is from another format, is cut short or damaged is a one-line usage error (exit 2) saying so.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readRecordFile, writeRecordFile, type RecordedBoot } from '../../../engine/rv64/record-file';
import { KwbError } from '../../../engine/results';

const boot: RecordedBoot = {
  media: {
    kernel: { name: 'Image', bytes: Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff) },
    initrd: { name: 'init.cpio', bytes: new Uint8Array(5000).fill(3) },
    bootargs: 'console=ttyS0 kwb.hold',
    memBytes: 256 << 20,
  },
  symbols: { vmlinux: '/src/linux/vmlinux', buildId: 'abcd' },
  inputs: [
    { at: 1000, input: { kind: 'console', bytes: Uint8Array.from([103, 111, 10]) } },
    { at: 1000, input: { kind: 'time', ticks: 12.5 } },
    { at: 2 ** 40, input: { kind: 'console', bytes: new Uint8Array(0) } },
  ],
  end: { instructions: 2 ** 40 + 5, result: { kind: 'exited', code: 0 }, console: { bytes: 10, sha256: 'ff' } },
};

function rejects(bytes: Uint8Array | string, why: RegExp): void {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-recfile-'));
  try {
    const file = join(dir, 'x.rec');
    writeFileSync(file, bytes);
    assert.throws(
      () => readRecordFile(file),
      (err: unknown) =>
        err instanceof KwbError && err.exitCode === 2 && why.test(err.message) && !/\n/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('rv64 recording files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-recfile-'));
  const file = join(dir, 'boot.rec');
  writeRecordFile(file, boot);
  const bytes = readFileSync(file);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

  it('reads back what was written: the files, the command line, every input at its instruction, the end', () => {
    const back = readRecordFile(file);
    assert.deepEqual(back.media.kernel.name, 'Image');
    assert.deepEqual(Uint8Array.from(back.media.kernel.bytes), boot.media.kernel.bytes);
    assert.deepEqual(Uint8Array.from(back.media.initrd!.bytes), boot.media.initrd!.bytes);
    assert.equal(back.media.firmware, undefined);
    assert.equal(back.media.bootargs, boot.media.bootargs);
    assert.equal(back.media.memBytes, boot.media.memBytes);
    assert.deepEqual(back.inputs, boot.inputs);
    assert.deepEqual(back.end, boot.end);
    assert.deepEqual(back.symbols, boot.symbols);
    assert.ok(bytes.length < 20_000, `compressed: ${bytes.length} bytes`);
  });

  it('refuses a file that is not a recording, another format, one cut short and one damaged, in one line each', () => {
    rejects('#!/bin/sh\necho hi\n', /is not a kwb recording/);
    rejects('', /is not a kwb recording/);
    const newer = Buffer.from(bytes);
    newer.writeUInt32LE(2, 8);
    rejects(newer, /format 2; this kwb reads format 1/);
    rejects(bytes.subarray(0, 12), /cut short \(truncated\)/);
    rejects(bytes.subarray(0, bytes.length - 1), /cut short \(truncated\)/);
    rejects(Buffer.concat([bytes, Buffer.from('x')]), /damaged .*after its end/);
    const flipped = Buffer.from(bytes);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 20) ^ 0xff, flipped.length - 20);
    rejects(flipped, /damaged kwb recording/);
  });
});
