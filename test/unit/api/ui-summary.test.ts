// The UI's views of live objects (lib/api/ui/summary.ts) and its static routes (lib/api/ui/route.ts): what the
// fleet row and the cluster page show, that no Secret value reaches the page, and that the page and script are
// served without a token while every /ui/api path wants one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeClient } from '../../../lib/k8s/client';
import { silentLogger } from '../../../lib/log/logger';
import { handleUiRequest, isUiRequest } from '../../../lib/api/ui/route';
import { childState, clusterPage, fleetRow } from '../../../lib/api/ui/summary';

const cluster = {
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: {
    name: 'acid-a',
    namespace: 'db',
    annotations: { 'acid.zalan.do/rolling-update-paused': 'true', 'acid.zalan.do/sync-now': 'x' },
  },
  spec: {
    teamId: 'acid',
    numberOfInstances: 2,
    volume: { size: '5Gi' },
    postgresql: { version: '17' },
    users: { app_owner: ['createdb'] },
    databases: { orders: 'app_owner' },
  },
  status: {
    PostgresClusterStatus: 'Updating',
    conditions: [{ type: 'RollingUpdate', status: 'True', reason: 'Paused', message: 'paused by annotation' }],
  },
};
const pod = (name: string, role: string, flagged: boolean, ready: boolean) => ({
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'db',
    labels: { 'cluster-name': 'acid-a', 'spilo-role': role },
    annotations: (flagged ? { 'zalando-postgres-operator-rolling-update-required': 'true' } : {}) as Record<
      string,
      string
    >,
  },
  spec: { nodeName: 'node-1' },
  status: {
    phase: 'Running',
    podIP: `10.0.0.${name.at(-1)}`,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});
const pods = [pod('acid-a-0', 'master', false, true), pod('acid-a-1', 'replica', true, false)];

describe('UI views', () => {
  it('a fleet row: pods ready/wanted, pods on the old template, paused, sync requested', () => {
    const row = fleetRow(cluster, pods);
    assert.deepEqual(
      [row.team, row.version, row.readyPods, row.wantedPods, row.outdatedPods, row.pods, row.volume, row.status],
      ['acid', '17', 1, 2, 1, 2, '5Gi', 'Updating'],
    );
    assert.deepEqual(
      [row.rollout, row.paused, row.rolloutMessage, row.syncRequested],
      ['Paused', true, 'paused by annotation', true],
    );
  });

  it('the cluster page: pods with Patroni role and lag, children, steps, Events, connection without secrets', () => {
    const secret = {
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'app-owner.acid-a.credentials.postgresql.acid.zalan.do' },
      data: { username: 'YXBw', password: 'c2VjcmV0LXZhbHVl' },
    };
    const event = (name: string, kind: string, object: string, reason: string, time: string) => ({
      kind: 'Event',
      metadata: { name },
      involvedObject: { kind, name: object },
      reason,
      type: 'Normal',
      message: reason,
      lastTimestamp: time,
    });
    const page = clusterPage({
      cluster,
      children: [
        secret,
        { kind: 'StatefulSet', metadata: { name: 'acid-a' }, spec: { replicas: 2 }, status: { readyReplicas: 1 } },
      ],
      pods,
      events: [
        event('e1', 'postgresql', 'acid-a', 'RollingUpdate', '2026-01-01T00:00:02Z'),
        event('e2', 'Pod', 'acid-a-1', 'Killing', '2026-01-01T00:00:03Z'),
        event('e3', 'postgresql', 'acid-b', 'Created', '2026-01-01T00:00:04Z'),
        event('e4', 'postgresql', 'acid-a', 'Switchover', '2026-01-01T00:00:01Z'),
      ],
      patroni: {
        members: [
          { name: 'acid-a-0', role: 'leader', state: 'running' },
          { name: 'acid-a-1', role: 'replica', state: 'streaming', lag: 4096 },
        ],
      },
      labels: { clusterName: 'cluster-name', podRole: 'spilo-role' },
      clusterDomain: 'cluster.local',
    });
    assert.deepEqual(
      page.podViews.map((p) => [p.name, p.role, p.ready, p.patroniState, p.lag, p.onOldTemplate]),
      [
        ['acid-a-0', 'master', true, 'running', 0, false],
        ['acid-a-1', 'replica', false, 'streaming', 4096, true],
      ],
    );
    assert.deepEqual(page.children, [
      { kind: 'Secret', name: secret.metadata.name, state: 'Opaque, 2 keys' },
      { kind: 'StatefulSet', name: 'acid-a', state: '1/2 ready' },
    ]);
    assert.deepEqual(
      page.steps.map((e) => e.reason),
      ['Switchover', 'RollingUpdate'],
    );
    assert.deepEqual(
      page.events.map((e) => e.reason),
      ['Killing', 'RollingUpdate', 'Switchover'],
    );
    assert.deepEqual(page.connection, {
      host: 'acid-a.db.svc.cluster.local',
      replicaHost: 'acid-a-repl.db.svc.cluster.local',
      port: 5432,
      databases: ['orders'],
      users: [{ name: 'app_owner', secret: secret.metadata.name }],
    });
    const text = JSON.stringify(page);
    assert.ok(!text.includes('c2VjcmV0LXZhbHVl') && !text.includes('YXBw'), 'no Secret data on the page');
  });

  it('without Patroni, roles come from the labels and lag is unknown', () => {
    const page = clusterPage({
      cluster,
      children: [],
      pods,
      events: [],
      labels: { clusterName: 'cluster-name', podRole: 'spilo-role' },
      clusterDomain: 'example.org',
    });
    assert.deepEqual(
      page.podViews.map((p) => [p.role, p.lag]),
      [
        ['master', 'unknown'],
        ['replica', 'unknown'],
      ],
    );
  });

  it('child states of the other kinds', () => {
    assert.equal(
      childState({ kind: 'Service', spec: { type: 'ClusterIP', clusterIP: '10.0.0.1' } }),
      'ClusterIP 10.0.0.1',
    );
    assert.equal(childState({ kind: 'Endpoints', subsets: [{ addresses: [{ ip: '10.1.1.1' }] }] }), '10.1.1.1');
    assert.equal(childState({ kind: 'Endpoints' }), 'no addresses');
    assert.equal(
      childState({ kind: 'PodDisruptionBudget', spec: { minAvailable: 1 }, status: { disruptionsAllowed: 0 } }),
      'minAvailable 1, 0 disruptions allowed',
    );
    assert.equal(childState({ kind: 'CronJob', spec: { schedule: '30 00 * * *' } }), 'schedule 30 00 * * *');
  });
});

