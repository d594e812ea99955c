// Drift repair: deleted or edited children come back on the next sync, passwords are never replaced.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, kubectl } from './testenv';

const name = 'acid-minimal-cluster';
const secret = `zalando.${name}.credentials.postgresql.acid.zalan.do`;

describe('repairing drift', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  test('a deleted replica Service and Secret are recreated, with the same password', async () => {
    const namespace = await createNamespace('repair');
    await applyManifest(reference('v2.0.1/minimal-postgres-manifest.yaml'), namespace);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    const before = await client.get({ kind: 'Secret', namespace, name: secret });
    assert.equal((await kubectl(['delete', '-n', namespace, `service/${name}-repl`, `secret/${secret}`])).code, 0);
    const repaired = await syncCluster(ctx, namespace, name);
    assert.deepEqual(repaired.actions.map((a) => `${a.change} ${a.kind}/${a.name}`).sort(), [
      `created Secret/${secret}`,
      `created Service/${name}-repl`,
    ]);
    const after = await client.get({ kind: 'Secret', namespace, name: secret });
    assert.equal(after!.data.password, before!.data.password);
    assert.ok(await client.get({ kind: 'Service', namespace, name: `${name}-repl` }));
  });

  test('a password someone set in a Secret is kept, even after its labels were removed', async () => {
    const namespace = await createNamespace('repair');
    await applyManifest(reference('v2.0.1/minimal-postgres-manifest.yaml'), namespace);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    await syncCluster(ctx, namespace, name);
    const chosen = Buffer.from('a-password-the-user-chose').toString('base64');
    await client.mergePatch({ kind: 'Secret', namespace, name: secret }, { data: { password: chosen } });
    assert.equal((await syncCluster(ctx, namespace, name)).actions.length, 0);
    // strip the labels: the label-selected list no longer finds it, the sync must still keep its password
    assert.equal(
      (await kubectl(['label', '-n', namespace, 'secret', secret, 'application-', 'cluster-name-'])).code,
      0,
    );
    const repaired = await syncCluster(ctx, namespace, name);
    assert.deepEqual(
      repaired.actions.map((a) => `${a.change} ${a.kind}/${a.name}`),
      [`updated Secret/${secret}`],
    );
    const relabelled = await client.get({ kind: 'Secret', namespace, name: secret });
    assert.equal(relabelled!.data.password, chosen);
    assert.equal(relabelled!.metadata!.labels!['cluster-name'], name);
  });

  test('an edited StatefulSet and a changed label are reverted with the reason', async () => {
    const namespace = await createNamespace('repair');
    await applyManifest(reference('v2.0.1/minimal-postgres-manifest.yaml'), namespace);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    await syncCluster(ctx, namespace, name);
    assert.equal((await kubectl(['scale', '-n', namespace, 'statefulset', name, '--replicas=5'])).code, 0);
    assert.equal((await kubectl(['label', '--overwrite', '-n', namespace, 'service', name, 'team=other'])).code, 0);
    const repaired = await syncCluster(ctx, namespace, name);
    const reasons = repaired.actions.map((a) => a.reason);
    assert.ok(reasons.includes(`StatefulSet ${name}: spec.replicas: 5 -> 2`), reasons.join('\n'));
    assert.ok(reasons.includes(`Service ${name}: metadata.labels.team: "other" -> "acid"`), reasons.join('\n'));
    const sts = await client.get({ kind: 'StatefulSet', namespace, name });
    assert.equal(sts!.spec.replicas, 2);
  });

  test('numberOfInstances changes follow, and an Event says why', async () => {
    const namespace = await createNamespace('repair');
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    await applyManifest(manifest, namespace);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    await syncCluster(ctx, namespace, name);
    await applyManifest({ ...manifest, spec: { ...manifest.spec, numberOfInstances: 3 } }, namespace);
    const result = await syncCluster(ctx, namespace, name);
    assert.deepEqual(
      result.actions.map((a) => a.reason),
      [`StatefulSet ${name}: spec.replicas: 2 -> 3`],
    );
    const events = await client.list('Event', namespace);
    assert.ok(
      events.some((e) => e.reason === 'Updated' && e.message.includes('spec.replicas: 2 -> 3')),
      events.map((e) => `${e.reason}: ${e.message}`).join('\n'),
    );
  });
});
