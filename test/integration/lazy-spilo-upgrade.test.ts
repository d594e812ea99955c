// enable_lazy_spilo_upgrade through syncCluster on the test control plane (pods made by the test, as the
// StatefulSet controller would): with it on, a new image reaches the StatefulSet and the pods keep theirs; turned
// off, every pod still on another Spilo image is flagged for the rolling update (Zalando v1.15.1, syncStatefulSet),
// pods made by Zalando's operator (no template hash of ours) included.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../lib/model/annotations';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { installCrd, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace } from './testenv';
import { createPods, events, flaggedPods, manifest } from './updates-fixtures';

const NEW_IMAGE = 'ghcr.io/zalando/spilo-17:4.0-p3';

describe('enable_lazy_spilo_upgrade', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  const base = () => ({ ...referenceConfig('v2.0.1'), enable_database_access: false });

  test('turned off after a lazy image change: the pods still on the old image are flagged', async () => {
    const namespace = await createNamespace('lazy');
    const name = 'acid-lazy';
    const lazy = syncContext(client, { ...base(), enable_lazy_spilo_upgrade: true });
    await client.create({ ...manifest(name, { numberOfInstances: 2 }), metadata: { name, namespace } });
    await syncCluster(lazy, namespace, name);
    await createPods(client, namespace, name, 2);
    await client.mergePatch({ kind: 'postgresql', namespace, name }, { spec: { dockerImage: NEW_IMAGE } });
    assert.equal((await syncCluster(lazy, namespace, name)).outcome, 'synced');
    assert.deepEqual(await flaggedPods(client, namespace, name), [], 'lazy: the pods keep their image');
    assert.deepEqual(await flaggedPods(client, namespace, name), []);

    const off = syncContext(client, { ...base(), enable_lazy_spilo_upgrade: false });
    const result = await syncCluster(off, namespace, name);
    assert.equal(result.outcome, 'synced', result.error);
    assert.deepEqual(await flaggedPods(client, namespace, name), [`${name}-0`, `${name}-1`]);
  });

  /** A cluster synced under `lazyUpgrade`, its two pods as Zalando's operator left them: no template hash of ours,
   * pod 0 on an older Spilo image. */
  async function takenOver(name: string, lazyUpgrade: boolean) {
    const namespace = await createNamespace('lazy');
    const ctx = syncContext(client, { ...base(), enable_lazy_spilo_upgrade: lazyUpgrade });
    await client.create({
      ...manifest(name, { numberOfInstances: 2, dockerImage: NEW_IMAGE }),
      metadata: { name, namespace },
    });
    await syncCluster(ctx, namespace, name);
    await createPods(client, namespace, name, 2);
    await client.mergePatch(
      { kind: 'Pod', namespace, name: `${name}-1` },
      { metadata: { annotations: { [POD_TEMPLATE_HASH_ANNOTATION]: null } } },
    );
    const old = (await client.get({ kind: 'Pod', namespace, name: `${name}-0` }))!;
    await client.delete({ kind: 'Pod', namespace, name: `${name}-0` });
    for (let i = 0; i < 50 && (await client.get({ kind: 'Pod', namespace, name: `${name}-0` })); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const { name: podName, labels, ownerReferences } = old.metadata!;
    const containers = (old.spec.containers as Array<{ name: string }>).map((c, i) =>
      i === 0 ? { ...c, image: 'ghcr.io/zalando/spilo-17:3.3-p3' } : c,
    );
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName, namespace, labels, ownerReferences },
      spec: { ...old.spec, containers },
    });
    return { namespace, sync: () => syncCluster(ctx, namespace, name) };
  }

  test("pods made by Zalando's operator (no template hash of ours): the one on another image is flagged", async () => {
    const lazy = await takenOver('acid-lazy-on', true);
    assert.equal((await lazy.sync()).outcome, 'synced');
    assert.deepEqual(await flaggedPods(client, lazy.namespace, 'acid-lazy-on'), [], 'lazy: left as it is');

    const eager = await takenOver('acid-lazy-off', false);
    assert.equal((await eager.sync()).outcome, 'synced');
    assert.deepEqual(await flaggedPods(client, eager.namespace, 'acid-lazy-off'), ['acid-lazy-off-0']);
    assert.ok(
      (await events(client, eager.namespace, 'acid-lazy-off')).some((e) => e.includes('still run another Spilo image')),
      'an Event says why',
    );
  });
});
