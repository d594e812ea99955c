// Fleet sync: one LIST per kind, an in-memory diff of every cluster, syncs only where something drifted or failed,
// a deadline that leaves work for the next run, which starts where this one stopped.
import { OWNED_KINDS } from '../../lib/sync/cluster/observe';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { FLEET_CURSOR_CONFIGMAP } from '../../lib/sync/fleet/cursor';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { syncFleet, type FleetResult } from '../../lib/sync/fleet/sync-fleet';
import { parseOperatorConfig } from '../../lib/model/config';
import { installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, kubectl } from './testenv';
import type { SyncContext } from '../../lib/sync/context';
import { SYNC_NOW_ANNOTATION } from '../../lib/model/annotations';

const FLEET = 200;
const names = Array.from({ length: FLEET }, (_, i) => `acid-fleet-${String(i).padStart(3, '0')}`);
const KINDS = ['postgresql', 'Endpoints', 'Service', 'Secret', 'PodDisruptionBudget', 'StatefulSet'];

/** Runs `fn` over `items`, at most `limit` at once. */
async function parallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** resourceVersion of every object of each cluster (the postgresql object, its children) and its Event count. */
async function snapshot(client: KubeClient, namespace: string): Promise<Map<string, string>> {
  const out = new Map<string, string[]>();
  const add = (cluster: string, entry: string) => {
    if (!out.has(cluster)) out.set(cluster, []);
    out.get(cluster)!.push(entry);
  };
  for (const kind of KINDS) {
    for (const object of await client.list(kind, namespace)) {
      const cluster = kind === 'postgresql' ? object.metadata!.name : object.metadata!.labels?.['cluster-name'];
      if (cluster) add(cluster, `${kind}/${object.metadata!.name}@${object.metadata!.resourceVersion}`);
    }
  }
  for (const event of await client.list('Event', namespace))
    add(event.involvedObject.name, `Event/${event.metadata!.name}`);
  return new Map([...out].map(([cluster, entries]) => [cluster, entries.sort().join(' ')]));
}

const changedClusters = (a: Map<string, string>, b: Map<string, string>) =>
  [...new Set([...a.keys(), ...b.keys()])].filter((c) => a.get(c) !== b.get(c)).sort();

const writes = (result: FleetResult) =>
  ['create', 'apply', 'patch', 'update', 'delete'].reduce((n, v) => n + (result.requests[v] ?? 0), 0);

