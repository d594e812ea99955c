/**
 * End to end, with processes: the six function hosts and the event bridge run from the built bundles (the `local`
 * target), each function under its own ServiceAccount token with only the RBAC the deploy scripts generate, on the
 * real control plane. `kubectl apply` / edit / delete go in; objects, status and finalizer come out.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeClient, type KubeObject } from '../../lib/k8s/client';
import { FINALIZER } from '../../lib/sync/cluster/finalizer';
import type { LocalDeployment } from '../../scripts/deploy/local';
import { eventually, startOperator } from './local-operator';
import { applyManifest, installCrd, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl, requireTestenv } from './testenv';

const CLUSTER = 'acid-e2e';
let ns = '';
let client: KubeClient;
let deployment: LocalDeployment;
let kubeconfigs = new Map<string, string>();

const manifest = (instances: number) => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name: CLUSTER },
  spec: {
    teamId: 'acid',
    numberOfInstances: instances,
    volume: { size: '1Gi' },
    postgresql: { version: '17' },
    users: { app_user: [] },
  },
});

const children = async () => {
  const kinds = ['StatefulSet', 'Service', 'Endpoints', 'Secret', 'PodDisruptionBudget'];
  const lists = await Promise.all(
    kinds.map((kind) => client.list(kind, ns, `application=spilo,cluster-name=${CLUSTER}`)),
  );
  return lists.flat();
};

describe('end to end: function hosts and bridge as processes', { timeout: 240_000 }, () => {
  before(async () => {
    requireTestenv();
    await installCrd();
    client = testClient();
    ns = await createNamespace('e2e');
    // Credentials and logs; startOperator installs the RBAC the deploy scripts generate (operator in `ns`, watching `ns`).
    const dir = mkdtempSync(path.join(tmpdir(), 'e2e-'));
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postgres-operator', namespace: ns },
      // As this project's manifests/configmap.yaml: the finalizer on (Zalando's default is off).
      data: { watched_namespace: ns, resource_check_interval: '1s', enable_finalizers: 'true' },
    });
    ({ deployment, kubeconfigs } = await startOperator(client, ns, dir));
  });

  after(async () => {
    await deployment?.stop();
    client?.close();
    if (ns) await deleteNamespace(ns);
  });

  it('kubectl apply: the children appear through bridge and host, with the finalizer and a status', async () => {
    await applyManifest(manifest(2), ns);
    const found = await eventually('children', async () => {
      const list = await children();
      return list.some((o) => o.kind === 'StatefulSet') && list.filter((o) => o.kind === 'Secret').length === 3
        ? list
        : undefined;
    });
    assert.deepEqual(found.map((o) => `${o.kind}/${o.metadata!.name}`).sort(), [
      `Endpoints/${CLUSTER}`,
      `PodDisruptionBudget/postgres-${CLUSTER}-critical-op-pdb`,
      `PodDisruptionBudget/postgres-${CLUSTER}-pdb`,
      `Secret/app-user.${CLUSTER}.credentials.postgresql.acid.zalan.do`,
      `Secret/postgres.${CLUSTER}.credentials.postgresql.acid.zalan.do`,
      `Secret/standby.${CLUSTER}.credentials.postgresql.acid.zalan.do`,
      `Service/${CLUSTER}`,
      `Service/${CLUSTER}-repl`,
      `StatefulSet/${CLUSTER}`,
    ]);
    const live = await eventually('status', async () => {
      const object = await client.get({ kind: 'postgresql', namespace: ns, name: CLUSTER });
      return object?.status?.PostgresClusterStatus ? object : undefined;
    });
    assert.deepEqual(live.metadata!.finalizers, [FINALIZER]);
    assert.equal(live.status.PostgresClusterStatus, 'Creating');
  });

  it('changing numberOfInstances: the StatefulSet follows', async () => {
    await applyManifest(manifest(3), ns);
    const replicas = await eventually('replicas 3', async () => {
      const sts = await client.get({ kind: 'StatefulSet', namespace: ns, name: CLUSTER });
      return sts?.spec?.replicas === 3 ? 3 : undefined;
    });
    assert.equal(replicas, 3);
  });

  it('the same event twice, and a stale one, change nothing', async () => {
    const before = new Map(
      (await children()).map((o) => [`${o.kind}/${o.metadata!.name}`, o.metadata!.resourceVersion as string]),
    );
    const live = (await client.get({ kind: 'postgresql', namespace: ns, name: CLUSTER }))!;
    const stale = { ...live, spec: { ...live.spec, numberOfInstances: 1 } };
    // Events about the cluster: the operator ConfigMap's own Event (its first configuration, delivered by the bridge
    // at start) may land at any moment of this test.
    const clusterEvents = async () =>
      (await client.list('Event', ns)).filter((e) => e.involvedObject?.kind === 'postgresql').length;
    const events = await clusterEvents();
    for (const [fn, object, type] of [
      ['on-update', live, 'update'],
      ['on-update', live, 'update'],
      ['on-update', stale, 'update'],
      ['on-create', stale, 'add'],
    ] as const) {
      const target = deployment.functions.find((f) => f.name === fn)!;
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': `replay-${fn}`,
          'ce-source': 'e2e-test',
          'ce-type': `dev.knative.apiserver.resource.${type}`,
          'ce-kind': 'postgresql',
          'ce-name': CLUSTER,
          'ce-namespace': ns,
        },
        body: JSON.stringify(object),
      });
      // 503: the roles wait for a master pod, which this plane never runs; the children are what is checked.
      const reply = (await response.json()) as { result: { outcome: string; pending?: string } };
      assert.equal(response.status, 503, JSON.stringify(reply));
      assert.equal(reply.result.outcome, 'synced');
      assert.match(reply.result.pending ?? '', /master/);
    }
    const after = new Map(
      (await children()).map((o) => [`${o.kind}/${o.metadata!.name}`, o.metadata!.resourceVersion as string]),
    );
    assert.deepEqual(after, before, 'no child was written');
    assert.equal(
      (await client.get({ kind: 'StatefulSet', namespace: ns, name: CLUSTER }))!.spec.replicas,
      3,
      'the stale event did not scale down',
    );
    assert.equal(await clusterEvents(), events, 'no new Event');
  });

  it('a bridge restart loses nothing: a change made while it was down is delivered on start', async () => {
    await deployment.stopBridge(true);
    await applyManifest(manifest(4), ns);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(
      (await client.get({ kind: 'StatefulSet', namespace: ns, name: CLUSTER }))!.spec.replicas,
      3,
      'nothing syncs while the bridge is down',
    );
    await deployment.startBridge();
    await eventually('replicas 4 after the restart', async () => {
      const sts = await client.get({ kind: 'StatefulSet', namespace: ns, name: CLUSTER });
      return sts?.spec?.replicas === 4 ? true : undefined;
    });
  });

  it('periodicSync, called as a cron trigger calls it, repairs what no event reported (a deleted Service)', async () => {
    // With the bridge stopped and its last calls done, nothing but periodicSync can repair the Service.
    await deployment.stopBridge();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await kubectl(['delete', 'service', `${CLUSTER}-repl`, '-n', ns])).code, 0);
    const periodic = deployment.functions.find((f) => f.name === 'periodic-sync')!;
    const response = await fetch(periodic.url, {
      method: 'POST',
      headers: { 'event-id': 'cron-1', 'event-namespace': 'cronjobtrigger.kubeless.io' },
    });
    const reply = (await response.json()) as { result: { clusters: number; items: string[] } };
    assert.equal(response.status, 200, JSON.stringify(reply));
    assert.equal(reply.result.clusters, 1);
    assert.equal(reply.result.items.length, 1, `only the drifted cluster was synced: ${JSON.stringify(reply)}`);
    assert.ok(await client.get({ kind: 'Service', namespace: ns, name: `${CLUSTER}-repl` }), 'the Service is back');
    await deployment.startBridge();
  });

  it('each function is denied a verb it does not need', async () => {
    const as = (name: string) => {
      process.env.KUBECONFIG_SAVED ??= process.env.KUBECONFIG;
      process.env.KUBECONFIG = kubeconfigs.get(name)!;
      const fnClient = KubeClient.fromDefault();
      process.env.KUBECONFIG = process.env.KUBECONFIG_SAVED;
      return fnClient;
    };
    const drain = as('on-node-drain');
    await assert.rejects(drain.delete({ kind: 'StatefulSet', namespace: ns, name: CLUSTER }), /forbidden/i);
    await assert.rejects(drain.list('Secret', ns), /forbidden/i);
    const create = as('on-create');
    await assert.rejects(create.delete({ kind: 'Node', name: 'any' }), /forbidden/i);
    await assert.rejects(create.list('Secret', 'kube-system'), /forbidden/i, 'no access outside the watched namespace');
    assert.ok(await create.get({ kind: 'StatefulSet', namespace: ns, name: CLUSTER }), 'allowed what it needs');
    for (const c of [drain, create]) c.close();
  });

  it('kubectl delete: children go, system Secrets stay, the finalizer is removed and the object is gone', async () => {
    const result = await kubectl(['delete', 'postgresql', CLUSTER, '-n', ns, '--wait=false']);
    assert.equal(result.code, 0, result.stderr);
    await eventually('the postgresql object to go', async () =>
      (await client.get({ kind: 'postgresql', namespace: ns, name: CLUSTER })) ? undefined : true,
    );
    const left = (await children()).map((o) => `${o.kind}/${o.metadata!.name}`).sort();
    assert.deepEqual(
      left,
      [
        `Secret/postgres.${CLUSTER}.credentials.postgresql.acid.zalan.do`,
        `Secret/standby.${CLUSTER}.credentials.postgresql.acid.zalan.do`,
      ],
      "only the system users' Secrets are kept",
    );
    for (const secret of (await children()) as KubeObject[])
      assert.equal(secret.metadata!.ownerReferences, undefined, 'kept Secrets lose their owner reference');
  });
});
