// The connection pooler on the API server: Zalando's complete manifest with both poolers on gives the Deployments,
// Services and Secret of Zalando v1.15.1's shapes; a second sync writes nothing; changes update the Deployment in
// place; edits and deletions are repaired (also by fleet sync); turning a pooler off removes its objects;
// finalizeCluster removes them with the cluster.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { finalizeCluster } from '../../lib/sync/cluster/finalize';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { syncFleet } from '../../lib/sync/fleet/sync-fleet';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

const name = 'acid-minimal-cluster';
const master = `${name}-pooler`;
const replica = `${name}-pooler-repl`;
const poolerSecret = `pooler.${name}.credentials.postgresql.acid.zalan.do`;

const envOf = (deployment: KubeObject): Record<string, unknown> =>
  Object.fromEntries(
    (
      deployment.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>
    ).map((e) => [e.name, e.value ?? e.valueFrom]),
  );
const written = (result: { actions: Array<{ change: string; kind: string; name: string }> }) =>
  result.actions.map((a) => `${a.change} ${a.kind}/${a.name}`).sort();

describe('connection pooler', () => {
  let client: KubeClient;
  const namespaces: string[] = [];
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(async () => {
    client.close();
    for (const ns of namespaces) await deleteNamespace(ns);
  });

  async function cluster(spec: Record<string, unknown>): Promise<string> {
    const namespace = await createNamespace('pooler');
    namespaces.push(namespace);
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    Object.assign(manifest.spec, spec);
    await applyManifest(manifest, namespace);
    return namespace;
  }
  const get = (kind: string, namespace: string, objectName: string) =>
    client.get({ kind, namespace, name: objectName });
  const patchSpec = (namespace: string, spec: Record<string, unknown>) =>
    client.mergePatch({ kind: 'postgresql', namespace, name }, { spec });

  test('both poolers: objects of Zalando shape, a second sync writes nothing', async () => {
    const namespace = await cluster({
      enableConnectionPooler: true,
      enableReplicaConnectionPooler: true,
      enableReplicaPoolerLoadBalancer: true,
      allowedSourceRanges: ['10.0.0.0/8'],
      connectionPooler: { numberOfInstances: 3, maxDBConnections: 90, mode: 'session' },
    });
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    const first = await syncCluster(ctx, namespace, name);
    assert.equal(first.outcome, 'synced', first.error);
    for (const expected of [
      `created Deployment/${master}`,
      `created Deployment/${replica}`,
      `created Service/${master}`,
      `created Service/${replica}`,
      `created Secret/${poolerSecret}`,
    ])
      assert.ok(written(first).includes(expected), `${expected} in ${written(first).join(', ')}`);

    const deployment = (await get('Deployment', namespace, master))!;
    assert.deepEqual(deployment.spec.selector.matchLabels, {
      application: 'db-connection-pooler',
      'cluster-name': name,
      'connection-pooler': master,
    });
    assert.equal(deployment.spec.replicas, 3);
    const env = envOf(deployment);
    assert.equal(env.PGHOST, name);
    assert.equal(env.CONNECTION_POOLER_MODE, 'session');
    assert.equal(env.CONNECTION_POOLER_MAX_DB_CONN, '30');
    assert.equal(env.CONNECTION_POOLER_DEFAULT_SIZE, '15');
    assert.equal(envOf((await get('Deployment', namespace, replica))!).PGHOST, `${name}-repl`);
    const lb = (await get('Service', namespace, replica))!;
    assert.equal(lb.spec.type, 'LoadBalancer');
    assert.deepEqual(lb.spec.loadBalancerSourceRanges, ['10.0.0.0/8']);
    assert.equal((await get('Service', namespace, master))!.spec.type, 'ClusterIP');
    const secret = (await get('Secret', namespace, poolerSecret))!;
    assert.equal(Buffer.from(secret.data.username, 'base64').toString(), 'pooler');
    assert.equal(secret.metadata!.labels!['connection-pooler'], master);

    const second = await syncCluster(ctx, namespace, name);
    assert.equal(second.outcome, 'synced', second.error);
    assert.deepEqual(written(second), []);
  });

  test('changes update the Deployment in place; edits and deletions are repaired, by fleet sync too', async () => {
    const namespace = await cluster({ enableConnectionPooler: true });
    const ctx = syncContext(client, { ...referenceConfig('v2.0.1'), watched_namespace: namespace });
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    const uid = (await get('Deployment', namespace, master))!.metadata!.uid;

    await patchSpec(namespace, {
      connectionPooler: {
        numberOfInstances: 1,
        dockerImage: 'example.com/pgbouncer:1',
        resources: { limits: { cpu: '2' } },
      },
    });
    const changed = await syncCluster(ctx, namespace, name);
    assert.deepEqual(written(changed), [`updated Deployment/${master}`]);
    const after = (await get('Deployment', namespace, master))!;
    assert.equal(after.metadata!.uid, uid, 'updated in place');
    assert.equal(after.spec.replicas, 1);
    assert.equal(after.spec.template.spec.containers[0].image, 'example.com/pgbouncer:1');
    assert.equal(after.spec.template.spec.containers[0].resources.limits.cpu, '2');

    assert.equal((await kubectl(['scale', '-n', namespace, 'deployment', master, '--replicas=4'])).code, 0);
    assert.equal((await kubectl(['delete', '-n', namespace, `service/${master}`])).code, 0);
    const fleet = await syncFleet(ctx, { operatorNamespace: namespace, deadlineMs: 60_000 });
    const whys = fleet.items.map((i) => i.why).join('\n');
    assert.match(whys, new RegExp(`Deployment ${master}: spec.replicas: 4 -> 1`));
    assert.match(whys, new RegExp(`Service ${master} is missing`));
    assert.equal(fleet.failed, 0, JSON.stringify(fleet.items));
    assert.equal((await get('Deployment', namespace, master))!.spec.replicas, 1);
    assert.ok(await get('Service', namespace, master));
    const again = await syncFleet(ctx, { operatorNamespace: namespace, deadlineMs: 60_000 });
    assert.equal(again.inSync, 1, JSON.stringify(again.items));
  });

  test('turning poolers off removes their objects, the Secret once none runs; a second sync writes nothing', async () => {
    const namespace = await cluster({ enableConnectionPooler: true, enableReplicaConnectionPooler: true });
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');

    await patchSpec(namespace, { enableReplicaConnectionPooler: false });
    const off = await syncCluster(ctx, namespace, name);
    assert.deepEqual(written(off), [`deleted Deployment/${replica}`, `deleted Service/${replica}`]);
    assert.equal(await get('Deployment', namespace, replica), undefined);
    assert.ok(await get('Deployment', namespace, master));
    assert.ok(await get('Secret', namespace, poolerSecret), 'the master pooler still runs');

    await patchSpec(namespace, { enableConnectionPooler: false });
    const none = await syncCluster(ctx, namespace, name);
    assert.deepEqual(written(none), [
      `deleted Deployment/${master}`,
      `deleted Secret/${poolerSecret}`,
      `deleted Service/${master}`,
    ]);
    assert.deepEqual(written(await syncCluster(ctx, namespace, name)), []);
  });

  test('without enable_secrets_deletion the pooler Secret stays when the pooler is turned off', async () => {
    const namespace = await cluster({ enableConnectionPooler: true });
    const ctx = syncContext(client, { ...referenceConfig('v2.0.1'), enable_secrets_deletion: false });
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    await patchSpec(namespace, { enableConnectionPooler: false });
    const none = await syncCluster(ctx, namespace, name);
    assert.deepEqual(written(none), [`deleted Deployment/${master}`, `deleted Service/${master}`]);
    assert.ok(await get('Secret', namespace, poolerSecret));
  });

  test('deleting the cluster removes the pooler objects', async () => {
    const namespace = await cluster({ enableConnectionPooler: true, enableReplicaConnectionPooler: true });
    const ctx = syncContext(client, { ...referenceConfig('v2.0.1'), enable_finalizers: true });
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    assert.equal((await kubectl(['delete', '-n', namespace, 'postgresql', name, '--wait=false'])).code, 0);
    const result = await finalizeCluster(ctx, namespace, name);
    assert.equal(result.outcome, 'finalized', JSON.stringify(result));
    for (const gone of [`Deployment/${master}`, `Deployment/${replica}`, `Service/${master}`, `Service/${replica}`])
      assert.ok(result.deleted.includes(gone), `${gone} in ${result.deleted.join(', ')}`);
    assert.deepEqual(
      (await client.list('Deployment', namespace)).map((d) => d.metadata?.name),
      [],
    );
  });
});
