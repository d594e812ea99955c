// deriveStatus / statusChanged: Zalando's PostgresClusterStatus from conditions; time passed in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PostgresqlStatus } from '../../../lib/model/postgresql';
import { deriveStatus, statusChanged, type SyncObservation } from '../../../lib/plan/status';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T00:05:00Z';
const T2 = '2024-01-01T00:10:00Z';

const observe = (extra: Partial<SyncObservation> = {}): SyncObservation => ({
  generation: 1,
  changed: false,
  podsReady: false,
  warnings: [],
  ...extra,
});
const conditionOf = (status: PostgresqlStatus, type: string) => status.conditions?.find((c) => c.type === type);

describe('deriveStatus', () => {
  it('Invalid for an invalid manifest, with the problem in Ready and Degraded', () => {
    const status = deriveStatus(observe({ invalid: 'spec.teamId: team name is empty' }), undefined, T0);
    assert.equal(status.PostgresClusterStatus, 'Invalid');
    assert.equal(status.observedGeneration, 1);
    assert.deepEqual(conditionOf(status, 'Ready'), {
      type: 'Ready',
      status: 'False',
      reason: 'InvalidManifest',
      message: 'spec.teamId: team name is empty',
      observedGeneration: 1,
      lastTransitionTime: T0,
    });
    assert.equal(conditionOf(status, 'Degraded')?.status, 'True');
    assert.equal(conditionOf(status, 'Progressing')?.status, 'False');
  });

  it('Invalid wins over a failure', () => {
    assert.equal(deriveStatus(observe({ invalid: 'x', failed: 'y' }), undefined, T0).PostgresClusterStatus, 'Invalid');
  });

  it('Creating for a new cluster whose pods are not ready', () => {
    const status = deriveStatus(observe({ changed: true, progress: '0 of 2 pods ready' }), undefined, T0);
    assert.equal(status.PostgresClusterStatus, 'Creating');
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status]),
      [
        ['Ready', 'False'],
        ['Progressing', 'True'],
        ['Degraded', 'False'],
      ],
    );
    assert.equal(conditionOf(status, 'Ready')?.message, '0 of 2 pods ready');
  });

  it('Running when the pods are ready', () => {
    const creating = deriveStatus(observe({ changed: true }), undefined, T0);
    const running = deriveStatus(observe({ podsReady: true }), creating, T1);
    assert.equal(running.PostgresClusterStatus, 'Running');
    assert.deepEqual(
      running.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'True', 'PodsReady'],
        ['Progressing', 'False', 'Converged'],
        ['Degraded', 'False', 'AsExpected'],
      ],
    );
  });

  it('Updating when pods are not ready after having run', () => {
    for (const before of ['Running', 'Updating', 'UpdateFailed', 'SyncFailed']) {
      const status = deriveStatus(observe({ generation: 2, changed: true }), { PostgresClusterStatus: before }, T1);
      assert.equal(status.PostgresClusterStatus, 'Updating', `after ${before}`);
    }
    assert.equal(
      deriveStatus(observe(), { PostgresClusterStatus: 'CreateFailed' }, T1).PostgresClusterStatus,
      'Creating',
    );
  });

  it('CreateFailed when a sync fails before the cluster ever ran', () => {
    const status = deriveStatus(observe({ failed: 'API unavailable', changed: true }), undefined, T0);
    assert.equal(status.PostgresClusterStatus, 'CreateFailed');
    assert.deepEqual(conditionOf(status, 'Degraded'), {
      type: 'Degraded',
      status: 'True',
      reason: 'SyncFailed',
      message: 'API unavailable',
      observedGeneration: 1,
      lastTransitionTime: T0,
    });
    assert.equal(
      deriveStatus(observe({ failed: 'x' }), { PostgresClusterStatus: 'Creating' }, T0).PostgresClusterStatus,
      'CreateFailed',
    );
  });

  it('UpdateFailed when a sync that wrote objects fails after the cluster ran', () => {
    assert.equal(
      deriveStatus(observe({ failed: 'x', changed: true }), { PostgresClusterStatus: 'Running' }, T1)
        .PostgresClusterStatus,
      'UpdateFailed',
    );
  });

  it('UpdateFailed when the sync of a newer generation fails, even before writing anything', () => {
    const running: PostgresqlStatus = { PostgresClusterStatus: 'Running', observedGeneration: 1 };
    assert.equal(
      deriveStatus(observe({ generation: 2, failed: 'x' }), running, T1).PostgresClusterStatus,
      'UpdateFailed',
    );
    const failed = deriveStatus(observe({ generation: 2, failed: 'x' }), running, T1);
    assert.equal(
      deriveStatus(observe({ generation: 2, failed: 'x' }), failed, T2).PostgresClusterStatus,
      'SyncFailed',
      'a retry of it',
    );
  });

  it('UpdateBlocked in Progressing when changes are refused; the cluster status follows the pods', () => {
    const blocked = deriveStatus(
      observe({
        podsReady: true,
        blocked: ['cannot shrink persistent volume'],
        warnings: ['cannot shrink persistent volume'],
      }),
      undefined,
      T0,
    );
    assert.equal(blocked.PostgresClusterStatus, 'Running');
    assert.deepEqual(conditionOf(blocked, 'Progressing'), {
      type: 'Progressing',
      status: 'False',
      reason: 'UpdateBlocked',
      message: 'cannot shrink persistent volume',
      observedGeneration: 1,
      lastTransitionTime: T0,
    });
    assert.equal(conditionOf(blocked, 'Degraded')?.status, 'False');
  });

  it('SyncFailed when a sync that wrote nothing fails after the cluster ran', () => {
    assert.equal(
      deriveStatus(observe({ failed: 'x', changed: false, podsReady: true }), { PostgresClusterStatus: 'Running' }, T1)
        .PostgresClusterStatus,
      'SyncFailed',
    );
  });

  it('a legacy plain-string status counts as none', () => {
    const legacy = 'Running' as unknown as PostgresqlStatus;
    assert.equal(deriveStatus(observe(), legacy, T0).PostgresClusterStatus, 'Creating');
  });

  it('keeps lastTransitionTime while a condition keeps its status, and moves it on a change', () => {
    const first = deriveStatus(observe({ changed: true }), undefined, T0);
    const second = deriveStatus(observe({ progress: '1 of 2 pods ready' }), first, T1);
    assert.equal(conditionOf(second, 'Ready')?.lastTransitionTime, T0);
    assert.equal(conditionOf(second, 'Ready')?.message, '1 of 2 pods ready');
    const third = deriveStatus(observe({ podsReady: true }), second, T2);
    assert.equal(conditionOf(third, 'Ready')?.lastTransitionTime, T2);
    assert.equal(conditionOf(third, 'Progressing')?.lastTransitionTime, T2);
    assert.equal(conditionOf(third, 'Degraded')?.lastTransitionTime, T0);
  });

  it('an unchanged running cluster gives the same status (no write)', () => {
    const running = deriveStatus(observe({ podsReady: true }), undefined, T0);
    const again = deriveStatus(observe({ podsReady: true }), running, T2);
    assert.deepEqual(again, running);
    assert.equal(statusChanged(running, again), false);
  });

  it('carries observedGeneration on the status and every condition', () => {
    const status = deriveStatus(observe({ generation: 7, podsReady: true }), undefined, T0);
    assert.equal(status.observedGeneration, 7);
    for (const condition of status.conditions ?? []) assert.equal(condition.observedGeneration, 7);
  });

  it('lists manifest warnings only when there are some', () => {
    assert.equal((deriveStatus(observe(), undefined, T0) as Record<string, unknown>).warnings, undefined);
    const warned = deriveStatus(observe({ warnings: ['spec.tls is accepted but not acted on yet'] }), undefined, T0);
    assert.deepEqual((warned as Record<string, unknown>).warnings, ['spec.tls is accepted but not acted on yet']);
  });
});

describe('statusChanged', () => {
  it('ignores key order', () => {
    const a: PostgresqlStatus = {
      PostgresClusterStatus: 'Running',
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', reason: 'PodsReady', lastTransitionTime: T0 }],
    };
    const b = JSON.parse(
      '{"conditions":[{"lastTransitionTime":"2024-01-01T00:00:00Z","reason":"PodsReady","status":"True","type":"Ready"}],"observedGeneration":1,"PostgresClusterStatus":"Running"}',
    ) as PostgresqlStatus;
    assert.equal(statusChanged(a, b), false);
  });

  it('sees a changed value, a legacy string and a missing status', () => {
    const running: PostgresqlStatus = { PostgresClusterStatus: 'Running' };
    assert.equal(statusChanged({ PostgresClusterStatus: 'Updating' }, running), true);
    assert.equal(statusChanged('Running', running), true);
    assert.equal(statusChanged(undefined, running), true);
  });

  it('condition order matters (conditions are a list)', () => {
    const ready = { type: 'Ready', status: 'True' as const };
    const degraded = { type: 'Degraded', status: 'False' as const };
    assert.equal(statusChanged({ conditions: [ready, degraded] }, { conditions: [degraded, ready] }), true);
  });
});
