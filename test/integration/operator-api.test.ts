// The operator API (functions/operatorApi, lib/api) as it runs: the built bundle in its own host, under its own
// ServiceAccount with the RBAC the deploy scripts generate, against the real API server, whose TokenReview and
// SubjectAccessReview decide who sees what. Callers are ServiceAccounts with bound tokens: one allowed to read
// postgresqls in the namespace, one with no permission, and no token at all.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { functionSpec } from '../../lib/registry/functions';
import { stringify } from 'yaml';
import type { KubeObject } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { loadOperatorConfig } from '../../lib/sync/operator/config';
import { startLocal, type LocalDeployment } from '../../scripts/deploy/local';
import { ensureBundles } from './local-operator';
import { applyManifest, installCrd, syncContext, testClient } from './operator';
import { accountToken, grant, installFunctionCredentials } from './service-accounts';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

/** @returns the value at a path of the plan preview (`spec.replicas`, `metadata.labels["a/b"]`) */
function valueAt(object: unknown, path: string): unknown {
  const steps = [...path.matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]/g)].map(
    (m) => m[1] ?? (m[3] !== undefined ? Number(m[3]) : JSON.parse(`"${m[2]}"`)),
  );
  return steps.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key as string], object);
}

/**
 * @returns whether the live value holds the planned one: what an apply sets is there, the API server's defaults
 *   (a Service port's `nodePort`, a container's `terminationMessagePath`) beside it
 */
function contains(live: unknown, planned: unknown): boolean {
  if (Array.isArray(planned))
    return Array.isArray(live) && live.length === planned.length && planned.every((p, i) => contains(live[i], p));
  if (planned !== null && typeof planned === 'object')
    return (
      live !== null &&
      typeof live === 'object' &&
      Object.entries(planned).every(([k, v]) => contains((live as Record<string, unknown>)[k], v))
    );
  return live === planned;
}

/** A planned or made write, without the fields the preview adds. */
const write = (a: { change: string; kind: string; name: string; reason: string }) =>
  [a.change, a.kind, a.name, a.reason].join(' | ');
/** @returns the writes as a sorted list (the sync makes the StatefulSet's last; the plan lists it in build order) */
const writes = (actions: Array<{ change: string; kind: string; name: string; reason: string }>) =>
  actions.map(write).sort();

/** One answer of the API. */
interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of many shapes, read field by field
  body: any;
  headers: Headers;
}

