// The status a cluster sync would write, from what it observed: pods ready, stored status and warnings, the merge patch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  invalidAlreadyReported,
  nextStatus,
  otherConditions,
  podsReady,
  statusMergePatch,
  storedStatus,
  storedWarnings,
  stringStatusPatch,
  syncObservation,
  type StatefulSetReadiness,
} from '../../../lib/plan/cluster-status';
import type { PostgresqlStatus } from '../../../lib/model/postgresql';

const T0 = new Date('2024-01-01T00:00:00Z');
const T1 = new Date('2024-01-01T00:05:00Z');

const statefulSet = (
  ready: number,
  replicas = 2,
  extra: Partial<{ generation: number; observedGeneration: number; deleting: boolean; replicasSeen: number }> = {},
) =>
  new Map<string, StatefulSetReadiness>([
    [
      'StatefulSet/acid-a',
      {
        metadata: {
          generation: extra.generation ?? 1,
          ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
        },
        spec: { replicas },
        status: {
          readyReplicas: ready,
          replicas: extra.replicasSeen ?? replicas,
          observedGeneration: extra.observedGeneration ?? 1,
        },
      },
    ],
  ]);

describe('podsReady', () => {
  it('ready when every replica is ready for the current generation', () => {
    assert.deepEqual(podsReady(statefulSet(2), 'acid-a', 2), { ready: true, progress: '2 of 2 pods ready' });
  });

  it('not ready with fewer ready replicas, or without a StatefulSet', () => {
    assert.deepEqual(podsReady(statefulSet(1), 'acid-a', 2), { ready: false, progress: '1 of 2 pods ready' });
    assert.deepEqual(podsReady(new Map(), 'acid-a', 2), { ready: false, progress: '0 of 2 pods ready' });
  });

  it('not ready while the StatefulSet controller has not seen a new generation, unless this sync wrote it without changing pods', () => {
    const unseen = { generation: 2, observedGeneration: 1 };
    assert.equal(podsReady(statefulSet(2, 2, { ...unseen, replicasSeen: 2 }), 'acid-a', 2).ready, false);
    assert.equal(
      podsReady(statefulSet(2, 2, { ...unseen, replicasSeen: 2 }), 'acid-a', 2, true).ready,
      true,
      'a template-only write (e.g. the takeover adding the template hash)',
    );
    assert.equal(
      podsReady(statefulSet(2, 3, { ...unseen, replicasSeen: 2 }), 'acid-a', 3, true).ready,
      false,
      'scale-up',
    );
    assert.equal(podsReady(statefulSet(2, 2, { deleting: true }), 'acid-a', 2).ready, false);
  });

  it('not ready while the StatefulSet has other replicas than the instances (a held scale-down); progress is capped', () => {
    assert.deepEqual(podsReady(statefulSet(3, 3), 'acid-a', 2), { ready: false, progress: '2 of 2 pods ready' });
  });
});

describe('storedStatus, storedWarnings and otherConditions', () => {
  const status = {
    PostgresClusterStatus: 'Running',
    warnings: ['w1', 'w2'],
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'RolesSynced', status: 'False', reason: 'WaitingForMaster' },
    ],
  };

  it('read the stored status object', () => {
    assert.equal(storedStatus({ status })?.PostgresClusterStatus, 'Running');
    assert.deepEqual([...storedWarnings({ status })], ['w1', 'w2']);
    assert.deepEqual(otherConditions({ status }), [
      { type: 'RolesSynced', status: 'False', reason: 'WaitingForMaster' },
    ]);
  });

  it('a legacy plain string status, null or none count as no status', () => {
    for (const raw of [{ status: 'Running' }, { status: null }, {}]) {
      assert.equal(storedStatus(raw), undefined);
      assert.deepEqual([...storedWarnings(raw)], []);
      assert.deepEqual(otherConditions(raw), []);
    }
  });
});

describe('nextStatus', () => {
  const observation = { generation: 1, changed: false, podsReady: true, progress: '2 of 2 pods ready', warnings: [] };

  it('derives the status and says it changed against none stored', () => {
    const next = nextStatus({}, observation, T0);
    assert.equal(next.status.PostgresClusterStatus, 'Running');
    assert.equal(next.changed, true);
  });

  it('appends the conditions of other steps; unchanged when stored as it would be written, whatever the time', () => {
    const roles = { type: 'RolesSynced', status: 'True' as const, reason: 'Synced' };
    const first = nextStatus({}, observation, T0, [roles]);
    assert.deepEqual(
      first.status.conditions?.map((c) => c.type),
      ['Ready', 'Progressing', 'Degraded', 'RolesSynced'],
    );
    assert.equal(nextStatus({ status: first.status }, observation, T1, [roles]).changed, false);
  });
});

