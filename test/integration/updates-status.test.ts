// Status through a cluster's life (Creating, Running, Updating, CreateFailed, UpdateFailed, SyncFailed, Invalid)
// with observedGeneration, written only when it changes; bad updates (a smaller volume, an invalid field, a name
// change) leave the running objects as they are and say why in status and Events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import type { OperatorConfig } from '../../lib/model/config';
import { finalizeCluster } from '../../lib/sync/cluster/finalize';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { installCrd, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, kubectl } from './testenv';
import { childVersions, createPods, events, manifest, markReady, type Manifest } from './updates-fixtures';
import type { SyncContext } from '../../lib/sync/context';

const condition = (cr: KubeObject, type: string) =>
  (cr.status.conditions as Array<Record<string, unknown>>).find((c) => c.type === type)!;

describe('status and bad updates', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  async function setup(name: string, spec: Manifest = {}, config: Partial<OperatorConfig> = {}) {
    const namespace = await createNamespace('status');
    const ctx: SyncContext = syncContext(client, {
      ...referenceConfig('v2.0.1'),
      enable_finalizers: true,
      enable_database_access: false,
      ...config,
    });
    await client.create({ ...manifest(name, spec), metadata: { name, namespace } });
    const get = async () => (await client.get({ kind: 'postgresql', namespace, name }))!;
    const patch = (patchSpec: Manifest) =>
      client.mergePatch({ kind: 'postgresql', namespace, name }, { spec: patchSpec });
    const sync = (c: SyncContext = ctx) => syncCluster(c, namespace, name);
    return { namespace, name, ctx, get, patch, sync };
  }

  test('Creating, Running, Updating, Running: observedGeneration follows, status is written only when it changes', async () => {
    const c = await setup('acid-life');
    assert.equal((await c.sync()).status, 'Creating');
    let cr = await c.get();
    assert.equal(cr.status.observedGeneration, 1);
    assert.equal(condition(cr, 'Ready').status, 'False');
    await createPods(client, c.namespace, c.name, 2);
    await markReady(client, c.namespace, c.name);
    client.counter.reset();
    assert.equal((await c.sync()).status, 'Running');
    assert.deepEqual(client.counter.byResource.get('patch postgresql'), 1, 'one status write');
    client.counter.reset();
    assert.equal((await c.sync()).status, 'Running');
    assert.equal(client.counter.writes(), 0, 'an unchanged status is not written');

    await c.patch({ resources: { requests: { cpu: '200m', memory: '100Mi' }, limits: { cpu: '1', memory: '500Mi' } } });
    assert.equal((await c.sync()).status, 'Updating');
    cr = await c.get();
    assert.equal(cr.status.observedGeneration, 2);
    for (const type of ['Ready', 'Progressing', 'Degraded']) assert.equal(condition(cr, type).observedGeneration, 2);
    assert.equal(condition(cr, 'Progressing').status, 'True');
    // the StatefulSet controller would recreate the marked pods; then the pods are ready on the new template
    await markReady(client, c.namespace, c.name);
    assert.equal((await c.sync()).status, 'Running');
  });

  test('CreateFailed, then UpdateFailed and SyncFailed, with the reason in Degraded and a Warning Event; fixed, it runs again', async () => {
    // Annotations over the API server's 256 KiB limit make the Service apply fail (the manifest itself is valid:
    // an invalid annotation key would make it Invalid before any write).
    const tooBig = { serviceAnnotations: { 'example.com/big': 'x'.repeat(300_000) } };
    const c = await setup('acid-fail', tooBig);
    const failed = await c.sync();
    assert.equal(failed.outcome, 'failed');
    let cr = await c.get();
    assert.equal(cr.status.PostgresClusterStatus, 'CreateFailed');
    assert.equal(condition(cr, 'Degraded').status, 'True');
    assert.match(condition(cr, 'Degraded').message as string, /Too long/);
    assert.ok(
      (await events(client, c.namespace, c.name)).some((e) => e.startsWith('SyncFailed: ') && e.includes('Too long')),
    );

    await c.patch({ serviceAnnotations: null });
    assert.equal((await c.sync()).outcome, 'synced');
    await createPods(client, c.namespace, c.name, 2);
    await markReady(client, c.namespace, c.name);
    assert.equal((await c.sync()).status, 'Running');
    const running = await childVersions(client, c.namespace, c.name);

    await c.patch(tooBig);
    assert.equal((await c.sync()).outcome, 'failed');
    cr = await c.get();
    assert.equal(cr.status.PostgresClusterStatus, 'UpdateFailed');
    assert.equal(cr.status.observedGeneration, 3);
    assert.deepEqual(await childVersions(client, c.namespace, c.name), running, 'nothing was changed');
    assert.equal((await c.sync()).outcome, 'failed');
    assert.equal((await c.get()).status.PostgresClusterStatus, 'SyncFailed', 'a retry of the same generation');

    await c.patch({ serviceAnnotations: null });
    assert.equal((await c.sync()).status, 'Running');
    cr = await c.get();
    assert.equal(condition(cr, 'Degraded').status, 'False');
  });

  test('a smaller volume is refused: the StatefulSet keeps its size, status and one Warning Event say why', async () => {
    const c = await setup('acid-shrink', { volume: { size: '2Gi' } });
    await c.sync();
    await createPods(client, c.namespace, c.name, 2);
    await markReady(client, c.namespace, c.name);
    await c.sync();
    const before = await childVersions(client, c.namespace, c.name);
    await c.patch({ volume: { size: '1Gi' } });
    client.counter.reset();
    const result = await c.sync();
    assert.deepEqual(result.actions, []);
    assert.deepEqual(
      Object.keys(client.counter.snapshot()).filter((v) => v === 'apply' || v === 'delete'),
      [],
    );
    assert.deepEqual(await childVersions(client, c.namespace, c.name), before);
    const sts = await client.get({ kind: 'StatefulSet', namespace: c.namespace, name: c.name });
    assert.equal(sts!.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '2Gi');
    const cr = await c.get();
    const message = 'cannot shrink persistent volume: volume.size 1Gi is smaller than the current 2Gi; keeping 2Gi';
    assert.equal(cr.status.PostgresClusterStatus, 'Running');
    assert.equal(cr.status.observedGeneration, 2);
    assert.deepEqual(
      [condition(cr, 'Progressing').reason, condition(cr, 'Progressing').message],
      ['UpdateBlocked', message],
    );
    assert.ok(cr.status.warnings.includes(message));
    assert.deepEqual(
      (await events(client, c.namespace, c.name)).filter((e) => e.startsWith('VolumeShrinkRefused')),
      [`VolumeShrinkRefused: ${message}`],
    );
    client.counter.reset();
    await c.sync();
    assert.equal(client.counter.writes(), 0);
    assert.equal(
      (await events(client, c.namespace, c.name)).filter((e) => e.startsWith('VolumeShrinkRefused')).length,
      1,
      'said once',
    );
    // back to the running size: the refusal goes away
    await c.patch({ volume: { size: '2Gi' } });
    await c.sync();
    assert.equal(condition(await c.get(), 'Progressing').reason, 'Converged');
  });

  test('an invalid field on a running cluster: Invalid with the field named, nothing touched; fixed, it runs again', async () => {
    const c = await setup('acid-invalid');
    await c.sync();
    await createPods(client, c.namespace, c.name, 2);
    await markReady(client, c.namespace, c.name);
    await c.sync();
    const before = await childVersions(client, c.namespace, c.name);
    await c.patch({ numberOfInstances: 3, users: { 'Bad-User': [] } });
    const result = await c.sync();
    assert.equal(result.outcome, 'invalid');
    const cr = await c.get();
    assert.equal(cr.status.PostgresClusterStatus, 'Invalid');
    assert.equal(cr.status.observedGeneration, 2);
    assert.match(condition(cr, 'Ready').message as string, /spec\.users\.Bad-User: invalid username/);
    assert.deepEqual(await childVersions(client, c.namespace, c.name), before);
    assert.ok(
      (await events(client, c.namespace, c.name)).some((e) => e.startsWith('InvalidManifest: spec.users.Bad-User')),
    );
    await c.patch({ numberOfInstances: 2, users: { 'Bad-User': null } });
    assert.equal((await c.sync()).status, 'Running');
  });

  test('a name change is a new cluster: creating it does not touch the old one, deleting the old one leaves the new one', async () => {
    const old = await setup('acid-old-name');
    await old.sync();
    const oldObjects = await childVersions(client, old.namespace, old.name);
    await client.create({
      ...manifest('acid-new-name'),
      metadata: { name: 'acid-new-name', namespace: old.namespace },
    });
    const created = await syncCluster(old.ctx, old.namespace, 'acid-new-name');
    assert.equal(created.outcome, 'synced');
    assert.ok(created.actions.every((a) => !a.name.includes('acid-old-name')));
    assert.deepEqual(await childVersions(client, old.namespace, old.name), oldObjects, 'the old cluster is untouched');
    const newObjects = await childVersions(client, old.namespace, 'acid-new-name');

    assert.equal((await kubectl(['delete', '-n', old.namespace, 'postgresql', old.name, '--wait=false'])).code, 0);
    const finalized = await finalizeCluster(old.ctx, old.namespace, old.name);
    assert.equal(finalized.outcome, 'finalized', finalized.error);
    assert.ok(
      finalized.deleted.every((key) => key.includes('acid-old-name')),
      finalized.deleted.join(),
    );
    assert.deepEqual(
      await childVersions(client, old.namespace, 'acid-new-name'),
      newObjects,
      'the new cluster is untouched',
    );
    assert.equal((await syncCluster(old.ctx, old.namespace, 'acid-new-name')).actions.length, 0);
  });
});
