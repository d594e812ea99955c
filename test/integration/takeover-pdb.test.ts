// Taking over a cluster whose critical-operation PodDisruptionBudget Zalando's operator v1.15 made: it sets
// `minAvailable`, this operator `maxUnavailable`, and the API refuses both at once (422). The sync hands the field
// over in one merge patch, then applies; every sync succeeds and the second one writes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';

const name = 'acid-minimal-cluster';
const pdbName = `postgres-${name}-critical-op-pdb`;

describe('taking over PodDisruptionBudgets', () => {
  let client: KubeClient;
  let namespace = '';
  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('takeover-pdb');
  });
  after(async () => {
    client.close();
    await deleteNamespace(namespace);
  });

  test("Zalando v1.15's critical-operation PDB (minAvailable) becomes ours (maxUnavailable) without a failed sync", async () => {
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    await applyManifest(manifest, namespace);
    // As Zalando's operator v1.15.1 creates it (generateCriticalOpPodDisruptionBudget), under its own field manager.
    const zalando = new KubeClient(client.kubeConfig, { fieldManager: 'postgres-operator' });
    const labels = { application: 'spilo', 'cluster-name': name, team: manifest.spec.teamId };
    await zalando.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: pdbName, namespace, labels },
      spec: {
        minAvailable: manifest.spec.numberOfInstances,
        selector: { matchLabels: { application: 'spilo', 'cluster-name': name, 'critical-operation': 'true' } },
      },
    });
    zalando.close();

    const ctx = syncContext(client, { ...referenceConfig('v2.0.1'), enable_database_access: false });
    const first = await syncCluster(ctx, namespace, name);
    assert.equal(first.outcome, 'synced', first.error);
    const handover = first.actions.find((a) => a.name === pdbName);
    assert.match(handover?.reason ?? '', /spec\.minAvailable removed, spec\.maxUnavailable set to 0 first/);
    const pdb = await client.get({ kind: 'PodDisruptionBudget', namespace, name: pdbName });
    assert.equal(pdb!.spec.maxUnavailable, 0);
    assert.equal('minAvailable' in pdb!.spec, false);

    const writes = client.counter.writes();
    const second = await syncCluster(ctx, namespace, name);
    assert.equal(second.outcome, 'synced', second.error);
    assert.deepEqual(second.actions, []);
    assert.equal(client.counter.writes(), writes, 'the second sync makes no write request');
  });
});
