import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheKey } from '../../../engine/cache.js';

describe('cacheKey', () => {
  it('is FNV-1a 64 (the published test vectors)', () => {
    assert.equal(cacheKey(''), 'cbf29ce484222325');
    assert.equal(cacheKey('a'), 'af63dc4c8601ec8c');
    assert.equal(cacheKey('foobar'), '85944171f73967e8');
    assert.equal(cacheKey(new Uint8Array([0xff, 0x00, 0x80])), cacheKey(Buffer.from([0xff, 0x00, 0x80])));
  });
});
