// fleetDecision: what fleet sync does with a listed cluster, in order (deleting, sync-now, no finalizer, failed,
// generation, rolling update, invalid, drift, status, roles), asking for the in-memory diff only when needed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredObject } from '../../../lib/builders';
import type { Condition } from '../../../lib/model/postgresql';
import {
  clusterDrift,
  fleetDecision,
  masterEndpointsUp,
  type FleetDiff,
  type FleetRecord,
} from '../../../lib/plan/fleet';
import type { Action } from '../../../lib/plan/plan';

const record = (extra: Partial<FleetRecord> = {}): FleetRecord => ({
  deleting: false,
  hasFinalizer: true,
  generation: 3,
  status: { PostgresClusterStatus: 'Running', observedGeneration: 3 },
  ...extra,
});
const inSync: FleetDiff = {
  valid: true,
  drift: [],
  statusChanges: false,
  progress: '2 of 2 pods ready',
  masterUp: true,
};
const endpoints = { kubernetes_use_configmaps: false, enable_finalizers: true };
const configMaps = { kubernetes_use_configmaps: true, enable_finalizers: true };

/** A diff that fails the test when asked for. */
const notAsked = (): FleetDiff => assert.fail('the in-memory diff was computed although the record decides');
const decide = (r: FleetRecord, diff: FleetDiff = inSync, config = endpoints) => fleetDecision(r, () => diff, config);
const rolling = (reason: string, status: 'True' | 'False' = 'True'): Condition => ({
  type: 'RollingUpdate',
  status,
  reason,
  message: `pods wait (${reason})`,
});

