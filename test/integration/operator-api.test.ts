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
import { startLocal, type LocalDeployment } from '../../scripts/deploy/local';
import { ensureBundles } from './local-operator';
import { applyManifest, installCrd, testClient } from './operator';
import { installFunctionCredentials } from './service-accounts';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

/** @returns a bound token of a new ServiceAccount `name` in `namespace` (1 h) */
async function accountToken(namespace: string, name: string): Promise<string> {
  const created = await kubectl(['create', 'serviceaccount', name, '-n', namespace]);
  assert.equal(created.code, 0, created.stderr);
  const token = await kubectl(['create', 'token', name, '-n', namespace, '--duration=1h']);
  assert.equal(token.code, 0, token.stderr);
  return token.stdout.trim();
}

/** Lets ServiceAccount `account` of `namespace` do `verbs` on `resource` there (a Role and RoleBinding). */
async function grant(namespace: string, account: string, verbs: string, resource: string): Promise<void> {
  const name = `${account}-${resource.replace(/\W/g, '')}`;
  for (const args of [
    ['create', 'role', name, '-n', namespace, `--verb=${verbs.split(' ').join(',')}`, `--resource=${resource}`],
    ['create', 'rolebinding', name, '-n', namespace, `--role=${name}`, `--serviceaccount=${namespace}:${account}`],
  ]) {
    const result = await kubectl(args);
    assert.equal(result.code, 0, result.stderr);
  }
}

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
        FUNC_METRICS_PATH: '/function-metrics',
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

  test('unknown paths and methods: JSON errors', async () => {
    assert.deepEqual((await call('/workers/all/status', tokens.reader)).body, { error: 'page not found' });
    assert.equal((await call('/clusters/', tokens.reader, { method: 'DELETE' })).status, 405);
  });
});
