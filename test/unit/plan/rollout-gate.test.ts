// What a rolling update does around its step: keep the condition, wait for the last pod, complete, hold (pause,
// maintenance window) freeing the slot once, peek at the slots when in line; then report a wait, a block (one
// Event per reason) or act.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../../../lib/model/postgresql';
import { parseMaintenanceWindow, type MaintenanceWindow } from '../../../lib/model/maintenance-window';
import type { RolloutPod } from '../../../lib/plan/rolling-update';
import {
  podChangedReport,
  recreatedReport,
  switchedOverReport,
  switchoverFailedReport,
} from '../../../lib/plan/rollout-action';
import { ROLLING_UPDATE_CONDITION, type RolloutState } from '../../../lib/plan/rollout-condition';
import { planRolloutStep, rolloutGate, slotWaitReport, type RolloutGateInputs } from '../../../lib/plan/rollout-gate';

const T0 = '2030-01-01T10:00:00.000Z';
// A Tuesday, 10:30 UTC.
const now = new Date('2030-01-01T10:30:00.000Z');
const previous = (reason: string, status: 'True' | 'False' = 'True', message = 'm'): Condition => ({
  type: ROLLING_UPDATE_CONDITION,
  status,
  reason,
  message,
  lastTransitionTime: T0,
  lastUpdateTime: T0,
});
const state = (prev?: Condition): RolloutState => ({ previous: prev, generation: 2, now, progressDeadlineMs: 0 });
const pod = (name: string, extra: Partial<RolloutPod> = {}): RolloutPod => ({
  name,
  uid: `uid-${name}`,
  flagged: false,
  ready: true,
  deleting: false,
  ...extra,
});
const window = (text: string): MaintenanceWindow => {
  const parsed = parseMaintenanceWindow(text);
  assert.ok(parsed.ok);
  return parsed.window;
};
const inputs = (extra: Partial<RolloutGateInputs> = {}): RolloutGateInputs => ({
  pods: [pod('pg-0'), pod('pg-1', { flagged: true })],
  instances: 2,
  paused: false,
  windows: [],
  ...extra,
});
const unflagged = [pod('pg-0'), pod('pg-1')];