describe('UI routes without the API server', () => {
  // The static routes answer before any request to the API server; a client that fails proves it.
  const deps = {
    client: {
      request: () => Promise.reject(new Error('no API server in this test')),
    } as unknown as KubeClient,
    env: {},
    log: silentLogger,
    now: () => new Date(0),
    appScript: 'console.log("app")',
  };
  const get = (url: string, headers: Record<string, string> = {}) =>
    handleUiRequest({ method: 'GET', url, headers }, deps);

  it('knows its paths, under the function prefix or not', () => {
    assert.ok(isUiRequest('/ui/') && isUiRequest('/operator-api/ui/api/clusters') && isUiRequest('/ui'));
    assert.ok(!isUiRequest('/clusters/') && !isUiRequest('/uix/'));
  });

  it('serves the page and its script to anyone, with a same-origin-only policy', async () => {
    const page = await get('/operator-api/ui/');
    assert.equal(page.status, 200);
    assert.equal(page.contentType, 'text/html; charset=utf-8');
    assert.match(String(page.body), /<script type="module" src="app.js">/);
    assert.match(page.headers['Content-Security-Policy']!, /default-src 'none'; script-src 'self'/);
    const script = await get('/ui/app.js');
    assert.deepEqual(
      [script.status, script.body, script.contentType],
      [200, 'console.log("app")', 'text/javascript; charset=utf-8'],
    );
    const redirect = await get('/operator-api/ui');
    assert.deepEqual([redirect.status, redirect.headers.Location], [301, 'ui/']);
    assert.equal((await get('/ui/nothing')).status, 404);
  });

  it('every api path wants a bearer token', async () => {
    for (const url of ['/ui/api/clusters', '/ui/api/clusters/db/acid-a']) {
      const answer = await get(url);
      assert.equal(answer.status, 401, url);
      assert.match(answer.headers['WWW-Authenticate']!, /^Bearer/);
    }
    const post = await handleUiRequest({ method: 'POST', url: '/ui/api/clusters/db/acid-a/pause', headers: {} }, deps);
    assert.equal(post.status, 401);
  });
});
