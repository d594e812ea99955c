/**
 * End to end in single mode (the default of `npm start` and `npm run deploy -- local`): one process
 * (`dist/combined/combined.js`) serving the six functions under `/<name>` and running the event bridge, which
 * delivers to them over loopback, on the real control plane. `kubectl apply` / edit / delete go in; objects, status
 * and finalizer come out. One process has one set of credentials: the test's admin kubeconfig (the per-function
 * RBAC is what e2e.test.ts checks).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { FINALIZER } from '../../lib/sync/cluster/finalizer';
import { startLocal, type LocalDeployment } from '../../scripts/deploy/local';
import { ensureBundles, eventually } from './local-operator';
import { applyManifest, installCrd, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl, requireTestenv } from './testenv';

const CLUSTER = 'acid-single';
let ns = '';
let client: KubeClient;
let deployment: LocalDeployment;

const manifest = (instances: number) => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name: CLUSTER },
  spec: { teamId: 'acid', numberOfInstances: instances, volume: { size: '1Gi' }, postgresql: { version: '17' } },
});

const children = async () => {
  const kinds = ['StatefulSet', 'Service', 'Secret', 'PodDisruptionBudget'];
  const lists = await Promise.all(
    kinds.map((kind) => client.list(kind, ns, `application=spilo,cluster-name=${CLUSTER}`)),
  );
  return lists.flat().map((o) => `${o.kind}/${o.metadata!.name}`);
};

describe('end to end: every function and the bridge in one process', { timeout: 180_000 }, () => {
  before(async () => {
    requireTestenv();
    ensureBundles();
    await installCrd();
    client = testClient();
    ns = await createNamespace('single');
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postgres-operator', namespace: ns },
      data: { watched_namespace: ns, resource_check_interval: '1s', enable_finalizers: 'true' },
    });
    deployment = await startLocal({
      mode: 'single',
      logDir: path.join(mkdtempSync(path.join(tmpdir(), 'e2e-single-')), 'logs'),
      env: { OPERATOR_NAMESPACE: ns, WATCHED_NAMESPACE: ns, PERIODIC_SYNC_SCHEDULE: 'off', LOG_LEVEL: 'info' },
    });
  });

  after(async () => {
    await deployment?.stop();
    client?.close();
    if (ns) await deleteNamespace(ns);
  });

  it('is one process: every function and the bridge share its pid, one URL per function', () => {
    const pids = new Set([...deployment.functions, deployment.bridge!].map((p) => p.child.pid));
    assert.equal(pids.size, 1);
    const onCreate = deployment.functions.find((f) => f.name === 'on-create')!;
    assert.match(onCreate.url, /^http:\/\/127\.0\.0\.1:\d+\/on-create$/);
    return assert.rejects(deployment.killAndRestart('on-create'), /not supported in single mode/);
  });

  it('kubectl apply: the children appear, with the finalizer and a status', async () => {
    await applyManifest(manifest(2), ns);
    await eventually('children', async () => {
      const list = await children();
      return list.includes(`StatefulSet/${CLUSTER}`) && list.filter((o) => o.startsWith('Secret/')).length === 2
        ? list
        : undefined;
    });
    const live = await eventually('status', async () => {
      const object = await client.get({ kind: 'postgresql', namespace: ns, name: CLUSTER });
      return object?.status?.PostgresClusterStatus ? object : undefined;
    });
    assert.deepEqual(live.metadata!.finalizers, [FINALIZER]);
  });

  it('changing numberOfInstances: the StatefulSet follows', async () => {
    await applyManifest(manifest(3), ns);
    await eventually('replicas 3', async () => {
      const sts = await client.get({ kind: 'StatefulSet', namespace: ns, name: CLUSTER });
      return sts?.spec?.replicas === 3 ? true : undefined;
    });
  });

  it('kubectl delete: the children go and the object is gone', async () => {
    const result = await kubectl(['delete', 'postgresql', CLUSTER, '-n', ns, '--wait=false']);
    assert.equal(result.code, 0, result.stderr);
    await eventually('the postgresql object to go', async () =>
      (await client.get({ kind: 'postgresql', namespace: ns, name: CLUSTER })) ? undefined : true,
    );
    const left = await children();
    assert.ok(!left.includes(`StatefulSet/${CLUSTER}`), `left: ${left.join(', ')}`);
    assert.ok(!left.includes(`Service/${CLUSTER}`), `left: ${left.join(', ')}`);
  });
});