describe('rolloutGate', () => {
  it('is idle without flagged pods and no rollout under way: the previous condition as it is', () => {
    assert.deepEqual(rolloutGate(state(), inputs({ pods: unflagged })), { kind: 'idle', report: { events: [] } });
    const done = previous('Completed', 'False');
    assert.deepEqual(rolloutGate(state(done), inputs({ pods: unflagged })), {
      kind: 'idle',
      report: { events: [], condition: done },
    });
  });

  it('waits for the last recreated pod before completing', () => {
    const gate = rolloutGate(
      state(previous('InProgress')),
      inputs({ pods: [pod('pg-0'), pod('pg-1', { ready: false })] }),
    );
    assert.equal(gate.kind, 'finishing');
    assert.equal(gate.kind === 'finishing' && gate.report.pending, 'rolling update: pod pg-1 not ready');
    assert.equal(gate.kind === 'finishing' && gate.report.condition?.reason, 'Waiting');
  });

  it('completes once every pod is back: Event RollingUpdateCompleted, condition False Completed', () => {
    const gate = rolloutGate(state(previous('Waiting')), inputs({ pods: unflagged }));
    assert.equal(gate.kind, 'completed');
    if (gate.kind !== 'completed') return;
    assert.deepEqual(gate.report.events, [
      {
        type: 'Normal',
        reason: 'RollingUpdateCompleted',
        message: 'Rolling update completed: every pod runs the current template',
      },
    ]);
    assert.equal(gate.report.condition?.status, 'False');
    assert.equal(gate.report.condition?.reason, 'Completed');
    assert.equal(gate.report.condition?.lastUpdateTime, now.toISOString());
  });

  it('holds a paused rollout, freeing the slot only when the pause begins', () => {
    const first = rolloutGate(state(previous('InProgress')), inputs({ paused: true }));
    assert.equal(first.kind, 'hold');
    if (first.kind !== 'hold') return;
    assert.equal(first.releaseSlot, true);
    assert.equal(first.report.condition?.reason, 'Paused');
    assert.equal(
      first.report.condition?.message,
      'paused by annotation acid.zalan.do/rolling-update-paused: pods pg-1 wait',
    );
    assert.equal(first.report.pending, undefined);
    const again = rolloutGate(state(previous('Paused')), inputs({ paused: true }));
    assert.equal(again.kind === 'hold' && again.releaseSlot, false);
  });

  it('defers outside the maintenance windows: one Event and a slot release when the wait begins, nothing after', () => {
    const windows = [window('Sat:22:00-23:00')];
    const first = rolloutGate(state(previous('InProgress')), inputs({ windows }));
    assert.equal(first.kind, 'hold');
    if (first.kind !== 'hold') return;
    const message =
      'outside the maintenance windows (Sat:22:00-23:00): the next one starts Sat 2030-01-05 22:00 UTC; pods pg-1 wait';
    assert.equal(first.releaseSlot, true);
    assert.deepEqual(first.report.events, [
      { type: 'Normal', reason: 'RollingUpdateDeferred', message: `Rolling update deferred: ${message}` },
    ]);
    assert.equal(first.report.condition?.reason, 'WaitingForMaintenanceWindow');
    assert.equal(first.report.condition?.message, message);
    const again = rolloutGate(state(previous('WaitingForMaintenanceWindow')), inputs({ windows }));
    assert.deepEqual(again.kind === 'hold' && [again.releaseSlot, again.report.events], [false, []]);
  });

  it('goes on inside a window, peeking at the slots only when in line for one', () => {
    assert.deepEqual(rolloutGate(state(), inputs({ windows: [window('10:00-11:00')] })), {
      kind: 'proceed',
      peekSlot: false,
    });
    assert.deepEqual(rolloutGate(state(previous('WaitingForSlot')), inputs()), { kind: 'proceed', peekSlot: true });
    assert.deepEqual(rolloutGate(state(previous('WaitingForSlot', 'False')), inputs()), {
      kind: 'proceed',
      peekSlot: false,
    });
  });
});

describe('slotWaitReport', () => {
  it('waits for a slot: pending, condition WaitingForSlot with the reason', () => {
    const report = slotWaitReport(state(), 'next slot free in 25 s (rollout_cluster_delay)');
    assert.equal(
      report.pending,
      'rolling update: waiting for a rollout slot: next slot free in 25 s (rollout_cluster_delay)',
    );
    assert.equal(report.condition?.reason, 'WaitingForSlot');
    assert.equal(report.condition?.message, 'next slot free in 25 s (rollout_cluster_delay)');
  });
});

describe('planRolloutStep', () => {
  it('reports the previous condition when done', () => {
    const done = previous('InProgress');
    assert.deepEqual(planRolloutStep(state(done), { kind: 'done' }), {
      kind: 'report',
      keepSlot: false,
      report: { events: [], condition: done },
    });
  });

  it('keeps the slot of a step under way while waiting, not of a cluster in line', () => {
    for (const [reason, keep] of [
      ['InProgress', true],
      ['Waiting', true],
      ['Stalled', true],
      ['WaitingForSlot', false],
      ['Paused', false],
    ] as const) {
      const plan = planRolloutStep(state(previous(reason)), { kind: 'wait', reason: 'pod pg-1 not ready' });
      assert.equal(plan.kind === 'report' && plan.keepSlot, keep, reason);
      assert.equal(plan.kind === 'report' && plan.report.pending, 'rolling update: pod pg-1 not ready');
    }
    assert.equal(planRolloutStep(state(), { kind: 'wait', reason: 'x' }).kind === 'report', true);
  });

  it('reports a block with one Warning Event per reason, and no pending', () => {
    const step = { kind: 'blocked', reason: 'no replica can take over' } as const;
    const first = planRolloutStep(state(previous('Waiting')), step);
    assert.equal(first.kind, 'report');
    if (first.kind !== 'report') return;
    assert.deepEqual(first.report.events, [
      { type: 'Warning', reason: 'RollingUpdateBlocked', message: 'no replica can take over' },
    ]);
    assert.equal(first.report.condition?.reason, 'Blocked');
    assert.equal(first.report.pending, undefined);
    const same = planRolloutStep(state(previous('Blocked', 'True', 'no replica can take over')), step);
    assert.deepEqual(same.kind === 'report' && same.report.events, []);
    const other = planRolloutStep(state(previous('Blocked', 'True', 'another reason')), step);
    assert.equal(other.kind === 'report' && other.report.events.length, 1);
  });

  it('acts on a recreate or a switchover', () => {
    const recreate = { kind: 'recreate', pod: 'pg-1', uid: 'u', reason: 'r', downtime: false } as const;
    assert.deepEqual(planRolloutStep(state(), recreate), { kind: 'act', step: recreate });
    const switchover = { kind: 'switchover', leader: 'pg-0', candidate: 'pg-1', reason: 'r' } as const;
    assert.deepEqual(planRolloutStep(state(), switchover), { kind: 'act', step: switchover });
  });
});

