// A pod made from an older pod template after the StatefulSet changed, on the real apiserver: the StatefulSet
// controller recreates a deleted pod from the revision its cache holds, which after an API server restart can be the
// old one (seen in the fault schedules: the pod came back on the old image, unflagged, and the rollout said
// Completed). syncCluster flags such a pod (with a RollingUpdateRequired Event saying why) and the rolling update
// replaces it; a pod without our template hash (made by Zalando's operator before a takeover) is not flagged; a pod
// on the current template is left alone, and a second sync writes nothing. The pods are made by hand (no kubelet on
// this plane).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ROLLING_UPDATE_ANNOTATION } from '../../lib/builders';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../lib/model/annotations';
import { defaultOperatorConfig } from '../../lib/model/config';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import type { SyncContext } from '../../lib/sync/context';
import { applyManifest, installCrd, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';

let client: KubeClient;
let ns = '';
let ctx: SyncContext;

before(async () => {
  client = testClient();
  await installCrd();
  ns = await createNamespace('outdated-pods');
  ctx = { ...syncContext(client, defaultOperatorConfig()), operatorNamespace: ns };
});
after(async () => {
  client?.close();
  if (ns) await deleteNamespace(ns);
});

/**
 * A Running, Ready pod `<cluster>-0` with the cluster's labels, the given template hash annotation (if any) and the
 * StatefulSet's Spilo image (a pod on another image is flagged whatever its hash: enable_lazy_spilo_upgrade is off).
 */
async function createPod(cluster: string, hash: string | undefined): Promise<void> {
  const name = `${cluster}-0`;
  const sts = (await client.get({ kind: 'StatefulSet', namespace: ns, name: cluster }))!;
  const image = (sts.spec.template.spec.containers as Array<{ image: string }>)[0]!.image;
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { application: 'spilo', 'cluster-name': cluster, 'spilo-role': 'master', team: 'acid' },
      annotations: hash === undefined ? {} : { [POD_TEMPLATE_HASH_ANNOTATION]: hash },
    },
    spec: { containers: [{ name: 'postgres', image }] },
  });
  await client.mergePatch(
    { kind: 'Pod', namespace: ns, name },
    {
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
      },
    },
    'status',
  );
}

const pod = (cluster: string) => client.get({ kind: 'Pod', namespace: ns, name: `${cluster}-0` });

async function newCluster(name: string): Promise<string> {
  await applyManifest(
    {
      apiVersion: 'acid.zalan.do/v1',
      kind: 'postgresql',
      metadata: { name },
      spec: { teamId: 'acid', numberOfInstances: 1, volume: { size: '1Gi' }, postgresql: { version: '16' } },
    },
    ns,
  );
  assert.equal((await syncCluster(ctx, ns, name)).outcome, 'synced');
  const sts = (await client.get({ kind: 'StatefulSet', namespace: ns, name }))!;
  const hash = (sts.spec.template as KubeObject).metadata?.annotations?.[POD_TEMPLATE_HASH_ANNOTATION] as string;
  assert.ok(hash, 'the StatefulSet template carries our hash');
  return hash;
}

test('a pod made from an older template of ours is flagged with an Event and replaced', async () => {
  const name = 'acid-outdated';
  const hash = await newCluster(name);
  await createPod(name, `${hash.slice(0, 8)}00000000`);
  const uid = (await pod(name))!.metadata!.uid;
  await syncCluster(ctx, ns, name);
  const after = await pod(name);
  // A single-instance cluster's rollout step deletes the flagged pod at once; either way it was flagged first.
  assert.ok(
    !after ||
      after.metadata!.uid !== uid ||
      after.metadata!.deletionTimestamp ||
      after.metadata!.annotations?.[ROLLING_UPDATE_ANNOTATION] === 'true',
    `the outdated pod is flagged or being replaced: ${JSON.stringify(after?.metadata)}`,
  );
  const events = (await client.list('Event', ns)).filter((e) => e.involvedObject?.name === name);
  const marked = events.find((e) => e.reason === 'RollingUpdateRequired');
  assert.match(
    String(marked?.message),
    /made from an older pod template/,
    JSON.stringify(events.map((e) => e.message)),
  );
});

test('a pod without our template hash (a takeover) and a pod on the current template are not flagged', async () => {
  for (const [name, current] of [
    ['acid-taken-over', false],
    ['acid-current', true],
  ] as const) {
    const hash = await newCluster(name);
    await createPod(name, current ? hash : undefined);
    await syncCluster(ctx, ns, name);
    const after = (await pod(name))!;
    assert.equal(after.metadata!.annotations?.[ROLLING_UPDATE_ANNOTATION], undefined, `${name} is not flagged`);
    assert.equal(after.metadata!.deletionTimestamp, undefined, `${name} is not deleted`);
    client.counter.reset();
    await syncCluster(ctx, ns, name);
    assert.equal(
      client.counter.writes(),
      0,
      `a second sync of ${name} writes nothing: ${JSON.stringify(client.counter.snapshot())}`,
    );
  }
});