describe('fleet sync', () => {
  let client: KubeClient;
  let namespace: string;
  let ctx: SyncContext;
  const run = (extra: Partial<Parameters<typeof syncFleet>[1]> = {}) =>
    syncFleet(ctx, { operatorNamespace: namespace, deadlineMs: 120_000, parallelism: 4, ...extra });

  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('fleet');
    ctx = syncContext(client, { ...referenceConfig('v2.0.1'), watched_namespace: namespace, enable_finalizers: true });
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    await parallel(names, 8, async (name) => {
      await client.create({ ...manifest, metadata: { name, namespace } });
      const result = await syncCluster(ctx, namespace, name);
      assert.equal(result.outcome, 'synced', result.error);
    });
  });
  after(() => client.close());

  test(`a fleet of ${FLEET} in sync: one LIST per kind, no write, no sync`, async () => {
    const result = await run();
    assert.equal(result.clusters, FLEET);
    assert.equal(result.inSync, FLEET, JSON.stringify(result.items.slice(0, 3)));
    assert.deepEqual(result.items, []);
    assert.equal(writes(result), 0);
    // postgresql + the owned kinds + ServiceAccount + RoleBinding, once each, and the 800 Secrets (four roles each) in
    // two pages of 500; one GET for the cursor
    assert.deepEqual(result.requests, { get: 1, list: OWNED_KINDS.length + 4 });
  });

  test('exactly the 5 drifted clusters receive writes, and a second run writes nothing', async () => {
    const [a, b, c, d, e] = [names[3]!, names[50]!, names[99]!, names[150]!, names[199]!];
    const edits = [
      ['delete', '-n', namespace, 'service', `${a}-repl`],
      ['label', '--overwrite', '-n', namespace, 'service', b, 'team=other'],
      ['scale', '-n', namespace, 'statefulset', c, '--replicas=5'],
      ['delete', '-n', namespace, 'secret', `standby.${d}.credentials.postgresql.acid.zalan.do`],
      ['patch', '-n', namespace, 'pdb', `postgres-${e}-pdb`, '--type=merge', '-p', '{"spec":{"minAvailable":0}}'],
    ];
    for (const args of edits) assert.equal((await kubectl(args)).code, 0, args.join(' '));
    const before = await snapshot(client, namespace);
    const result = await run();
    assert.deepEqual(result.items.map((i) => i.cluster).sort(), [a, b, c, d, e].map((n) => `${namespace}/${n}`).sort());
    assert.equal(result.failed, 0, JSON.stringify(result.items));
    assert.equal(result.inSync, FLEET - 5);
    const whys = result.items.map((i) => i.why).join('\n');
    assert.match(whys, new RegExp(`Service ${a}-repl is missing`));
    assert.match(whys, /metadata\.labels\.team: "other" -> "acid"/);
    assert.match(whys, /spec\.replicas: 5 -> 2/);
    assert.match(whys, new RegExp(`Secret standby\\.${d}\\..* is missing`));
    assert.match(whys, /spec\.minAvailable: 0 -> 1/);
    const after = await snapshot(client, namespace);
    assert.deepEqual(changedClusters(before, after), [a, b, c, d, e].sort());
    assert.equal((await client.get({ kind: 'StatefulSet', namespace, name: c }))!.spec.replicas, 2);

    const second = await run();
    assert.equal(writes(second), 0, JSON.stringify(second.requests));
    assert.equal(second.inSync, FLEET);
    assert.deepEqual(changedClusters(after, await snapshot(client, namespace)), []);
  });

  test('a failed status, the sync-now annotation and a missing pod ServiceAccount are acted on once', async () => {
    const failed = names[10]!;
    const asked = names[20]!;
    await client.mergePatch(
      { kind: 'postgresql', namespace, name: failed },
      { status: { PostgresClusterStatus: 'SyncFailed' } },
      'status',
    );
    await client.mergePatch(
      { kind: 'postgresql', namespace, name: asked },
      { metadata: { annotations: { [SYNC_NOW_ANNOTATION]: '1' } } },
    );
    assert.equal((await kubectl(['delete', '-n', namespace, 'serviceaccount', 'postgres-pod'])).code, 0);
    const result = await run();
    assert.deepEqual(
      result.items.map((i) => `${i.cluster}: ${i.why}`).sort(),
      [
        `${namespace}/${failed}: last sync ended SyncFailed`,
        `${namespace}/${asked}: annotation ${SYNC_NOW_ANNOTATION}`,
      ].sort(),
    );
    assert.deepEqual(result.sharedCreated, [`${namespace}/ServiceAccount/postgres-pod`]);
    const repaired = await client.get({ kind: 'postgresql', namespace, name: failed });
    // it ran before (SyncFailed), so with pods not ready yet it is Updating, no longer failed
    assert.equal(repaired!.status.PostgresClusterStatus, 'Updating');
    const honoured = await client.get({ kind: 'postgresql', namespace, name: asked });
    assert.equal(honoured!.metadata!.annotations?.[SYNC_NOW_ANNOTATION], undefined);
    const second = await run();
    assert.equal(writes(second), 0, JSON.stringify(second.items));
    assert.equal(second.inSync, FLEET);
  });

  test('a run stops starting work at its deadline; the next one starts where it stopped', async () => {
    const drifted = [names[5]!, names[6]!, names[7]!, names[8]!, names[9]!, names[11]!];
    for (const name of drifted)
      assert.equal((await kubectl(['delete', '-n', namespace, 'service', `${name}-repl`])).code, 0);
    // A clock that moves 1 s per reading: start, then one reading before each cluster; 3.5 s with a 0.5 s
    // margin lets exactly two clusters start.
    const steppingClock = () => {
      let t = 0;
      return () => (t += 1000);
    };
    const key = (name: string) => `${namespace}/${name}`;
    const first = await run({ parallelism: 1, deadlineMs: 3500, marginMs: 500, clock: steppingClock() });
    assert.deepEqual(
      first.items.map((i) => i.cluster),
      drifted.slice(0, 2).map(key),
    );
    assert.equal(first.left, 4);
    assert.equal(first.cursor, key(drifted[2]!));
    const stored = await client.get({ kind: 'ConfigMap', namespace, name: FLEET_CURSOR_CONFIGMAP });
    assert.equal(stored!.data.cursor, key(drifted[2]!));

    // A cluster before the cursor drifts again: it waits behind the ones left over.
    assert.equal((await kubectl(['delete', '-n', namespace, 'service', `${drifted[0]}-repl`])).code, 0);
    const second = await run({ parallelism: 1, deadlineMs: 3500, marginMs: 500, clock: steppingClock() });
    assert.deepEqual(
      second.items.map((i) => i.cluster),
      drifted.slice(2, 4).map(key),
    );
    assert.deepEqual(second.leftClusters, [...drifted.slice(4), drifted[0]!].map(key));

    const third = await run();
    assert.deepEqual(
      third.items.map((i) => i.cluster),
      [...drifted.slice(4), drifted[0]!].map(key),
    );
    assert.equal(third.left, 0);
    assert.equal(third.cursor, undefined);
    assert.equal(await client.get({ kind: 'ConfigMap', namespace, name: FLEET_CURSOR_CONFIGMAP }), undefined);
    const fourth = await run();
    assert.equal(writes(fourth), 0);
    assert.equal(fourth.inSync, FLEET);
  });

  test('a cluster being deleted is finalized', async () => {
    const name = names[30]!;
    assert.equal((await kubectl(['delete', '-n', namespace, 'postgresql', name, '--wait=false'])).code, 0);
    const result = await run();
    assert.deepEqual(
      result.items.map((i) => [i.cluster, i.action, i.outcome]),
      [[`${namespace}/${name}`, 'finalize', 'finalized']],
    );
    assert.equal(await client.get({ kind: 'postgresql', namespace, name }), undefined);
    const left = (await client.list('Service', namespace, `cluster-name=${name}`)).map(
      (s: KubeObject) => s.metadata!.name,
    );
    assert.deepEqual(left, []);
    const second = await run();
    assert.equal(second.clusters, FLEET - 1);
    assert.equal(writes(second), 0);
  });
});