describe('rollout action reports', () => {
  const switchover = { kind: 'switchover', leader: 'pg-0', candidate: 'pg-1', reason: 'flagged master' } as const;

  it('a recreated pod is progress: InProgress, lastUpdateTime now; a Warning when the cluster is down', () => {
    const report = recreatedReport(state(previous('Waiting')), {
      kind: 'recreate',
      pod: 'pg-1',
      uid: 'u',
      reason: 'flagged replica',
      downtime: false,
    });
    assert.deepEqual(report.events, [
      { type: 'Normal', reason: 'RollingUpdate', message: 'Recreating pod pg-1: flagged replica' },
    ]);
    assert.equal(report.pending, 'rolling update: recreating pod pg-1');
    assert.equal(report.condition?.reason, 'InProgress');
    assert.equal(report.condition?.lastUpdateTime, now.toISOString());
    const single = recreatedReport(state(), {
      kind: 'recreate',
      pod: 'pg-0',
      uid: 'u',
      reason: 'single',
      downtime: true,
    });
    assert.deepEqual(single.events, [
      {
        type: 'Warning',
        reason: 'RollingUpdate',
        message: 'Recreating pod pg-0 (the cluster is down until it is back): single',
      },
    ]);
  });

  it('a refused delete is a wait, not progress', () => {
    const report = podChangedReport(state(previous('InProgress')), 'pg-1');
    assert.deepEqual(report.events, []);
    assert.equal(report.pending, 'rolling update: pod pg-1 changed meanwhile');
    assert.equal(report.condition?.reason, 'Waiting');
    assert.equal(report.condition?.lastUpdateTime, T0);
  });

  it('a switchover names the leader Patroni reports, else the candidate', () => {
    assert.equal(
      switchedOverReport(state(), switchover, 'pg-2').events[0]!.message,
      'Switched over from pg-0 to pg-2: flagged master',
    );
    const report = switchedOverReport(state(), switchover, undefined);
    assert.deepEqual(report.events, [
      { type: 'Normal', reason: 'Switchover', message: 'Switched over from pg-0 to pg-1: flagged master' },
    ]);
    assert.equal(report.pending, 'rolling update: switched over to pg-1');
    assert.equal(report.condition?.reason, 'InProgress');
  });

  it('a failed switchover: Warning SwitchoverFailed, condition Waiting, pending', () => {
    const report = switchoverFailedReport(state(), switchover, '412 leader changed');
    const message = 'Switchover from pg-0 to pg-1 failed: 412 leader changed';
    assert.deepEqual(report.events, [{ type: 'Warning', reason: 'SwitchoverFailed', message }]);
    assert.equal(report.pending, `rolling update: ${message}`);
    assert.equal(report.condition?.reason, 'Waiting');
  });
});