describe('operator API: Zalando paths, authenticated and authorized by the API server', () => {
  let client: KubeClient;
  let namespace: string;
  let dir: string;
  let deployment: LocalDeployment;
  let url: string;
  const tokens: Record<'reader' | 'stranger' | 'prometheus', string> = { reader: '', stranger: '', prometheus: '' };

  /** @returns the API's answer to `GET path` (or another method) with the token, if any */
  async function call(pathname: string, token?: string, init: RequestInit = {}): Promise<Answer> {
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    const response = await fetch(new URL(pathname, url), { ...init, headers });
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('json');
    return { status: response.status, body: json ? JSON.parse(text) : text, headers: response.headers };
  }

  before(async () => {
    ensureBundles();
    await installCrd();
    client = testClient();
    namespace = await createNamespace('api');
    dir = mkdtempSync(path.join(os.tmpdir(), 'operator-api-'));
    const credentials = await installFunctionCredentials(client, namespace, dir);
    tokens.reader = await accountToken(namespace, 'reader');
    tokens.stranger = await accountToken(namespace, 'stranger');
    tokens.prometheus = await accountToken(namespace, 'prometheus');
    // As Prometheus is usually allowed to scrape: get on the non-resource URL /metrics, cluster-wide.
    for (const args of [
      ['create', 'clusterrole', `${namespace}-metrics`, '--verb=get', '--non-resource-url=/metrics'],
      [
        'create',
        'clusterrolebinding',
        `${namespace}-metrics`,
        `--clusterrole=${namespace}-metrics`,
        `--serviceaccount=${namespace}:prometheus`,
      ],
    ]) {
      const result = await kubectl(args);
      assert.equal(result.code, 0, result.stderr);
    }
    await grant(namespace, 'reader', 'get list', 'postgresqls.acid.zalan.do');
    for (const [name, team, databases] of [
      ['acid-api-one', 'ACID', { foo: 'zalando', bar: 'zalando' }],
      ['acid-api-two', 'acid', {}],
      ['web-api', 'web', { shop: 'zalando' }],
    ] as const) {
      await applyManifest(
        {
          apiVersion: 'acid.zalan.do/v1',
          kind: 'postgresql',
          metadata: { name },
          spec: {
            teamId: team,
            numberOfInstances: 1,
            volume: { size: '1Gi' },
            users: { zalando: [] },
            databases,
            postgresql: { version: '17' },
          },
        },
        namespace,
      );
    }
    await client.mergePatch(
      { kind: 'postgresql', namespace, name: 'acid-api-one' },
      {
        status: {
          PostgresClusterStatus: 'Running',
          conditions: [
            { type: 'Degraded', status: 'False', reason: 'AsExpected', lastTransitionTime: '2026-01-02T03:04:05Z' },
          ],
        },
      },
      'status',
    );
    await client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'acid-api-one.step', namespace },
      involvedObject: { apiVersion: 'acid.zalan.do/v1', kind: 'postgresql', name: 'acid-api-one', namespace },
      type: 'Normal',
      reason: 'Created',
      message: 'Created StatefulSet acid-api-one',
      firstTimestamp: '2026-01-02T03:04:05Z',
      lastTimestamp: '2026-01-02T03:04:05Z',
      count: 1,
      source: { component: 'postgres-operator-functions' },
    });
    deployment = await startLocal({
      mode: 'per-function',
      logDir: path.join(dir, 'logs'),
      functions: [functionSpec('operator-api')],
      bridge: false,
      env: {
        OPERATOR_NAMESPACE: namespace,
        WATCHED_NAMESPACE: namespace,
        KUBECONFIG: credentials.functions.get('operator-api'),
      },
    });
    url = deployment.functions[0]!.url;
  });

  after(async () => {
    await deployment?.stop();
    await kubectl(['delete', 'clusterrolebinding,clusterrole', `${namespace}-metrics`, '--ignore-not-found']);
    await deleteNamespace(namespace);
    client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('anonymous: 401 with a JSON error and a Bearer challenge, on every path; a token that is not one: 401', async () => {
    for (const p of ['/clusters/', `/clusters/${namespace}/acid-api-one/`, '/databases/', '/status/', '/config/']) {
      const answer = await call(p);
      assert.equal(answer.status, 401, p);
      assert.match(answer.body.error, /bearer token is required/);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    const forged = await call('/clusters/', 'not-a-token');
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error, 'the bearer token is not valid');
  });

  test('allowed: Zalando shapes computed from the live objects', async () => {
    const clusters = await call('/clusters/', tokens.reader);
    assert.equal(clusters.status, 200);
    assert.deepEqual(clusters.body, { acid: ['acid-api-one', 'acid-api-two'], web: ['web-api'] });
    assert.deepEqual((await call('/clusters/acid/', tokens.reader)).body, ['acid-api-one', 'acid-api-two']);
    const missing = await call('/clusters/nobody/', tokens.reader);
    assert.deepEqual([missing.status, missing.body], [404, { error: 'could not find clusters for the team' }]);
    assert.deepEqual((await call('/databases/', tokens.reader)).body, {
      'acid-api-one': ['bar', 'foo'],
      'web-api': ['shop'],
    });
    assert.deepEqual((await call('/status/', tokens.reader)).body, {
      LastSyncTime: Date.parse('2026-01-02T03:04:05Z') / 1000,
      Clusters: 3,
      WorkerQueueSize: {},
    });
    for (const p of [`/clusters/${namespace}/acid-api-one/`, `/clusters/acid/${namespace}/acid-api-one/`]) {
      const status = await call(p, tokens.reader);
      assert.equal(status.status, 200, p);
      assert.equal(status.body.Cluster, 'acid-api-one');
      assert.equal(status.body.Team, 'ACID');
      assert.equal(status.body.Namespace, namespace);
      assert.equal(status.body.Status.PostgresClusterStatus, 'Running');
      assert.deepEqual(status.body.Spec.databases, { foo: 'zalando', bar: 'zalando' });
      assert.equal(status.body.StatefulSet, null, 'nothing synced it: no StatefulSet');
    }
    assert.equal((await call(`/clusters/web/${namespace}/acid-api-one/`, tokens.reader)).status, 404);
    const logs = await call(`/clusters/${namespace}/acid-api-one/logs/`, tokens.reader);
    assert.equal(logs.status, 200);
    assert.deepEqual(
      logs.body.map((l: { Level: string; Message: string; Reason: string }) => [l.Level, l.Reason, l.Message]),
      [['info', 'Created', 'Created StatefulSet acid-api-one']],
    );
    assert.equal((await call(`/clusters/${namespace}/no-such-cluster/`, tokens.reader)).status, 404);
  });

  test('forbidden: one cluster and the config are 403; the fleet paths show nothing', async () => {
    const one = await call(`/clusters/${namespace}/acid-api-one/`, tokens.stranger);
    assert.equal(one.status, 403);
    assert.match(one.body.error, new RegExp(`system:serviceaccount:${namespace}:stranger may not get postgresqls`));
    assert.equal((await call(`/clusters/${namespace}/acid-api-one/logs/`, tokens.stranger)).status, 403);
    assert.equal((await call('/config/', tokens.stranger)).status, 403);
    assert.equal((await call('/config/', tokens.reader)).status, 403, 'reading clusters is not reading the config');
    assert.deepEqual((await call('/clusters/', tokens.stranger)).body, {});
    assert.deepEqual((await call('/databases/', tokens.stranger)).body, {});
    assert.equal((await call('/status/', tokens.stranger)).body.Clusters, 0);
  });

  test('/config/: with get on the operator ConfigMap, the config with credentials redacted', async () => {
    await applyManifest(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'postgres-operator' },
        data: { aws_region: 'eu-central-1', logical_backup_s3_secret_access_key: 'hunter2' },
      },
      namespace,
    );
    await grant(namespace, 'reader', 'get', 'configmaps');
    const config = await call('/config/', tokens.reader);
    assert.equal(config.status, 200);
    assert.equal(config.body.operator.aws_region, 'eu-central-1');
    assert.equal(config.body.operator.logical_backup_s3_secret_access_key, '<redacted>');
    assert.deepEqual(config.body.controller.ConfigMapName, { Namespace: namespace, Name: 'postgres-operator' });
    assert.doesNotMatch(JSON.stringify(config.body), /hunter2/);
  });

  test('/metrics: per-cluster series for a caller allowed to get the non-resource URL /metrics, else 403 or 401', async () => {
    assert.equal((await call('/metrics')).status, 401);
    const denied = await call('/metrics', tokens.reader);
    assert.equal(denied.status, 403);
    assert.match(denied.body.error, /may not get \/metrics/);
    const scrape = await call('/metrics', tokens.prometheus);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain/);
    const key = (cluster: string) => `namespace="${namespace}",cluster="${cluster}"`;
    for (const line of [
      `postgres_operator_cluster_info{${key('acid-api-one')},team="ACID",version="17"} 1`,
      `postgres_operator_cluster_status{${key('acid-api-one')},status="Running"} 1`,
      `postgres_operator_cluster_pods_wanted{${key('web-api')}} 1`,
      `postgres_operator_cluster_pods_ready{${key('web-api')}} 0`,
      `postgres_operator_cluster_last_successful_sync_timestamp_seconds{${key('acid-api-one')}} ${Date.parse('2026-01-02T03:04:05Z') / 1000}`,
      `postgres_operator_cluster_rollout{${key('acid-api-two')},state="none"} 1`,
    ])
      assert.ok(scrape.body.includes(`\n${line}\n`), `${line} in\n${scrape.body}`);
    // The host's own call metrics moved out of the way (FUNC_METRICS_PATH), unauthenticated as before.
    const host = await fetch(new URL('/function-metrics', url));
    assert.match(await host.text(), /function_calls_total\{method="handler-GET",function="operatorApi"\}/);
  });

  /** The cluster the plan tests create, change and sync. */
  const planned = (extra: Record<string, unknown> = {}) => ({
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    metadata: { name: 'acid-plan' },
    spec: {
      teamId: 'acid',
      numberOfInstances: 2,
      volume: { size: '1Gi' },
      users: { zalando: ['superuser'] },
      databases: { foo: 'zalando' },
      postgresql: { version: '17' },
      ...extra,
    },
  });

  /** Syncs acid-plan in this process, with the config the API reads (the namespace's operator ConfigMap). */
  async function sync() {
    const location = { namespace, name: 'postgres-operator' };
    const loaded = await loadOperatorConfig(client, location, { WATCHED_NAMESPACE: namespace });
    assert.ok(loaded.ok);
    return syncCluster(syncContext(client, loaded.config), namespace, 'acid-plan');
  }

  /** Asserts that each field the preview predicted has that value on the live object now. */
  async function assertFieldsAsPlanned(
    actions: Array<{ kind: string; name: string; fields: Array<{ path: string; to?: unknown }> }>,
  ) {
    let checked = 0;
    for (const action of actions.filter((a) => a.kind !== 'Secret')) {
      const live = await client.get<KubeObject>({ kind: action.kind, namespace, name: action.name });
      for (const field of action.fields) {
        const value = valueAt(live, field.path);
        const detail = `${action.kind} ${action.name} ${field.path}: ${JSON.stringify(value)}`;
        assert.ok(contains(value, field.to), `${detail} lacks ${JSON.stringify(field.to)}`);
        checked += 1;
      }
    }
    assert.ok(checked > 0);
  }

  test('POST /plan of a new cluster (YAML): the writes its first sync then makes, with the fields it sets', async () => {
    const preview = await call(`/plan?namespace=${namespace}`, tokens.reader, {
      method: 'POST',
      headers: { 'Content-Type': 'application/yaml' },
      body: stringify(planned()),
    });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal(preview.body.exists, false);
    assert.ok(preview.body.actions.length >= 5, JSON.stringify(preview.body.actions.map(write)));
    assert.ok(preview.body.actions.every((a: { change: string }) => a.change === 'created'));
    assert.doesNotMatch(JSON.stringify(preview.body), /new password/);
    assert.equal((await call(`/clusters/${namespace}/acid-plan/`, tokens.reader)).status, 404, 'nothing was applied');

    await applyManifest(planned(), namespace);
    const result = await sync();
    assert.deepEqual(writes(result.actions), writes(preview.body.actions));
    await assertFieldsAsPlanned(preview.body.actions);

    // Level-triggered: a plan now predicts nothing, and a second sync writes nothing.
    const again = await call('/plan', tokens.reader, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...planned(), metadata: { name: 'acid-plan', namespace } }),
    });
    assert.deepEqual([again.body.exists, again.body.actions], [true, []]);
    assert.deepEqual((await sync()).actions, []);
  });

  test('POST /plan of a change: the fields, the pods flagged and the switchover, as the sync then does them', async () => {
    // Two pods of the StatefulSet's current template (no kubelet here: they are objects only), master and replica.
    const sts = await client.get<KubeObject>({ kind: 'StatefulSet', namespace, name: 'acid-plan' });
    const template = sts!.spec.template;
    for (const [index, role] of [
      [0, 'master'],
      [1, 'replica'],
    ] as const) {
      await client.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `acid-plan-${index}`,
          namespace,
          labels: { ...template.metadata.labels, 'spilo-role': role },
          annotations: template.metadata.annotations,
        },
        spec: {
          serviceAccountName: 'reader',
          automountServiceAccountToken: false,
          containers: [{ name: 'postgres', image: 'spilo' }],
        },
      });
    }
    const body = JSON.stringify({
      ...planned({ dockerImage: 'ghcr.io/zalando/spilo-17:4.0-p9' }),
      metadata: { name: 'acid-plan', namespace },
    });
    const preview = await call('/plan', tokens.reader, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.deepEqual(
      preview.body.actions.map((a: { kind: string }) => a.kind),
      ['StatefulSet'],
    );
    assert.deepEqual(
      preview.body.actions[0].fields.find((f: { path: string }) => f.path.endsWith('.image')),
      {
        path: 'spec.template.spec.containers[0].image',
        from: template.spec.containers[0].image,
        to: 'ghcr.io/zalando/spilo-17:4.0-p9',
      },
      'the new image, field by field (what the API server defaults in the container is no change)',
    );
    assert.ok(preview.body.statefulSet.rollingUpdate, 'a pod template change rolls the pods');
    assert.deepEqual(preview.body.podsToRecreate.sort(), ['acid-plan-0', 'acid-plan-1']);
    assert.equal(preview.body.switchover.happens, true);

    // The ConfigMap preview, meanwhile: a new image restarts acid-plan's two pods (the other clusters were never
    // synced: all their objects are to be created, no pod to restart), 2 x 30 s under rollout_clusters_at_once 1.
    const configMap = await client.get<KubeObject>({ kind: 'ConfigMap', namespace, name: 'postgres-operator' });
    const configPreview = await call('/plan?podSeconds=30', tokens.reader, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'postgres-operator' },
        data: { ...configMap!.data, docker_image: 'ghcr.io/zalando/spilo-17:4.0-p9' },
      }),
    });
    assert.equal(configPreview.status, 200, JSON.stringify(configPreview.body));
    assert.deepEqual(configPreview.body.changed.map((c: { name: string }) => c.name).sort(), [
      'acid-api-one',
      'acid-api-two',
      'acid-plan',
      'web-api',
    ]);
    assert.deepEqual(
      configPreview.body.rollingUpdate.map((c: { name: string; pods: string[] }) => [c.name, c.pods.sort()]),
      [['acid-plan', ['acid-plan-0', 'acid-plan-1']]],
    );
    assert.equal(configPreview.body.rollout.expectedSeconds, 60);
    const badConfig = await call('/plan', tokens.reader, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'ConfigMap', data: { rollout_clusters_at_once: 'many' } }),
    });
    assert.deepEqual([badConfig.body.valid, badConfig.body.errors[0].key], [false, 'rollout_clusters_at_once']);

    await applyManifest(planned({ dockerImage: 'ghcr.io/zalando/spilo-17:4.0-p9' }), namespace);
    const result = await sync();
    assert.deepEqual(writes(result.actions), writes(preview.body.actions));
    await assertFieldsAsPlanned(preview.body.actions);
    const pods = await client.list<KubeObject>('Pod', namespace, 'cluster-name=acid-plan');
    const flagged = pods
      .filter((p) => p.metadata?.annotations?.['zalando-postgres-operator-rolling-update-required'] === 'true')
      .map((p) => p.metadata?.name)
      .sort();
    assert.deepEqual(flagged, preview.body.podsToRecreate.sort());
  });

  test('POST /plan: forbidden, invalid and malformed manifests', async () => {
    const post = (token: string | undefined, body: string, type = 'application/json') =>
      call('/plan', token, { method: 'POST', headers: { 'Content-Type': type }, body });
    const manifest = { ...planned(), metadata: { name: 'acid-plan', namespace } };
    assert.equal((await post(undefined, JSON.stringify(manifest))).status, 401);
    assert.equal((await post(tokens.stranger, JSON.stringify(manifest))).status, 403);
    const invalid = await post(
      tokens.reader,
      JSON.stringify({ ...manifest, spec: { ...manifest.spec, numberOfInstances: 'two' } }),
    );
    assert.equal(invalid.status, 200);
    assert.equal(invalid.body.valid, false);
    assert.match(invalid.body.problems, /spec\.numberOfInstances/);
    assert.equal((await post(tokens.reader, ': not yaml: [', 'text/plain')).status, 400);
    assert.equal((await post(tokens.reader, JSON.stringify({ kind: 'Service' }))).status, 400);
    const elsewhere = await post(
      tokens.reader,
      JSON.stringify({ ...manifest, metadata: { name: 'x', namespace: 'kube-system' } }),
    );
    assert.deepEqual(
      [elsewhere.status, elsewhere.body.error],
      [400, 'namespace kube-system is not watched by the operator'],
    );
  });

  test("Zalando's worker paths: one worker, idle once no cluster the caller reads is progressing", async () => {
    // acid-plan is waiting for its flagged pods (no kubelet here): the worker is on it.
    const busy = await call('/workers/all/status', tokens.reader);
    assert.equal(busy.status, 200);
    assert.equal(busy.body['0'].CurrentCluster.Name, 'acid-plan');
    assert.deepEqual((await call('/workers/all/status', tokens.stranger)).body, { 0: 'idle' });
    assert.deepEqual((await call('/workers/0/queue', tokens.reader)).body, { Keys: [], List: [] });
    assert.equal((await call('/workers/1/status', tokens.reader)).status, 404);
  });

  test('unknown paths and methods: JSON errors', async () => {
    assert.deepEqual((await call('/debug/pprof/', tokens.reader)).body, { error: 'page not found' });
    assert.equal((await call('/clusters/', tokens.reader, { method: 'DELETE' })).status, 405);
  });
});
