import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeProgress, estimate } from '../../../engine/build/progress.js';

describe('build progress', () => {
  it('shows only the object count when no earlier from-scratch build is known', () => {
    const p = { stage: 'compile' as const, objects: 120, seconds: 30, step: 'CC kernel/fork.o' };
    assert.deepEqual(estimate(p), {});
    assert.equal(describeProgress(p), '120 objects CC kernel/fork.o');
  });

  it('shows percent and the time left from the rate so far', () => {
    const p = { stage: 'compile' as const, objects: 500, expected: 2000, seconds: 100 };
    assert.deepEqual(estimate(p), { percent: 25, secondsLeft: 300 });
    assert.equal(describeProgress(p), '25% (500/2000 objects, 5m00s left)');
  });

  it('gives no time left while the rate is unknown, and never says 100% before the end', () => {
    assert.deepEqual(estimate({ stage: 'compile', objects: 10, expected: 2000, seconds: 5 }), { percent: 0 });
    const over = estimate({ stage: 'link', objects: 2100, expected: 2000, seconds: 400 });
    assert.equal(over.percent, 99);
    assert.match(describeProgress({ stage: 'link', objects: 2100, expected: 2000, seconds: 400 }), /^linking, 99%/);
  });

  it('shows the ccache hit rate and the distcc hosts compiling now', () => {
    const p = {
      stage: 'compile' as const,
      objects: 500,
      expected: 2000,
      seconds: 5,
      step: 'CC kernel/fork.o',
      ccacheHitRate: 0.354,
      distcc: { '10.0.0.5': 4, '10.0.0.6:3633': 3 },
    };
    assert.equal(
      describeProgress(p),
      '25% (500/2000 objects) [ccache 35% hits, distcc 10.0.0.5×4 10.0.0.6:3633×3] CC kernel/fork.o',
    );
    assert.equal(
      describeProgress({ ...p, ccacheHitRate: undefined, distcc: {} }),
      '25% (500/2000 objects) [distcc idle] CC kernel/fork.o',
    );
  });
});
