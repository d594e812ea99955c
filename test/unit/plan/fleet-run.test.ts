// The arithmetic of a fleet run: budget defaults, when a cluster may start, the syncs' deadline, the cursor order,
// the request counts and the summary lines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeFleetItem,
  fleetBudget,
  mayStartAnother,
  orderFromCursor,
  requestDelta,
  syncDeadline,
} from '../../../lib/plan/fleet-run';

describe('fleetBudget', () => {
  it('fills in 240 s, a 10% margin (at least 500 ms) and 4 at once', () => {
    assert.deepEqual(fleetBudget({}), { deadlineMs: 240_000, marginMs: 24_000, parallelism: 4 });
    assert.deepEqual(fleetBudget({ deadlineMs: 2_000 }), { deadlineMs: 2_000, marginMs: 500, parallelism: 4 });
    assert.deepEqual(fleetBudget({ deadlineMs: 0, marginMs: 0, parallelism: 2.7 }), {
      deadlineMs: 0,
      marginMs: 0,
      parallelism: 2,
    });
    assert.equal(fleetBudget({ parallelism: 0 }).parallelism, 1);
  });
});

describe('mayStartAnother', () => {
  it('starts clusters while more than the margin is left', () => {
    const budget = fleetBudget({ deadlineMs: 10_000, marginMs: 1_000 });
    assert.equal(mayStartAnother(budget, 5_000, 5_000), true);
    assert.equal(mayStartAnother(budget, 5_000, 13_999), true);
    assert.equal(mayStartAnother(budget, 5_000, 14_000), false);
    assert.equal(mayStartAnother(fleetBudget({ deadlineMs: 0 }), 0, 0), false);
  });
});

describe('syncDeadline', () => {
  it('is the earlier of the invocation deadline and the run budget', () => {
    assert.equal(syncDeadline(undefined, 1_000, 500), 1_500);
    assert.equal(syncDeadline(1_200, 1_000, 500), 1_200);
    assert.equal(syncDeadline(9_000, 1_000, 500), 1_500);
  });
});

describe('orderFromCursor', () => {
  const keys = ['b/x', 'a/z', 'a/y', 'c/w'];
  it('sorts, and starts at the first key at or after the cursor, wrapping around', () => {
    assert.deepEqual(orderFromCursor(keys, undefined), ['a/y', 'a/z', 'b/x', 'c/w']);
    assert.deepEqual(orderFromCursor(keys, 'b/x'), ['b/x', 'c/w', 'a/y', 'a/z']);
    // A cursor cluster that is gone (in sync or deleted): the next one after it.
    assert.deepEqual(orderFromCursor(keys, 'b/a'), ['b/x', 'c/w', 'a/y', 'a/z']);
    assert.deepEqual(orderFromCursor(keys, 'z/z'), ['a/y', 'a/z', 'b/x', 'c/w']);
    assert.deepEqual(orderFromCursor([], 'a/a'), []);
  });
});

describe('requestDelta', () => {
  it('counts the requests of the run by verb, leaving out verbs without any', () => {
    assert.deepEqual(requestDelta({ get: 3, list: 10, apply: 2 }, { get: 3, list: 4 }), { list: 6, apply: 2 });
  });
});

describe('describeFleetItem', () => {
  it('says what was done and why, and that a rolling update goes on', () => {
    assert.equal(
      describeFleetItem({ cluster: 'ns/a', action: 'sync', why: 'no finalizer yet', outcome: 'synced' }),
      'ns/a: sync (no finalizer yet) -> synced',
    );
    assert.equal(
      describeFleetItem({
        cluster: 'ns/a',
        action: 'sync',
        why: 'w',
        outcome: 'pending',
        rollingUpdate: 'recreating pod a-1',
      }),
      'ns/a: sync (w) -> pending (recreating pod a-1)',
    );
  });
});
