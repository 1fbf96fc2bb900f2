import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withKernelParams } from '../../../engine/rv64/guest.js';

describe('the rv64 kernel command line', () => {
  it('puts kwb parameters before a --, after which every word goes to init', () => {
    assert.equal(
      withKernelParams('console=ttyS0 -- serve 5000', ['ip=10.3.0.1:::255.255.255.0::eth0:off']),
      'console=ttyS0 ip=10.3.0.1:::255.255.255.0::eth0:off -- serve 5000',
    );
    assert.equal(withKernelParams('console=ttyS0  quiet', ['ip=x']), 'console=ttyS0 quiet ip=x');
    assert.equal(withKernelParams('a', []), 'a');
  });
});