describe('fleet sync across namespaces', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  test('a list of namespaces is one scope each, WATCHED_NAMESPACE wins, * is one scope; the pod ServiceAccount comes from its definition, with the IRSA role', async () => {
    // Sorted: fleet sync works through clusters in namespace/name order, and the names are random.
    const [a, b] = [await createNamespace('fleet-ns'), await createNamespace('fleet-ns')].sort() as [string, string];
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    for (const namespace of [a, b]) await client.create({ ...manifest, metadata: { name: 'acid-ns', namespace } });
    const data = {
      ...(reference('v2.0.1/configmap.yaml').data as Record<string, string>),
      enable_finalizers: 'true',
      watched_namespace: `${a}, ${b}`,
      pod_service_account_definition:
        '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"ignored","labels":{"team":"db"}}}',
      irsa_role_arn: 'arn:aws:iam::123456789012:role/postgres',
    };
    const parsed = (env: { WATCHED_NAMESPACE?: string } = {}) => {
      const result = parseOperatorConfig(data, env);
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      return syncContext(client, result.config);
    };
    const first = await syncFleet(parsed(), { operatorNamespace: a });
    assert.deepEqual(first.scopes, [a, b]);
    assert.deepEqual(
      first.items.map((i) => [i.cluster, i.why, i.outcome]),
      [
        [`${a}/acid-ns`, 'no finalizer yet', 'synced'],
        [`${b}/acid-ns`, 'no finalizer yet', 'synced'],
      ],
    );
    assert.deepEqual(
      first.sharedCreated,
      [a, b].flatMap((ns) => [`${ns}/ServiceAccount/postgres-pod`, `${ns}/RoleBinding/postgres-pod`]),
    );
    for (const namespace of [a, b]) {
      const account = await client.get({ kind: 'ServiceAccount', namespace, name: 'postgres-pod' });
      assert.equal(account!.metadata!.labels!.team, 'db', 'from pod_service_account_definition');
      assert.equal(
        account!.metadata!.annotations!['eks.amazonaws.com/role-arn'],
        'arn:aws:iam::123456789012:role/postgres',
      );
    }

    data.irsa_role_arn = 'arn:aws:iam::123456789012:role/other';
    const second = await syncFleet(parsed(), { operatorNamespace: a });
    assert.deepEqual(second.sharedCreated, [`${a}/ServiceAccount/postgres-pod`, `${b}/ServiceAccount/postgres-pod`]);
    assert.deepEqual(second.items, [], 'a namespace-wide change is made once, not per cluster');
    assert.equal(second.requests.list, 2 * (OWNED_KINDS.length + 3), 'every kind once per scope, two scopes');
    const account = await client.get({ kind: 'ServiceAccount', namespace: b, name: 'postgres-pod' });
    assert.equal(account!.metadata!.annotations!['eks.amazonaws.com/role-arn'], 'arn:aws:iam::123456789012:role/other');
    assert.equal(account!.metadata!.labels!.team, 'db', 'the rest is left alone');

    const onlyB = await syncFleet(parsed({ WATCHED_NAMESPACE: b }), { operatorNamespace: a });
    assert.deepEqual(onlyB.scopes, [b]);
    assert.equal(onlyB.clusters, 1);
    assert.equal(writes(onlyB), 0);

    // every namespace of the plane in one LIST per kind (in pages of 500: earlier tests left more objects than
    // that of some kinds on this shared plane); a zero budget starts no cluster
    data.watched_namespace = '*';
    data.irsa_role_arn = '';
    const all = await syncFleet(parsed(), { operatorNamespace: a, deadlineMs: 0 });
    assert.deepEqual(all.scopes, ['*']);
    assert.ok(all.requests.list! >= 9, `at least one LIST of each of the nine kinds: ${all.requests.list}`);
    assert.ok(all.clusters >= 2);
    assert.deepEqual(all.items, []);
  });
});