describe('statusMergePatch', () => {
  it('nulls the stored keys the new status does not set', () => {
    const next: PostgresqlStatus = { PostgresClusterStatus: 'Running', observedGeneration: 2 };
    assert.deepEqual(
      statusMergePatch({ PostgresClusterStatus: 'Updating', warnings: ['w'], observedGeneration: 1 }, next),
      { status: { PostgresClusterStatus: 'Running', warnings: null, observedGeneration: 2 } },
    );
  });

  it('replaces a legacy string or missing status whole', () => {
    const next: PostgresqlStatus = { PostgresClusterStatus: 'Running' };
    assert.deepEqual(statusMergePatch('Running', next), { status: next });
    assert.deepEqual(statusMergePatch(undefined, next), { status: next });
  });
});

describe('invalidAlreadyReported', () => {
  const before: PostgresqlStatus = {
    PostgresClusterStatus: 'Invalid',
    observedGeneration: 3,
    conditions: [{ type: 'Ready', status: 'False', reason: 'InvalidManifest', message: 'spec.teamId: empty' }],
  };

  it('true only for the same message and generation on an Invalid status', () => {
    assert.equal(invalidAlreadyReported(before, 'spec.teamId: empty', 3), true);
    assert.equal(invalidAlreadyReported(before, 'spec.volume: missing', 3), false);
    assert.equal(invalidAlreadyReported(before, 'spec.teamId: empty', 4), false);
    assert.equal(
      invalidAlreadyReported({ ...before, PostgresClusterStatus: 'Running' }, 'spec.teamId: empty', 3),
      false,
    );
    assert.equal(invalidAlreadyReported(undefined, 'spec.teamId: empty', 3), false);
  });
});

describe('syncObservation', () => {
  it('refusals are warnings after the manifest warnings and notes, and block Progressing', () => {
    const observation = syncObservation({
      generation: 2,
      manifestWarnings: ['m'],
      notes: ['n'],
      refusals: [{ reason: 'VolumeShrinkRefused', message: 'r' }],
      pods: { ready: true, progress: '2 of 2 pods ready' },
      changed: true,
    });
    assert.deepEqual(observation, {
      generation: 2,
      changed: true,
      podsReady: true,
      progress: '2 of 2 pods ready',
      warnings: ['m', 'n', 'r'],
      blocked: ['r'],
    });
  });

  it('no blocked field without refusals', () => {
    const observation = syncObservation({
      generation: 1,
      manifestWarnings: [],
      notes: [],
      refusals: [],
      pods: { ready: false, progress: 'p' },
      changed: false,
    });
    assert.equal('blocked' in observation, false);
  });

  it('under a strings-only status schema, structured fields are stored as JSON text and read back as values', () => {
    const next: PostgresqlStatus = {
      PostgresClusterStatus: 'Running',
      observedGeneration: 3,
      conditions: [{ type: 'Ready', status: 'True', reason: 'PodsReady', message: 'm', observedGeneration: 3 }],
      warnings: ['spec.x is accepted but not acted on yet'],
    } as PostgresqlStatus;
    const patch = stringStatusPatch({ PostgresClusterStatus: 'Creating', other: 'x' }, next);
    assert.deepEqual(patch, {
      status: {
        PostgresClusterStatus: 'Running',
        other: null,
        observedGeneration: '3',
        conditions: JSON.stringify(next.conditions),
        warnings: JSON.stringify(next.warnings),
      },
    });
    const stored = { status: Object.fromEntries(Object.entries(patch.status).filter(([, v]) => v !== null)) };
    assert.deepEqual(storedStatus(stored), next);
    assert.deepEqual([...storedWarnings(stored)], ['spec.x is accepted but not acted on yet']);
    assert.deepEqual(storedStatus({ status: { PostgresClusterStatus: 'Running', conditions: 'not json' } }), {
      PostgresClusterStatus: 'Running',
    });
  });
});
