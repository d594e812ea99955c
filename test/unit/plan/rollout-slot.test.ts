// chooseRolloutSlot: which fleet-wide rollout slot a cluster may use, from the slot Leases as read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRolloutSlot, ROLLOUT_SLOT_DURATION_SECONDS, type SlotState } from '../../../lib/plan/rollout-slot';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const held = (index: number, holder: string, renewedMs = 0): SlotState => ({
  index,
  spec: { holderIdentity: holder, leaseDurationSeconds: ROLLOUT_SLOT_DURATION_SECONDS, renewTime: at(renewedMs) },
});
const released = (index: number, releasedMs = 0): SlotState => ({ index, spec: { renewTime: at(releasedMs) } });
const SLOT_MS = ROLLOUT_SLOT_DURATION_SECONDS * 1000;

describe('chooseRolloutSlot', () => {
  it('keeps the slot a cluster holds, renewing only after a third of the duration', () => {
    const slots = [held(0, 'ns/a')];
    assert.deepEqual(chooseRolloutSlot(slots, 'ns/a', 1, 0, T0 + SLOT_MS / 3 - 1), {
      kind: 'mine',
      index: 0,
      renew: false,
    });
    assert.deepEqual(chooseRolloutSlot(slots, 'ns/a', 1, 0, T0 + SLOT_MS / 3), { kind: 'mine', index: 0, renew: true });
    assert.deepEqual(
      chooseRolloutSlot(slots, 'ns/a', 1, 0, T0 + SLOT_MS + 1),
      { kind: 'mine', index: 0, renew: true },
      'expired but nobody took it: still its own',
    );
  });

  it('creates the lowest missing slot, and refuses once rollout_clusters_at_once clusters hold one, naming them', () => {
    assert.deepEqual(chooseRolloutSlot([], 'ns/a', 2, 0, T0), { kind: 'free', index: 0, exists: false });
    assert.deepEqual(chooseRolloutSlot([held(0, 'ns/a')], 'ns/b', 2, 0, T0), { kind: 'free', index: 1, exists: false });
    assert.deepEqual(chooseRolloutSlot([held(1, 'ns/b'), held(0, 'ns/a')], 'ns/c', 2, 0, T0), {
      kind: 'none',
      reason: '2 clusters are rolling out (rollout_clusters_at_once=2): ns/a, ns/b',
    });
  });

  it('counts slots beyond a lowered setting, and treats values below 1 as 1', () => {
    assert.deepEqual(chooseRolloutSlot([released(0), held(1, 'ns/b')], 'ns/c', 1, 0, T0).kind, 'none');
    assert.deepEqual(chooseRolloutSlot([], 'ns/a', 0, 0, T0), { kind: 'free', index: 0, exists: false });
  });

  it('a released slot is free rollout_cluster_delay after its release; an abandoned one after its expiry plus the delay', () => {
    const delay = 30_000;
    assert.deepEqual(chooseRolloutSlot([released(0)], 'ns/b', 1, delay, T0 + 5_000), {
      kind: 'none',
      reason: 'next slot free in 25 s (rollout_cluster_delay)',
    });
    assert.deepEqual(chooseRolloutSlot([released(0)], 'ns/b', 1, delay, T0 + delay), {
      kind: 'free',
      index: 0,
      exists: true,
    });
    assert.equal(
      chooseRolloutSlot([held(0, 'ns/a')], 'ns/b', 1, delay, T0 + SLOT_MS + 1).kind,
      'none',
      'expired, in its delay',
    );
    assert.deepEqual(chooseRolloutSlot([held(0, 'ns/a')], 'ns/b', 1, delay, T0 + SLOT_MS + delay), {
      kind: 'free',
      index: 0,
      exists: true,
    });
  });
});
