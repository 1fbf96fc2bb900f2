// kwb's cache directory (built kernels, compiled helpers, test programs): outside any repo, reused across runs.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(...parts: string[]): string {
  const base = process.env.KWB_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kwb');
  return join(base, ...parts);
}

/** A short stable name for cached things derived from `data` (FNV-1a, 64 bit): cache keys need stability, not
 *  secrecy, and loading node:crypto would cost milliseconds of every kwb start. */
export function cacheKey(data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  // two 32-bit halves of the 64-bit FNV state, multiplied by the FNV prime 2^40 + 0x1b3 without BigInt
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  for (const byte of bytes) {
    lo ^= byte;
    const low = (lo >>> 16) * 0x1b3 * 0x10000 + (lo & 0xffff) * 0x1b3; // lo * 0x1b3, exact in a double
    hi = (Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + Math.floor(low / 0x100000000)) >>> 0;
    lo = low >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
