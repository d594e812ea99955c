import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace } from './testenv';

describe('syncCluster on a real API server', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  test('v2.0.1 minimal manifest under the v2.0.1 ConfigMap: children created, second sync writes nothing', async () => {
    const namespace = await createNamespace('sync');
    await applyManifest(reference('v2.0.1/minimal-postgres-manifest.yaml'), namespace);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    const first = await syncCluster(ctx, namespace, 'acid-minimal-cluster');
    assert.equal(first.outcome, 'synced', first.error);
    assert.deepEqual(first.actions.map((a) => `${a.kind}/${a.name}`).sort(), [
      'Endpoints/acid-minimal-cluster',
      'PodDisruptionBudget/postgres-acid-minimal-cluster-critical-op-pdb',
      'PodDisruptionBudget/postgres-acid-minimal-cluster-pdb',
      'RoleBinding/postgres-pod',
      'Secret/foo-user.acid-minimal-cluster.credentials.postgresql.acid.zalan.do',
      'Secret/postgres.acid-minimal-cluster.credentials.postgresql.acid.zalan.do',
      'Secret/standby.acid-minimal-cluster.credentials.postgresql.acid.zalan.do',
      'Secret/zalando.acid-minimal-cluster.credentials.postgresql.acid.zalan.do',
      'Service/acid-minimal-cluster',
      'Service/acid-minimal-cluster-repl',
      'ServiceAccount/postgres-pod',
      'StatefulSet/acid-minimal-cluster',
    ]);
    client.counter.reset();
    const second = await syncCluster(ctx, namespace, 'acid-minimal-cluster');
    assert.equal(second.outcome, 'synced', second.error);
    assert.deepEqual(second.actions, []);
    assert.equal(client.counter.writes(), 0, JSON.stringify(client.counter.snapshot()));
  });
});
