import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseOperatorConfig } from '../../../lib/model/config';
import {
  clusterDatabases,
  clusterLogs,
  clusterStatusView,
  clusterSummary,
  configView,
  controllerStatus,
  teamClusters,
  workerStatus,
  type PostgresqlObject,
} from '../../../lib/api/shape';

const parsed = parseOperatorConfig({ aws_region: 'eu-1', logical_backup_s3_secret_access_key: 'hunter2' }, {});
if (!parsed.ok) throw new Error('config');
const config = parsed.config;

const pg = (
  namespace: string,
  name: string,
  team: string,
  extra: Partial<PostgresqlObject> = {},
): PostgresqlObject => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { namespace, name },
  spec: { teamId: team, numberOfInstances: 2, postgresql: { version: '17' }, volume: { size: '1Gi' } },
  ...extra,
});

describe('operator API shapes (Zalando v1.15.1 JSON)', () => {
  const running = pg('b', 'acid-one', 'ACID', {
    spec: { teamId: 'ACID', databases: { zoo: 'a', bar: 'b' } },
    status: {
      PostgresClusterStatus: 'Running',
      conditions: [
        { type: 'Degraded', status: 'False', reason: 'AsExpected', lastTransitionTime: '2026-01-02T03:04:05Z' },
      ],
    },
  });
  const failing = pg('a', 'acid-two', 'acid', {
    status: {
      PostgresClusterStatus: 'SyncFailed',
      conditions: [
        { type: 'Degraded', status: 'True', reason: 'SyncFailed', message: 'boom' },
        { type: 'Progressing', status: 'True', reason: 'WaitingForPods', lastTransitionTime: '2026-01-01T00:00:00Z' },
      ],
    },
  });
  const other = pg('a', 'web-db', 'Web');

  test('/clusters/: names by lower-cased team, in namespace then name order', () => {
    assert.deepEqual(teamClusters([running, failing, other]), { acid: ['acid-two', 'acid-one'], web: ['web-db'] });
  });

  test('/databases/: sorted database names by cluster, clusters without databases left out', () => {
    assert.deepEqual(clusterDatabases([running, failing]), { 'acid-one': ['bar', 'zoo'] });
  });

  test('/status/: the latest successful sync (unix seconds) and the count', () => {
    assert.deepEqual(controllerStatus([running, failing]), {
      LastSyncTime: Date.parse('2026-01-02T03:04:05Z') / 1000,
      Clusters: 2,
      WorkerQueueSize: {},
    });
    assert.equal(controllerStatus([]).LastSyncTime, 0);
  });

  test('cluster status: Zalando field names, the live children, the failure and the process in progress', () => {
    const service = { kind: 'Service', metadata: { name: 'acid-two' } };
    const pdb = { kind: 'PodDisruptionBudget', metadata: { name: 'postgres-acid-two-pdb' } };
    const view = clusterStatusView(
      failing,
      new Map<string, unknown>([
        ['Service/acid-two', service],
        ['PodDisruptionBudget/postgres-acid-two-pdb', pdb],
      ]),
      config,
    );
    assert.deepEqual(Object.keys(view), [
      'Team',
      'Cluster',
      'Namespace',
      'MasterService',
      'ReplicaService',
      'MasterEndpoint',
      'ReplicaEndpoint',
      'StatefulSet',
      'PrimaryPodDisruptionBudget',
      'CriticalOpPodDisruptionBudget',
      'CurrentProcess',
      'Worker',
      'Status',
      'Spec',
      'Error',
    ]);
    assert.equal(view.MasterService, service);
    assert.equal(view.ReplicaService, null);
    assert.equal(view.PrimaryPodDisruptionBudget, pdb);
    assert.equal(view.Error, 'boom');
    assert.deepEqual(view.CurrentProcess, { Name: 'Progressing: WaitingForPods', StartTime: '2026-01-01T00:00:00Z' });
    assert.equal(clusterStatusView(running, new Map(), config).Error, null);
  });

  test('logs: the Events of that postgresql object, oldest first, as LogEntry lines', () => {
    const event = (name: string, time: string, type = 'Normal') => ({
      type,
      reason: 'Created',
      message: `at ${time}`,
      lastTimestamp: time,
      involvedObject: { kind: 'postgresql', name, namespace: 'a' },
    });
    const logs = clusterLogs(
      [
        event('acid-two', '2026-01-01T00:00:02Z', 'Warning'),
        event('acid-two', '2026-01-01T00:00:01Z'),
        event('x', 'z'),
      ],
      { namespace: 'a', name: 'acid-two' },
    );
    assert.deepEqual(
      logs.map((l) => [l.Level, l.Message]),
      [
        ['info', 'at 2026-01-01T00:00:01Z'],
        ['warning', 'at 2026-01-01T00:00:02Z'],
      ],
    );
    assert.equal(logs[0]!.ClusterName, 'a/acid-two', "Zalando's NamespacedName marshals as one string");
  });

  test('worker status: idle, or busy on the first progressing cluster', () => {
    assert.equal(workerStatus([running, other]), 'idle');
    assert.deepEqual(workerStatus([running, failing, other]), {
      CurrentCluster: { Namespace: 'a', Name: 'acid-two' },
      CurrentProcess: { Name: 'Progressing: WaitingForPods', StartTime: '2026-01-01T00:00:00Z' },
    });
  });

  test('config: every key, credentials redacted, empty ones shown as they are', () => {
    const view = configView(config, {
      ConfigMapName: { namespace: 'ops', name: 'postgres-operator' },
      Namespace: 'ops',
      WatchedNamespaces: '*',
      Warnings: [],
    });
    assert.equal(view.operator.aws_region, 'eu-1');
    assert.equal(view.operator.logical_backup_s3_secret_access_key, '<redacted>');
    assert.equal(view.operator.logical_backup_s3_access_key_id, '');
    assert.deepEqual(view.controller.ConfigMapName, { Namespace: 'ops', Name: 'postgres-operator' });
  });

  test('summary: pods ready, flagged for a rolling update, rollout state', () => {
    const pod = (ready: boolean, flagged: boolean) => ({
      metadata: {
        name: 'p',
        annotations: (flagged ? { 'zalando-postgres-operator-rolling-update-required': 'true' } : {}) as Record<
          string,
          string
        >,
      },
      status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    const rolling = pg('a', 'c', 'acid', {
      status: {
        PostgresClusterStatus: 'Updating',
        conditions: [{ type: 'RollingUpdate', status: 'True', reason: 'Paused' }],
      },
    });
    const summary = clusterSummary(rolling, [pod(true, true), pod(false, false)]);
    assert.deepEqual(
      [summary.wantedPods, summary.readyPods, summary.pods, summary.outdatedPods, summary.rollout, summary.status],
      [2, 1, 2, 1, 'Paused', 'Updating'],
    );
    assert.equal(clusterSummary(other, []).rollout, 'none');
  });
});
