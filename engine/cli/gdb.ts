// `--gdb [HOST:]PORT`: serve the guest to gdb through kwb's stub.
import type { Guest } from '../guest.js';
import { KwbError } from '../results.js';

export interface GdbAddress {
  host: string;
  port: number;
}

export function parseGdbAddress(text: string): GdbAddress {
  const match = /^(?:(.*):)?(\d+)$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new KwbError(`--gdb ${text}: give [HOST:]PORT, e.g. :1234 or 127.0.0.1:1234`);
  const host = match[1] ? match[1].replace(/^\[(.*)\]$/, '$1') : '127.0.0.1';
  return { host, port };
}

export async function attachGdbStub(
  _guest: Guest,
  _address: GdbAddress,
  _wait: boolean,
  _note: (s: string) => void,
): Promise<{ close(): Promise<void> }> {
  throw new KwbError('the gdb stub is not wired into this build yet');
}
