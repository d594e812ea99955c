// holdScaleDown: a scale-down that would remove the master pod waits for a switchover; pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { holdScaleDown, type PodRole } from '../../../lib/plan/scale-down';

const pod = (ordinal: number, role?: string, deleting = false): PodRole => ({
  name: `acid-a-${ordinal}`,
  role,
  deleting,
});

describe('holdScaleDown', () => {
  it('holds a scale-down that removes the master, keeping the replicas that run', () => {
    const hold = holdScaleDown('acid-a', { from: 3, to: 1 }, [pod(0, 'replica'), pod(1, 'replica'), pod(2, 'master')]);
    assert.deepEqual(hold, {
      keep: 3,
      refusal: {
        reason: 'SwitchoverNeeded',
        message:
          'scale-down from 3 to 1 instances waits: it would remove the master pod acid-a-2 first; ' +
          'a switchover to a pod with a lower ordinal is needed first',
      },
    });
  });

  it('holds when the master is exactly the first ordinal removed', () => {
    assert.equal(holdScaleDown('acid-a', { from: 2, to: 1 }, [pod(0, 'replica'), pod(1, 'master')])?.keep, 2);
  });

  it('lets the scale-down proceed when the master stays', () => {
    assert.equal(
      holdScaleDown('acid-a', { from: 3, to: 1 }, [pod(0, 'master'), pod(1, 'replica'), pod(2, 'replica')]),
      undefined,
    );
  });

  it('lets it proceed when no pod is master, or the master is being deleted', () => {
    assert.equal(holdScaleDown('acid-a', { from: 3, to: 1 }, [pod(0), pod(1), pod(2)]), undefined);
    assert.equal(holdScaleDown('acid-a', { from: 3, to: 1 }, [pod(0, 'replica'), pod(2, 'master', true)]), undefined);
  });

  it('ignores a master that is not a pod of this StatefulSet', () => {
    assert.equal(
      holdScaleDown('acid-a', { from: 3, to: 1 }, [{ name: 'acid-b-2', role: 'master', deleting: false }]),
      undefined,
    );
    assert.equal(
      holdScaleDown('acid-a', { from: 3, to: 1 }, [{ name: 'acid-a-x', role: 'master', deleting: false }]),
      undefined,
    );
  });

  it('the first master in name order counts (two masters for a moment during a failover)', () => {
    assert.equal(holdScaleDown('acid-a', { from: 3, to: 1 }, [pod(0, 'master'), pod(2, 'master')]), undefined);
    assert.equal(holdScaleDown('acid-a', { from: 3, to: 1 }, [pod(1, 'master'), pod(0, 'master')])?.keep, 3);
  });
});
