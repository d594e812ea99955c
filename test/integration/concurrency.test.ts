// Concurrent syncs of one cluster end as one sync would: the per-cluster Lease serializes the writes, the one that
// waits re-reads and finds nothing to do, so there is one set of Events and no error in status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { microTime } from '../../lib/k8s/lease';
import type { V1Secret } from '@kubernetes/client-node';
import type { PostgresqlObject } from '../../lib/sync/cluster/read-cluster';
import { isNewCluster, syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { installCrd, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace } from './testenv';
import { childVersions, createPods, events, flaggedPods, manifest, orphanCollector } from './updates-fixtures';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../lib/model/annotations';
import type { SyncContext } from '../../lib/sync/context';
import { leaseName } from '../../lib/builders/lease';

const kindsAndNames = (versions: string[]) => versions.map((v) => v.split('@')[0]);

describe('concurrent syncs', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  /** Creates the cluster's Lease held by `someone-else`, renewed now for 30 s (a live invocation). */
  const holdLease = (c: { namespace: string; name: string }) => {
    const now = microTime(new Date());
    return client.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName(c.name), namespace: c.namespace },
      spec: {
        holderIdentity: 'someone-else',
        leaseDurationSeconds: 30,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      },
    });
  };

  async function setup(name: string) {
    const namespace = await createNamespace('conc');
    const base = syncContext(client, {
      ...referenceConfig('v2.0.1'),
      enable_database_access: false,
      enable_finalizers: true,
    });
    const as = (holder: string, extra: Partial<SyncContext> = {}): SyncContext => ({ ...base, holder, ...extra });
    await client.create({ ...manifest(name), metadata: { name, namespace } });
    return { namespace, name, as };
  }

  test('four syncs of a new cluster at once: one set of objects, one Created Event, no error, the Lease released', async () => {
    const c = await setup('acid-race');
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((h) => syncCluster(c.as(`holder-${h}`), c.namespace, c.name)),
    );
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['synced', 'synced', 'synced', 'synced'],
      JSON.stringify(results.map((r) => r.error)),
    );
    const writers = results.filter((r) => r.actions.length > 0);
    assert.equal(writers.length, 1, 'one sync made the changes, the others found nothing left');
    const recorded = await events(client, c.namespace, c.name);
    assert.equal(recorded.filter((e) => e.startsWith('Created: ')).length, 1, recorded.join('\n'));
    const cr = await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    assert.equal(cr!.status.PostgresClusterStatus, 'Creating');
    assert.equal(cr!.status.conditions.find((x: { type: string }) => x.type === 'Degraded').status, 'False');
    assert.deepEqual(cr!.metadata!.finalizers, ['postgres-operator.acid.zalan.do']);
    const lease = await client.get({ kind: 'Lease', namespace: c.namespace, name: leaseName(c.name) });
    assert.equal(lease!.spec.holderIdentity, undefined, 'released');
    assert.equal(lease!.metadata!.ownerReferences![0]!.uid, cr!.metadata!.uid, 'goes with the cluster');

    // the same objects as one sync makes
    const single = await setup('acid-race');
    await syncCluster(single.as('alone'), single.namespace, single.name);
    assert.deepEqual(
      kindsAndNames(await childVersions(client, c.namespace, c.name)),
      kindsAndNames(await childVersions(client, single.namespace, single.name)),
    );
    client.counter.reset();
    await syncCluster(c.as('later'), c.namespace, c.name);
    assert.equal(client.counter.writes(), 0);
  });

  test('the first sync of a new cluster from its add event (Lease created unread, object not read again) races three usual syncs: one set of objects, one Created Event', async () => {
    const c = await setup('acid-added');
    const added = (await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name })) as PostgresqlObject;
    assert.ok(isNewCluster(added));
    const results = await Promise.all([
      syncCluster(c.as('added'), c.namespace, c.name, { added }),
      ...['x', 'y', 'z'].map((h) => syncCluster(c.as(h), c.namespace, c.name)),
    ]);
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['synced', 'synced', 'synced', 'synced'],
      JSON.stringify(results.map((r) => r.error)),
    );
    assert.equal(results.filter((r) => r.actions.length > 0).length, 1, 'one sync made the changes');
    const recorded = await events(client, c.namespace, c.name);
    assert.equal(recorded.filter((e) => e.startsWith('Created: ')).length, 1, recorded.join('\n'));
    const cr = await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    assert.deepEqual(cr!.metadata!.finalizers, ['postgres-operator.acid.zalan.do']);
    const lease = await client.get({ kind: 'Lease', namespace: c.namespace, name: leaseName(c.name) });
    assert.equal(lease!.spec.holderIdentity, undefined, 'released');
  });

  test('the first sync from an add event reads neither the object nor the Lease; what it makes equals a usual sync; a second sync writes nothing', async () => {
    const c = await setup('acid-added-alone');
    const added = (await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name })) as PostgresqlObject;
    client.counter.reset();
    const first = await syncCluster(c.as('added'), c.namespace, c.name, { added });
    assert.equal(first.outcome, 'synced', first.error);
    assert.ok(first.actions.length > 0);
    const requests = Object.fromEntries(client.counter.byResource);
    assert.equal(requests['get postgresql'], undefined, JSON.stringify(requests));
    assert.equal(requests['get Lease'], undefined, JSON.stringify(requests));
    assert.equal(requests['create Lease'], 1, JSON.stringify(requests));

    const usual = await setup('acid-added-alone');
    await syncCluster(usual.as('usual'), usual.namespace, usual.name);
    assert.deepEqual(
      kindsAndNames(await childVersions(client, c.namespace, c.name)),
      kindsAndNames(await childVersions(client, usual.namespace, usual.name)),
    );
    const secret = async (namespace: string) =>
      (await client.get<V1Secret>({
        kind: 'Secret',
        namespace,
        name: `postgres.${c.name}.credentials.postgresql.acid.zalan.do`,
      }))!;
    assert.deepEqual(
      Object.keys((await secret(c.namespace)).data!).sort(),
      Object.keys((await secret(usual.namespace)).data!).sort(),
    );

    // An add delivered again (a restarted bridge lists every object) finds the status written: the usual path.
    const again = (await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name })) as PostgresqlObject;
    assert.equal(isNewCluster(again), false);
    client.counter.reset();
    assert.equal((await syncCluster(c.as('later'), c.namespace, c.name, { added: again })).outcome, 'synced');
    assert.equal(client.counter.writes(), 0);

    // The same add delivered again (the event source retries a first sync that ended pending; the event carries the
    // object as it was added, without status): the usual path, which reads what is there, not a round of creates.
    client.counter.reset();
    assert.equal((await syncCluster(c.as('retry'), c.namespace, c.name, { added })).outcome, 'synced');
    assert.equal(client.counter.writes(), 0, JSON.stringify(Object.fromEntries(client.counter.byResource)));
    assert.equal(client.counter.byResource.get('get postgresql'), 1);
  });

  /** Creates the Secret of `user` by hand, with `password`, as a user or an earlier incarnation would have. */
  const ownSecret = (c: { namespace: string; name: string }, user: string, password: string) =>
    client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${user}.${c.name}.credentials.postgresql.acid.zalan.do`, namespace: c.namespace },
      data: { username: Buffer.from(user).toString('base64'), password: Buffer.from(password).toString('base64') },
    });
  const passwordOf = async (c: { namespace: string; name: string }, user: string) => {
    const name = `${user}.${c.name}.credentials.postgresql.acid.zalan.do`;
    const secret = await client.get<V1Secret>({ kind: 'Secret', namespace: c.namespace, name });
    return Buffer.from(secret!.data!.password!, 'base64').toString('utf8');
  };

  test('an add event of a cluster whose Lease a sync holds: the missing children are created, an existing Secret keeps its password, then the sync waits the usual way', async () => {
    const c = await setup('acid-added-held');
    const added = (await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name })) as PostgresqlObject;
    await holdLease(c);
    await ownSecret(c, 'postgres', 'chosen-by-hand');
    const busy = await syncCluster(c.as('me', { timing: { waitMs: 400 } }), c.namespace, c.name, { added });
    assert.equal(busy.outcome, 'busy');
    assert.equal(await passwordOf(c, 'postgres'), 'chosen-by-hand', 'an existing Secret is never overwritten');
    const made = kindsAndNames(await childVersions(client, c.namespace, c.name));
    assert.ok(made.includes(`StatefulSet/${c.name}`), made.join(', '));
    const lease = await client.get({ kind: 'Lease', namespace: c.namespace, name: leaseName(c.name) });
    assert.equal(lease!.spec.holderIdentity, 'someone-else', 'the holder keeps its Lease');
  });

  test('an add event of a cluster with a child already there: that child is read and synced under the Lease, the rest created once; one Event names every write', async () => {
    const c = await setup('acid-added-existing');
    const added = (await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name })) as PostgresqlObject;
    await ownSecret(c, 'postgres', 'chosen-by-hand');
    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: c.name,
        namespace: c.namespace,
        labels: { application: 'spilo', 'cluster-name': c.name, 'made-by': 'hand' },
      },
      spec: { ports: [{ name: 'postgresql', port: 5432, targetPort: 5432 }] },
    });
    const first = await syncCluster(c.as('added'), c.namespace, c.name, { added });
    assert.equal(first.outcome, 'synced', first.error);
    assert.equal(await passwordOf(c, 'postgres'), 'chosen-by-hand');
    const service = await client.get({ kind: 'Service', namespace: c.namespace, name: c.name });
    assert.ok(service!.metadata!.annotations?.['acid.zalan.do/desired-hash'], 'the existing Service is applied over');
    const writes = first.actions.map((a) => `${a.change} ${a.kind}/${a.name}`);
    assert.ok(writes.includes(`created StatefulSet/${c.name}`), writes.join(', '));
    assert.ok(writes.includes(`updated Service/${c.name}`), writes.join(', '));
    assert.ok(
      writes.includes(`updated Secret/postgres.${c.name}.credentials.postgresql.acid.zalan.do`),
      writes.join(', '),
    );
    const recorded = await events(client, c.namespace, c.name);
    assert.equal(
      recorded.filter((e) => e.startsWith('Created: ') || e.startsWith('Updated: ')).length,
      1,
      recorded.join('\n'),
    );
    client.counter.reset();
    assert.equal((await syncCluster(c.as('later'), c.namespace, c.name)).outcome, 'synced');
    assert.equal(client.counter.writes(), 0);
  });

  test('an add event of a cluster whose pods outlived an earlier StatefulSet: the StatefulSet is created and those pods are flagged for the rolling update', async () => {
    const c = await setup('acid-added-orphans');
    const added = (await client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name })) as PostgresqlObject;
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${c.name}-0`,
        namespace: c.namespace,
        labels: { application: 'spilo', 'cluster-name': c.name, 'spilo-role': 'master' },
        annotations: { [POD_TEMPLATE_HASH_ANNOTATION]: 'an-older-template' },
      },
      spec: { containers: [{ name: 'postgres', image: 'spilo:old' }] },
    });
    const first = await syncCluster(c.as('added'), c.namespace, c.name, { added });
    assert.equal(first.outcome, 'synced', first.error);
    assert.deepEqual(await flaggedPods(client, c.namespace, c.name), [`${c.name}-0`]);
    const recorded = await events(client, c.namespace, c.name);
    assert.ok(
      recorded.some((e) => e.startsWith('RollingUpdateRequired: ')),
      recorded.join('\n'),
    );
  });

  test('two syncs of an update that re-creates the StatefulSet: one re-create, one set of Events', async () => {
    const c = await setup('acid-recreate');
    await syncCluster(c.as('first'), c.namespace, c.name);
    await createPods(client, c.namespace, c.name, 2);
    const before = await client.get({ kind: 'StatefulSet', namespace: c.namespace, name: c.name });
    await client.mergePatch(
      { kind: 'postgresql', namespace: c.namespace, name: c.name },
      { spec: { volume: { size: '1Gi', storageClass: 'fast' } } },
    );
    const stop = orphanCollector(client, c.namespace);
    let results;
    try {
      results = await Promise.all([
        syncCluster(c.as('x'), c.namespace, c.name),
        syncCluster(c.as('y'), c.namespace, c.name),
      ]);
    } finally {
      await stop();
    }
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['synced', 'synced'],
      JSON.stringify(results.map((r) => r.error)),
    );
    const recorded = await events(client, c.namespace, c.name);
    assert.equal(recorded.filter((e) => e.startsWith('StatefulSetRecreated: ')).length, 1, recorded.join('\n'));
    assert.equal(recorded.filter((e) => e.startsWith('Updated: ')).length, 1, recorded.join('\n'));
    const after = await client.get({ kind: 'StatefulSet', namespace: c.namespace, name: c.name });
    assert.notEqual(after!.metadata!.uid, before!.metadata!.uid);
    assert.equal(after!.spec.volumeClaimTemplates[0].spec.storageClassName, 'fast');
  });

  test('a Lease held by a live invocation: the sync waits, then gives up as busy without writing; an expired one is taken over', async () => {
    const c = await setup('acid-held');
    await holdLease(c);
    client.counter.reset();
    const busy = await syncCluster(c.as('me', { timing: { waitMs: 600 } }), c.namespace, c.name);
    assert.equal(busy.outcome, 'busy');
    assert.equal(busy.retryable, true);
    assert.match(busy.error ?? '', /held by someone-else/);
    assert.deepEqual(await childVersions(client, c.namespace, c.name), [], 'no child written');

    // the holder crashed an hour ago: its Lease has expired
    const hourAgo = microTime(new Date(Date.now() - 3_600_000));
    await client.mergePatch(
      { kind: 'Lease', namespace: c.namespace, name: leaseName(c.name) },
      { spec: { renewTime: hourAgo } },
    );
    const taken = await syncCluster(c.as('me'), c.namespace, c.name);
    assert.equal(taken.outcome, 'synced');
    assert.ok(taken.actions.length > 0);
    const lease = await client.get({ kind: 'Lease', namespace: c.namespace, name: leaseName(c.name) });
    assert.equal(lease!.spec.leaseTransitions, 1);
    assert.equal(lease!.spec.holderIdentity, undefined);
  });
});