describe('fleetDecision', () => {
  it('finalizes a cluster being deleted while the finalizer is there, and leaves it alone after', () => {
    assert.deepEqual(fleetDecision(record({ deleting: true }), notAsked, endpoints), {
      action: 'finalize',
      why: 'being deleted',
    });
    assert.equal(fleetDecision(record({ deleting: true, hasFinalizer: false }), notAsked, endpoints), undefined);
  });

  it('syncs on the sync-now annotation (any value), then without a finalizer, without building anything', () => {
    assert.deepEqual(fleetDecision(record({ annotations: { 'acid.zalan.do/sync-now': '' } }), notAsked, endpoints), {
      action: 'sync',
      why: 'annotation acid.zalan.do/sync-now',
    });
    assert.deepEqual(fleetDecision(record({ hasFinalizer: false }), notAsked, endpoints), {
      action: 'sync',
      why: 'no finalizer yet',
    });
  });

  it('without enable_finalizers: a cluster without the finalizer is in sync, one with it is synced to remove it', () => {
    const off = { ...endpoints, enable_finalizers: false };
    assert.equal(
      fleetDecision(record({ hasFinalizer: false }), () => inSync, off),
      undefined,
    );
    assert.deepEqual(fleetDecision(record({ hasFinalizer: true }), notAsked, off), {
      action: 'sync',
      why: 'a finalizer that enable_finalizers no longer asks for',
    });
  });

  it('re-syncs a failed last sync (Zalando repair), and a generation not synced yet', () => {
    for (const failed of ['CreateFailed', 'UpdateFailed', 'SyncFailed']) {
      assert.deepEqual(
        fleetDecision(
          record({ status: { PostgresClusterStatus: failed, observedGeneration: 3 } }),
          notAsked,
          endpoints,
        ),
        { action: 'sync', why: `last sync ended ${failed}` },
      );
    }
    assert.deepEqual(fleetDecision(record({ generation: 4 }), notAsked, endpoints), {
      action: 'sync',
      why: 'generation 4 not synced yet (status is for 3)',
    });
    assert.deepEqual(fleetDecision(record({ status: undefined }), notAsked, endpoints), {
      action: 'sync',
      why: 'generation 3 not synced yet (status is for none)',
    });
  });

  it('carries on a rolling update in progress, but not a paused or finished one', () => {
    const status = (c: Condition) => ({ PostgresClusterStatus: 'Running', observedGeneration: 3, conditions: [c] });
    assert.deepEqual(fleetDecision(record({ status: status(rolling('Blocked')) }), notAsked, endpoints), {
      action: 'sync',
      why: 'rolling update: pods wait (Blocked)',
    });
    assert.equal(decide(record({ status: status(rolling('Paused')) })), undefined);
    assert.equal(decide(record({ status: status(rolling('Completed', 'False')) })), undefined);
  });

  it('syncs an invalid manifest only while its status is not reported', () => {
    assert.deepEqual(decide(record(), { valid: false, statusChanges: true }), {
      action: 'sync',
      why: 'invalid manifest not reported yet',
    });
    assert.equal(decide(record(), { valid: false, statusChanges: false }), undefined);
  });

  it('syncs on drift (every reason), then on a status change', () => {
    assert.deepEqual(decide(record(), { ...inSync, drift: ['Service acid-a-repl is missing', 'Secret x changed'] }), {
      action: 'sync',
      why: 'Service acid-a-repl is missing; Secret x changed',
    });
    assert.deepEqual(decide(record(), { ...inSync, statusChanges: true, progress: '1 of 2 pods ready' }), {
      action: 'sync',
      why: 'status changes (1 of 2 pods ready)',
    });
  });

  it('is in sync when nothing differs and the roles step is done', () => {
    assert.equal(decide(record()), undefined);
    assert.equal(decide(record({ roles: { type: 'RolesSynced', status: 'True', reason: 'Synced' } })), undefined);
  });

  it('retries a failed roles step every run, a wait for the master once it is up (endpoints mode only)', () => {
    assert.deepEqual(decide(record({ roles: { type: 'RolesSynced', status: 'False', reason: 'ConnectionFailed' } })), {
      action: 'sync',
      why: 'roles and databases: ConnectionFailed',
    });
    const waiting = record({ roles: { type: 'RolesSynced', status: 'False', reason: 'WaitingForMaster' } });
    assert.deepEqual(decide(waiting), { action: 'sync', why: 'roles and databases: the master is up' });
    assert.equal(decide(waiting, { ...inSync, masterUp: false }), undefined);
    assert.equal(decide(waiting, inSync, configMaps), undefined);
  });

  it('syncs a cluster whose password rotation is due: only the role step sees a date pass', () => {
    assert.deepEqual(decide(record(), { ...inSync, rotationsDue: ['app', 'flyway'] }), {
      action: 'sync',
      why: 'password rotation due: app, flyway',
    });
    assert.equal(decide(record(), { ...inSync, rotationsDue: [] }), undefined);
    assert.equal(decide(record(), { ...inSync, rotationsDue: ['app'], masterUp: false }), undefined);
  });
});

describe('masterEndpointsUp', () => {
  it('is up when a subset has an address', () => {
    assert.equal(masterEndpointsUp({ subsets: [{ addresses: [] }, { addresses: [{ ip: '10.0.0.1' }] }] }), true);
    assert.equal(masterEndpointsUp({ subsets: [{ addresses: [] }, {}] }), false);
    assert.equal(masterEndpointsUp({}), false);
    assert.equal(masterEndpointsUp(undefined), false);
  });
});

describe('clusterDrift', () => {
  const object = (kind: string, name: string): DesiredObject => ({ apiVersion: 'v1', kind, metadata: { name } });
  const action = (kind: string, name: string, reason: string): Action => ({
    type: 'apply',
    change: 'updated',
    object: object(kind, name),
    reason,
  });

  it('leaves out the writes of the shared objects, fleet sync makes those once per namespace', () => {
    const actions = [
      action('Service', 'acid-a', 'Service acid-a changed'),
      action('ServiceAccount', 'postgres-pod', 'ServiceAccount postgres-pod is missing'),
      action('Secret', 'postgres.acid-a', 'Secret postgres.acid-a is missing'),
    ];
    assert.deepEqual(
      clusterDrift(actions, [object('ServiceAccount', 'postgres-pod'), object('RoleBinding', 'postgres-pod')]),
      ['Service acid-a changed', 'Secret postgres.acid-a is missing'],
    );
    assert.deepEqual(clusterDrift([], []), []);
  });
});
