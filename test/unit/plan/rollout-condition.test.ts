// The RollingUpdate condition: lastTransitionTime kept while the status stays, lastUpdateTime moving only with
// progress (or when a hold ends), and a wait turning Stalled once past rollout_progress_deadline, with one Event.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../../../lib/model/postgresql';
import {
  findRolloutCondition,
  ROLLING_UPDATE_CONDITION,
  rolloutCondition,
  rolloutWaiting,
  type RolloutState,
} from '../../../lib/plan/rollout-condition';

const T0 = '2030-01-01T10:00:00.000Z';
const now = new Date('2030-01-01T10:30:00.000Z');
const previous = (reason: string, extra: Partial<Condition> = {}): Condition => ({
  type: ROLLING_UPDATE_CONDITION,
  status: 'True',
  reason,
  message: 'm',
  observedGeneration: 3,
  lastTransitionTime: T0,
  lastUpdateTime: T0,
  ...extra,
});
const state = (prev?: Condition, progressDeadlineMs = 0): RolloutState => ({
  previous: prev,
  generation: 4,
  now,
  progressDeadlineMs,
});

describe('findRolloutCondition', () => {
  it('finds the RollingUpdate condition among the stored ones', () => {
    const rolling = previous('Waiting');
    assert.equal(findRolloutCondition([{ type: 'Ready', status: 'True' }, rolling]), rolling);
    assert.equal(findRolloutCondition([{ type: 'Ready', status: 'True' }]), undefined);
    assert.equal(findRolloutCondition(undefined), undefined);
  });
});

describe('rolloutCondition', () => {
  it('starts a rollout at now, with the generation', () => {
    assert.deepEqual(rolloutCondition(state(), true, 'InProgress', 'Recreating pod pg-1'), {
      type: 'RollingUpdate',
      status: 'True',
      reason: 'InProgress',
      message: 'Recreating pod pg-1',
      observedGeneration: 4,
      lastTransitionTime: now.toISOString(),
      lastUpdateTime: now.toISOString(),
    });
  });

  it('keeps both times while the rollout waits without progress', () => {
    const c = rolloutCondition(state(previous('InProgress')), true, 'Waiting', 'pod pg-1 not ready');
    assert.equal(c.lastTransitionTime, T0);
    assert.equal(c.lastUpdateTime, T0);
  });

  it('moves lastUpdateTime on progress, and keeps lastTransitionTime while the status stays True', () => {
    const c = rolloutCondition(state(previous('Waiting')), true, 'InProgress', 'Switched over', true);
    assert.equal(c.lastTransitionTime, T0);
    assert.equal(c.lastUpdateTime, now.toISOString());
  });

  it('restarts the progress clock when the cluster leaves a reason under which it takes no steps', () => {
    for (const held of ['WaitingForSlot', 'WaitingForMaintenanceWindow', 'Paused', 'Blocked']) {
      assert.equal(
        rolloutCondition(state(previous(held)), true, 'Waiting', 'x').lastUpdateTime,
        now.toISOString(),
        held,
      );
      // Staying in the same hold keeps it.
      assert.equal(rolloutCondition(state(previous(held)), true, held, 'x').lastUpdateTime, T0, held);
    }
  });

  it('moves both times when the status flips', () => {
    const c = rolloutCondition(
      state(previous('InProgress')),
      false,
      'Completed',
      'every pod runs the current template',
      true,
    );
    assert.equal(c.status, 'False');
    assert.equal(c.lastTransitionTime, now.toISOString());
    assert.equal(c.lastUpdateTime, now.toISOString());
  });

  it('falls back to lastTransitionTime when the previous condition has no lastUpdateTime', () => {
    const c = rolloutCondition(state(previous('InProgress', { lastUpdateTime: undefined })), true, 'Waiting', 'x');
    assert.equal(c.lastUpdateTime, T0);
  });
});

describe('rolloutWaiting', () => {
  it('waits (pending, condition Waiting, no Event) within the progress deadline', () => {
    const report = rolloutWaiting(state(previous('InProgress'), 60 * 60_000), 'pod pg-1 not ready');
    assert.deepEqual(report.events, []);
    assert.equal(report.pending, 'rolling update: pod pg-1 not ready');
    assert.equal(report.condition?.reason, 'Waiting');
    assert.equal(report.condition?.message, 'pod pg-1 not ready');
  });

  it('turns Stalled past the deadline, with one Warning Event, and keeps waiting', () => {
    const report = rolloutWaiting(state(previous('Waiting'), 10 * 60_000), 'pod pg-1 not ready');
    assert.equal(report.pending, 'rolling update: pod pg-1 not ready');
    assert.equal(report.condition?.reason, 'Stalled');
    assert.equal(report.condition?.message, 'no step within rollout_progress_deadline (10 min): pod pg-1 not ready');
    assert.equal(report.condition?.lastUpdateTime, T0);
    assert.equal(report.events.length, 1);
    assert.equal(report.events[0]!.type, 'Warning');
    assert.equal(report.events[0]!.reason, 'RollingUpdateStalled');
    assert.match(
      report.events[0]!.message,
      /^Rolling update stalled, no step for 30 min: pod pg-1 not ready\. .*rolling-update-paused: "true"$/,
    );
  });

  it('reports the stall once: an already Stalled rollout records no Event', () => {
    const report = rolloutWaiting(state(previous('Stalled'), 10 * 60_000), 'pod pg-1 not ready');
    assert.equal(report.condition?.reason, 'Stalled');
    assert.deepEqual(report.events, []);
  });

  it('never stalls with the deadline off (0), or when the wait just began', () => {
    assert.equal(rolloutWaiting(state(previous('Waiting'), 0), 'x').condition?.reason, 'Waiting');
    // Leaving WaitingForSlot restarts the clock: no stall although the slot wait itself was long.
    assert.equal(rolloutWaiting(state(previous('WaitingForSlot'), 10 * 60_000), 'x').condition?.reason, 'Waiting');
  });
});
