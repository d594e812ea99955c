// Deletion (finalizeCluster), v2.0.1 semantics: what is deleted and kept under each policy, Patroni's objects, the
// delete guard, the finalizer removed last, and a second call that does nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import type { OperatorConfig } from '../../lib/model/config';
import { finalizeCluster } from '../../lib/sync/cluster/finalize';
import { FINALIZER } from '../../lib/sync/cluster/finalizer';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

const name = 'acid-minimal-cluster';
const labels = { application: 'spilo', 'cluster-name': name };
const secret = (user: string) => `${user}.${name}.credentials.postgresql.acid.zalan.do`;

describe('finalizeCluster', () => {
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

  /** A synced cluster plus what Patroni and the StatefulSet controller would have made: a pod, a PVC, DCS objects. */
  async function runningCluster(config: OperatorConfig): Promise<string> {
    const namespace = await createNamespace('finalize');
    namespaces.push(namespace);
    await applyManifest(reference('v2.0.1/minimal-postgres-manifest.yaml'), namespace);
    assert.equal((await syncCluster(syncContext(client, config), namespace, name)).outcome, 'synced');
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${name}-0`, namespace, labels: { ...labels, 'spilo-role': 'master' } },
      spec: { containers: [{ name: 'postgres', image: 'spilo' }] },
    });
    await client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `pgdata-${name}-0`, namespace, labels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    for (const suffix of ['-leader', '-config', '-failover', '-sync']) {
      await client.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: `${name}${suffix}`, namespace } });
    }
    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${name}-config`, namespace },
      spec: { clusterIP: 'None' },
    });
    return namespace;
  }

  async function remaining(namespace: string): Promise<string[]> {
    const kinds = [
      'StatefulSet',
      'Pod',
      'PersistentVolumeClaim',
      'Secret',
      'PodDisruptionBudget',
      'Endpoints',
      'Service',
      'ConfigMap',
    ];
    const lists = await Promise.all(kinds.map((kind) => client.list(kind, namespace)));
    return lists
      .flat()
      .map((o: KubeObject) => `${o.kind}/${o.metadata!.name}`)
      .filter((key) => !key.startsWith('ConfigMap/kube-root-ca') && key !== 'Secret/postgres-operator-password-key')
      .sort();
  }

  async function deleteAndFinalize(config: OperatorConfig, namespace: string) {
    assert.equal((await kubectl(['delete', 'postgresql', name, '-n', namespace, '--wait=false'])).code, 0);
    return finalizeCluster(syncContext(client, config), namespace, name);
  }

  /**
   * What kube-controller-manager does, absent from this plane: drops the `kubernetes.io/pvc-protection` finalizer
   * of deleted PVCs no pod uses, so they go.
   */
  async function releaseDeletedClaims(namespace: string): Promise<void> {
    for (const claim of await client.list('PersistentVolumeClaim', namespace)) {
      if (claim.metadata!.deletionTimestamp) {
        await client.mergePatch(
          { kind: 'PersistentVolumeClaim', namespace, name: claim.metadata!.name! },
          { metadata: { finalizers: null } },
        );
      }
    }
  }

  test("without enable_finalizers (Zalando's default): none is added, one there is removed, and the delete event's object is enough to clean up", async () => {
    const config = referenceConfig('v2.0.1');
    assert.equal(config.enable_finalizers, false, "Zalando's ConfigMap switches it off");
    const namespace = await createNamespace('finalize');
    namespaces.push(namespace);
    // As an operator with enable_finalizers on left it.
    await applyManifest(
      { ...reference('v2.0.1/minimal-postgres-manifest.yaml'), metadata: { name, finalizers: [FINALIZER] } },
      namespace,
    );
    assert.equal((await syncCluster(syncContext(client, config), namespace, name)).outcome, 'synced');
    const live = await client.get({ kind: 'postgresql', namespace, name });
    assert.deepEqual(live!.metadata!.finalizers ?? [], [], 'the sync removed the finalizer');
    const writes = client.counter.writes();
    assert.equal((await syncCluster(syncContext(client, config), namespace, name)).outcome, 'synced');
    assert.equal(client.counter.writes(), writes, 'a second sync writes nothing');

    assert.equal((await kubectl(['delete', 'postgresql', name, '-n', namespace])).code, 0);
    assert.equal(await client.get({ kind: 'postgresql', namespace, name }), undefined, 'gone at once');
    assert.equal((await finalizeCluster(syncContext(client, config), namespace, name)).outcome, 'not-found');
    const result = await finalizeCluster(syncContext(client, config), namespace, name, live!);
    assert.equal(result.outcome, 'finalized', JSON.stringify(result));
    assert.deepEqual(await remaining(namespace), [`Secret/${secret('postgres')}`, `Secret/${secret('standby')}`]);
  });

  test("defaults: everything goes except the system users' Secrets, then the finalizer; a second call does nothing", async () => {
    // With owner references, so the test also sees that a kept Secret loses its reference.
    const config = { ...referenceConfig('v2.0.1'), enable_owner_references: true, enable_finalizers: true };
    const namespace = await runningCluster(config);
    const live = await client.get({ kind: 'postgresql', namespace, name });
    assert.deepEqual(live!.metadata!.finalizers, [FINALIZER], 'the sync added the finalizer');
    const first = await deleteAndFinalize(config, namespace);
    assert.equal(first.outcome, 'cleaning', 'the PVC is still there (pvc-protection): the finalizer stays');
    assert.deepEqual(first.remaining, [`PersistentVolumeClaim/pgdata-${name}-0`]);
    assert.ok(
      first.deleted.includes(`Pod/${name}-0`) && first.deleted.includes(`PersistentVolumeClaim/pgdata-${name}-0`),
    );
    assert.ok(first.deleted.includes(`Endpoints/${name}-leader`) && first.deleted.includes(`Service/${name}-config`));
    assert.deepEqual((await client.get({ kind: 'postgresql', namespace, name }))!.metadata!.finalizers, [FINALIZER]);
    await releaseDeletedClaims(namespace);
    const result = await finalizeCluster(syncContext(client, config), namespace, name);
    assert.equal(result.outcome, 'finalized', JSON.stringify(result));
    assert.deepEqual(result.deleted, [], 'the second call only observed');
    assert.deepEqual(await remaining(namespace), [`Secret/${secret('postgres')}`, `Secret/${secret('standby')}`]);
    for (const user of ['postgres', 'standby']) {
      const kept = await client.get({ kind: 'Secret', namespace, name: secret(user) });
      assert.equal(
        kept!.metadata!.ownerReferences,
        undefined,
        'a kept Secret loses its owner reference, or GC would delete it',
      );
    }
    assert.equal(
      await client.get({ kind: 'postgresql', namespace, name }),
      undefined,
      'the finalizer was removed and the object is gone',
    );
    client.counter.reset();
    assert.equal((await finalizeCluster(syncContext(client, config), namespace, name)).outcome, 'not-found');
    assert.equal(client.counter.writes(), 0);
  });

  test('enable_secrets_deletion and enable_persistent_volume_claim_deletion off: Secrets and PVCs stay', async () => {
    const config = {
      ...referenceConfig('v2.0.1'),
      enable_finalizers: true,
      enable_secrets_deletion: false,
      enable_persistent_volume_claim_deletion: false,
    };
    const namespace = await runningCluster(config);
    const result = await deleteAndFinalize(config, namespace);
    assert.equal(result.outcome, 'finalized', JSON.stringify(result));
    assert.deepEqual(
      await remaining(namespace),
      [
        `PersistentVolumeClaim/pgdata-${name}-0`,
        ...['foo-user', 'postgres', 'standby', 'zalando'].map((user) => `Secret/${secret(user)}`),
      ].sort(),
    );
  });

  test("the delete guard holds until the object carries today's date and its name, and says so", async () => {
    const config = {
      ...referenceConfig('v2.0.1'),
      enable_finalizers: true,
      delete_annotation_date_key: 'delete-date',
      delete_annotation_name_key: 'delete-clustername',
    };
    const namespace = await runningCluster(config);
    const before = await remaining(namespace);
    const blocked = await deleteAndFinalize(config, namespace);
    assert.equal(blocked.outcome, 'blocked');
    assert.match(blocked.error!, /delete-date: "\d{4}-\d{2}-\d{2}" and delete-clustername: "acid-minimal-cluster"/);
    assert.deepEqual(await remaining(namespace), before, 'nothing was deleted');
    const events = (await client.list('Event', namespace)).filter((e) => e.reason === 'DeleteBlocked');
    assert.equal(events.length, 1);
    client.counter.reset();
    assert.equal((await finalizeCluster(syncContext(client, config), namespace, name)).outcome, 'blocked');
    assert.equal(client.counter.writes(), 0, 'a second blocked call writes no second Event');

    const today = new Date().toISOString().slice(0, 10);
    await client.mergePatch(
      { kind: 'postgresql', namespace, name },
      { metadata: { annotations: { 'delete-date': today, 'delete-clustername': name } } },
    );
    assert.equal((await finalizeCluster(syncContext(client, config), namespace, name)).outcome, 'cleaning');
    await releaseDeletedClaims(namespace);
    assert.equal((await finalizeCluster(syncContext(client, config), namespace, name)).outcome, 'finalized');
    assert.equal(await client.get({ kind: 'postgresql', namespace, name }), undefined);
  });

  test('a live object is not finalized', async () => {
    // With owner references, so the test also sees that a kept Secret loses its reference.
    const config = { ...referenceConfig('v2.0.1'), enable_owner_references: true, enable_finalizers: true };
    const namespace = await runningCluster(config);
    client.counter.reset();
    assert.equal((await finalizeCluster(syncContext(client, config), namespace, name)).outcome, 'not-deleting');
    assert.equal(client.counter.writes(), 0);
  });
});
