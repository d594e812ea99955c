// Updates through syncCluster: instances with min/max and a scale-down that waits for a switchover, resources,
// images, tolerations, Patroni/PostgreSQL parameters, pod_environment_configmap (rolling-update flags on pods),
// pod and service annotations, load balancers, and StatefulSet changes applied by an orphaning re-create.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import type { OperatorConfig } from '../../lib/model/config';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { installCrd, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace } from './testenv';
import {
  childVersions,
  createPods,
  events,
  flaggedPods,
  manifest,
  markReady,
  orphanCollector,
  setMaster,
  type Manifest,
} from './updates-fixtures';
import type { SyncContext } from '../../lib/sync/context';

describe('updates', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  /** A synced cluster `acid-upd` with `pods` pods in a namespace of its own. */
  async function cluster(spec: Manifest = {}, config: Partial<OperatorConfig> = {}, pods = 2) {
    const namespace = await createNamespace('upd');
    const name = 'acid-upd';
    // Roles and databases are another step (and wait for a master that never comes here): off.
    const ctx: SyncContext = syncContext(client, {
      ...referenceConfig('v2.0.1'),
      enable_database_access: false,
      ...config,
    });
    await client.create({ ...manifest(name, { numberOfInstances: pods, ...spec }), metadata: { name, namespace } });
    const first = await syncCluster(ctx, namespace, name);
    assert.equal(first.outcome, 'synced', first.error);
    if (pods > 0) await createPods(client, namespace, name, pods);
    const patch = (spec: Manifest) => client.mergePatch({ kind: 'postgresql', namespace, name }, { spec });
    const sync = async () => {
      const result = await syncCluster(ctx, namespace, name);
      assert.equal(result.outcome, 'synced', result.error);
      return result;
    };
    /** a second sync writes nothing */
    const idle = async () => {
      client.counter.reset();
      const result = await syncCluster(ctx, namespace, name);
      assert.deepEqual(result.actions, []);
      assert.equal(client.counter.writes(), 0, JSON.stringify(client.counter.snapshot()));
    };
    const sts = async () => (await client.get({ kind: 'StatefulSet', namespace, name }))!;
    return { namespace, name, ctx, patch, sync, idle, sts };
  }

  test('numberOfInstances is clamped by max_instances and min_instances, with a warning', async () => {
    const c = await cluster({ numberOfInstances: 5 }, { max_instances: 3, min_instances: 2 }, 0);
    assert.equal((await c.sts()).spec.replicas, 3);
    await c.patch({ numberOfInstances: 1 });
    await c.sync();
    assert.equal((await c.sts()).spec.replicas, 2);
    const cr = await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    assert.ok(
      cr!.status.warnings.includes('adjusted number of instances from 1 to 2 (min: 2, max: 3)'),
      cr!.status.warnings,
    );
    assert.ok(
      (await events(client, c.namespace, c.name)).some(
        (e) => e.startsWith('ManifestWarnings: ') && e.includes('from 1 to 2'),
      ),
    );
    await c.idle();
  });

  test('a scale-down that would remove the master waits for a switchover; the highest ordinal goes first otherwise', async () => {
    const c = await cluster({}, {}, 3);
    await markReady(client, c.namespace, c.name);
    assert.equal((await c.sync()).status, 'Running');
    await setMaster(client, c.namespace, c.name, 3, 2);
    await c.patch({ numberOfInstances: 1 });
    const held = await c.sync();
    assert.deepEqual(held.actions, []);
    assert.equal((await c.sts()).spec.replicas, 3);
    const cr = await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    const progressing = cr!.status.conditions.find((x: { type: string }) => x.type === 'Progressing');
    assert.equal(progressing.reason, 'UpdateBlocked');
    assert.match(
      progressing.message,
      /scale-down from 3 to 1 instances waits: it would remove the master pod acid-upd-2 first/,
    );
    assert.equal(cr!.status.PostgresClusterStatus, 'Updating');
    const warned = (await events(client, c.namespace, c.name)).filter((e) => e.startsWith('SwitchoverNeeded: '));
    assert.equal(warned.length, 1);
    await c.idle();
    assert.equal(
      (await events(client, c.namespace, c.name)).filter((e) => e.startsWith('SwitchoverNeeded: ')).length,
      1,
      'warned once',
    );

    await setMaster(client, c.namespace, c.name, 3, 0);
    const scaled = await c.sync();
    assert.deepEqual(
      scaled.actions.map((a) => a.reason),
      ['StatefulSet acid-upd: spec.replicas: 3 -> 1'],
    );
    assert.equal((await c.sts()).spec.replicas, 1);
    const after = await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    assert.notEqual(
      after!.status.conditions.find((x: { type: string }) => x.type === 'Progressing').reason,
      'UpdateBlocked',
    );
    assert.ok(!(after!.status.warnings ?? []).some((w: string) => w.includes('scale-down')), 'the refusal is gone');
  });

  const rolling: Array<[string, Manifest, Partial<OperatorConfig>, RegExp]> = [
    [
      'resources',
      { resources: { requests: { cpu: '250m', memory: '200Mi' }, limits: { cpu: '1', memory: '500Mi' } } },
      {},
      /resources\.requests\.cpu: "100m" -> "250m"/,
    ],
    [
      'dockerImage',
      { dockerImage: 'ghcr.io/zalando/spilo-17:4.0-p3' },
      {},
      /image: .* -> "ghcr\.io\/zalando\/spilo-17:4\.0-p3"/,
    ],
    [
      'tolerations',
      { tolerations: [{ key: 'postgres', operator: 'Exists', effect: 'NoSchedule' }] },
      {},
      /tolerations/,
    ],
    [
      'a local PostgreSQL parameter (shared_buffers)',
      { postgresql: { parameters: { shared_buffers: '64MB' } } },
      {},
      /env\[\d+\]\.value: .*shared_buffers/,
    ],
  ];
  for (const [what, spec, config, reason] of rolling) {
    test(`${what}: the StatefulSet is updated and every pod is marked for a rolling update`, async () => {
      const c = await cluster({}, config);
      const result = await c.patch(spec).then(c.sync);
      assert.equal(result.actions.length, 1, JSON.stringify(result.actions));
      assert.deepEqual(await flaggedPods(client, c.namespace, c.name), ['acid-upd-0', 'acid-upd-1']);
      const recorded = await events(client, c.namespace, c.name);
      const flagged = recorded.find((e) =>
        e.startsWith('RollingUpdateRequired: Marked pods acid-upd-0, acid-upd-1 for a rolling update: '),
      );
      assert.ok(flagged, recorded.join('\n'));
      assert.match(flagged, reason);
      assert.ok(recorded.some((e) => e.startsWith('Updated: Updated StatefulSet acid-upd:')));
      await c.idle();
    });
  }

  test('a Patroni setting (bootstrap.dcs) updates the StatefulSet without marking pods', async () => {
    const c = await cluster();
    await c.patch({ postgresql: { parameters: { max_connections: '200' } }, patroni: { ttl: 40 } });
    const result = await c.sync();
    assert.equal(result.actions.length, 1);
    const env = (await c.sts()).spec.template.spec.containers[0].env.find(
      (v: { name: string }) => v.name === 'SPILO_CONFIGURATION',
    );
    assert.match(
      env.value,
      /"dcs":\{"ttl":40,"postgresql":\{"parameters":\{"max_connections":"200"\}\},"failsafe_mode":false\}/,
    );
    assert.deepEqual(await flaggedPods(client, c.namespace, c.name), []);
    await c.idle();
  });

  test('enable_lazy_spilo_upgrade: a new image reaches the StatefulSet, the pods keep theirs', async () => {
    const c = await cluster({}, { enable_lazy_spilo_upgrade: true });
    await c.patch({ dockerImage: 'ghcr.io/zalando/spilo-17:4.0-p3' });
    await c.sync();
    assert.equal((await c.sts()).spec.template.spec.containers[0].image, 'ghcr.io/zalando/spilo-17:4.0-p3');
    assert.deepEqual(await flaggedPods(client, c.namespace, c.name), []);
    await c.idle();
  });

  test('pod_environment_configmap: envFrom is added and the pods are marked', async () => {
    const namespace = await createNamespace('upd');
    const config = { ...referenceConfig('v2.0.1'), enable_database_access: false };
    const ctx = syncContext(client, config);
    await client.create({ ...manifest('acid-env'), metadata: { name: 'acid-env', namespace } });
    await syncCluster(ctx, namespace, 'acid-env');
    await createPods(client, namespace, 'acid-env', 2);
    const changed = syncContext(client, { ...config, pod_environment_configmap: 'postgres-pod-config' });
    const result = await syncCluster(changed, namespace, 'acid-env');
    assert.match(result.actions[0]!.reason, /envFrom/);
    const sts = await client.get({ kind: 'StatefulSet', namespace, name: 'acid-env' });
    assert.deepEqual(sts!.spec.template.spec.containers[0].envFrom, [
      { configMapRef: { name: 'postgres-pod-config' } },
    ]);
    assert.deepEqual(await flaggedPods(client, namespace, 'acid-env'), ['acid-env-0', 'acid-env-1']);
  });

  test('pod annotations are patched onto the running pods, without a rolling update; removed ones go', async () => {
    const c = await cluster({ podAnnotations: { 'team.example.com/owner': 'a', 'keep-me': 'x' } });
    await c.patch({ podAnnotations: { 'team.example.com/owner': 'b', 'keep-me': null } });
    await c.sync();
    for (const pod of ['acid-upd-0', 'acid-upd-1']) {
      const live = await client.get({ kind: 'Pod', namespace: c.namespace, name: pod });
      assert.equal(live!.metadata!.annotations!['team.example.com/owner'], 'b');
      assert.equal(live!.metadata!.annotations!['keep-me'], undefined);
    }
    assert.deepEqual(await flaggedPods(client, c.namespace, c.name), []);
    const recorded = await events(client, c.namespace, c.name);
    assert.ok(
      recorded.includes(
        'PodAnnotationsUpdated: Updated annotations keep-me, team.example.com/owner of pods acid-upd-0, acid-upd-1',
      ),
      recorded.join('\n'),
    );
    await c.idle();
  });

  test('service annotations and load balancers follow the manifest, deprecated flags included; pods are not touched', async () => {
    const c = await cluster({ serviceAnnotations: { a: '1', b: '2' } });
    const service = async (name: string) => (await client.get({ kind: 'Service', namespace: c.namespace, name }))!;
    const pods = await childVersions(client, c.namespace, c.name).then((v) => v.filter((x) => x.startsWith('Pod/')));

    await c.patch({
      serviceAnnotations: { b: null },
      enableMasterLoadBalancer: true,
      allowedSourceRanges: ['10.0.0.0/8'],
    });
    await c.sync();
    const master = await service(c.name);
    assert.equal(master.spec.type, 'LoadBalancer');
    assert.deepEqual(master.spec.loadBalancerSourceRanges, ['10.0.0.0/8']);
    assert.equal(master.metadata!.annotations!.a, '1');
    assert.equal(master.metadata!.annotations!.b, undefined);
    assert.match(master.metadata!.annotations!['external-dns.alpha.kubernetes.io/hostname']!, /^acid-upd\./);
    assert.equal((await service(`${c.name}-repl`)).spec.type, 'ClusterIP');
    await c.idle();

    // deprecated: used only when neither new field is set
    await c.patch({ enableMasterLoadBalancer: null, replicaLoadBalancer: true, allowedSourceRanges: null });
    await c.sync();
    const replica = await service(`${c.name}-repl`);
    assert.equal(replica.spec.type, 'LoadBalancer');
    assert.deepEqual(replica.spec.loadBalancerSourceRanges, ['127.0.0.1/32']);
    const back = await service(c.name);
    assert.equal(back.spec.type, 'ClusterIP');
    assert.equal(back.spec.loadBalancerSourceRanges, undefined);
    assert.equal(back.metadata!.annotations!['external-dns.alpha.kubernetes.io/hostname'], undefined);
    const cr = await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    assert.ok(cr!.status.warnings.some((w: string) => w.includes('deprecated')));
    await c.idle();
    assert.deepEqual(
      (await childVersions(client, c.namespace, c.name)).filter((x) => x.startsWith('Pod/')),
      pods,
      'pods untouched',
    );
  });

  test('a larger volume: the claims grow, the StatefulSet is re-created for its claim template, the pods are kept', async () => {
    const storageClass = `expandable-${Date.now().toString(36)}`;
    await client.request({
      verb: 'create',
      kind: 'StorageClass',
      method: 'POST',
      path: '/apis/storage.k8s.io/v1/storageclasses',
      body: {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: storageClass },
        provisioner: 'example.com/none',
        allowVolumeExpansion: true,
      },
    });
    const c = await cluster({ volume: { size: '1Gi', storageClass } });
    for (let i = 0; i < 2; i++) {
      const claim = `pgdata-${c.name}-${i}`;
      await client.create({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name: claim,
          namespace: c.namespace,
          labels: (await c.sts()).spec.volumeClaimTemplates[0].metadata.labels,
        },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: storageClass,
          resources: { requests: { storage: '1Gi' } },
          volumeName: `pv-${claim}`,
        },
      });
      await client.mergePatch(
        { kind: 'PersistentVolumeClaim', namespace: c.namespace, name: claim },
        { status: { phase: 'Bound', capacity: { storage: '1Gi' } } },
        'status',
      );
    }
    const before = await c.sts();
    const podsBefore = (await childVersions(client, c.namespace, c.name)).filter((x) => x.startsWith('Pod/'));
    await c.patch({ volume: { size: '2Gi', storageClass } });
    const stop = orphanCollector(client, c.namespace);
    let result;
    try {
      result = await c.sync();
    } finally {
      await stop();
    }
    assert.equal(result.pending, undefined);
    for (let i = 0; i < 2; i++) {
      const claim = await client.get({
        kind: 'PersistentVolumeClaim',
        namespace: c.namespace,
        name: `pgdata-${c.name}-${i}`,
      });
      assert.equal(claim!.spec.resources.requests.storage, '2Gi');
    }
    const after = await c.sts();
    assert.notEqual(after.metadata!.uid, before.metadata!.uid, 'a new StatefulSet');
    assert.equal(after.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '2Gi');
    const recorded = await events(client, c.namespace, c.name);
    assert.ok(
      recorded.includes(
        `VolumeResized: Resized PersistentVolumeClaims pgdata-${c.name}-0, pgdata-${c.name}-1 from 1Gi to 2Gi`,
      ),
      recorded.join('\n'),
    );
    assert.ok(
      recorded.some((e) =>
        e.startsWith(
          `StatefulSetRecreated: Re-created StatefulSet ${c.name}, keeping its pods: spec.volumeClaimTemplates`,
        ),
      ),
    );
    assert.deepEqual(
      (await childVersions(client, c.namespace, c.name))
        .filter((x) => x.startsWith('Pod/'))
        .map((x) => x.split('@')[0]),
      podsBefore.map((x) => x.split('@')[0]),
      'the pods are still there',
    );
    assert.deepEqual(await flaggedPods(client, c.namespace, c.name), [], 'no rolling update for a resize');
    await c.idle();
  });

  test('podManagementPolicy and the selector change by an orphaning re-create; orphaned pods get the new selector labels', async () => {
    const c = await cluster();
    const before = await c.sts();
    const config = {
      ...c.ctx.config,
      pod_management_policy: 'parallel',
      cluster_labels: { application: 'spilo', tier: 'db' },
    };
    const ctx = { ...c.ctx, config };
    const stop = orphanCollector(client, c.namespace);
    let result;
    try {
      result = await syncCluster(ctx, c.namespace, c.name);
    } finally {
      await stop();
    }
    assert.equal(result.outcome, 'synced', result.error);
    const after = await c.sts();
    assert.notEqual(after.metadata!.uid, before.metadata!.uid);
    assert.equal(after.spec.podManagementPolicy, 'Parallel');
    assert.deepEqual(after.spec.selector.matchLabels, { application: 'spilo', 'cluster-name': c.name, tier: 'db' });
    for (const pod of ['acid-upd-0', 'acid-upd-1']) {
      const live = await client.get({ kind: 'Pod', namespace: c.namespace, name: pod });
      assert.equal(live!.metadata!.labels!.tier, 'db', 'adoptable by the new selector');
    }
    // the template labels changed too: the pods run an older template
    assert.deepEqual(await flaggedPods(client, c.namespace, c.name), ['acid-upd-0', 'acid-upd-1']);
    const recreated = (await events(client, c.namespace, c.name)).filter((e) => e.startsWith('StatefulSetRecreated: '));
    assert.equal(recreated.length, 1);
    assert.match(recreated[0]!, /spec\.selector/);
    client.counter.reset();
    assert.deepEqual((await syncCluster(ctx, c.namespace, c.name)).actions, []);
    assert.equal(client.counter.writes(), 0);
  });

  test('a re-create waits (without blocking) while the old StatefulSet is still being deleted, and finishes on the next sync', async () => {
    const c = await cluster();
    await c.patch({ volume: { size: '1Gi', storageClass: 'other' } });
    const waiting = await syncCluster({ ...c.ctx, timing: { deletionWaitMs: 300 } }, c.namespace, c.name);
    assert.equal(waiting.outcome, 'synced');
    assert.match(waiting.pending ?? '', /waiting for StatefulSet acid-upd to be deleted/);
    assert.ok((await c.sts()).metadata!.deletionTimestamp, 'deleted with the orphan finalizer pending');
    const cr = await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    assert.notEqual(cr!.status.PostgresClusterStatus, 'Running');
    const stop = orphanCollector(client, c.namespace);
    try {
      const done = await c.sync();
      assert.equal(done.pending, undefined);
    } finally {
      await stop();
    }
    assert.equal((await c.sts()).spec.volumeClaimTemplates[0].spec.storageClassName, 'other');
    await c.idle();
  });
});
