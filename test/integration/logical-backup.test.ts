// The logical backup CronJob on the API server: enableLogicalBackup gives `logical-backup-<cluster>` of Zalando
// v1.15.1's shape, which the API server accepts; a second sync writes nothing; a new schedule or image updates it in
// place; an edit is repaired by fleet sync; turning it off deletes it (once); a schedule Kubernetes would refuse
// makes the manifest Invalid with a Warning Event naming the field and leaves the CronJob as it was;
// finalizeCluster deletes it with the cluster.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { finalizeCluster } from '../../lib/sync/cluster/finalize';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { syncFleet } from '../../lib/sync/fleet/sync-fleet';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

const name = 'acid-minimal-cluster';
const job = `logical-backup-${name}`;
const written = (result: { actions: Array<{ change: string; kind: string; name: string }> }) =>
  result.actions.map((a) => `${a.change} ${a.kind}/${a.name}`).sort();

describe('logical backup CronJob', () => {
  let client: KubeClient;
  const namespaces: string[] = [];
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(async () => {
    client.close();
    for (const ns of namespaces) await deleteNamespace(ns);
  });

  async function cluster(spec: Record<string, unknown>): Promise<string> {
    const namespace = await createNamespace('logical-backup');
    namespaces.push(namespace);
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    Object.assign(manifest.spec, spec);
    await applyManifest(manifest, namespace);
    return namespace;
  }
  const cronJob = (namespace: string, jobName = job) =>
    client.get<KubeObject>({ kind: 'CronJob', namespace, name: jobName });
  const patchSpec = (namespace: string, spec: Record<string, unknown>) =>
    client.mergePatch({ kind: 'postgresql', namespace, name }, { spec });
  const config = (extra: Record<string, unknown> = {}) => ({
    ...referenceConfig('v2.0.1'),
    logical_backup_s3_bucket: 'backups',
    ...extra,
  });

  test('created with Zalando shape, a second sync writes nothing', async () => {
    const namespace = await cluster({ enableLogicalBackup: true, logicalBackupRetention: '1 week' });
    const ctx = syncContext(client, config());
    const first = await syncCluster(ctx, namespace, name);
    assert.equal(first.outcome, 'synced', first.error);
    assert.ok(written(first).includes(`created CronJob/${job}`), written(first).join(', '));

    const live = (await cronJob(namespace))!;
    assert.equal(live.spec.schedule, '30 00 * * *');
    assert.equal(live.spec.concurrencyPolicy, 'Forbid');
    assert.equal(live.metadata!.labels!['cluster-name'], name);
    const pod = live.spec.jobTemplate.spec.template;
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.equal(pod.spec.serviceAccountName, 'postgres-pod');
    assert.equal(pod.metadata.labels.application, 'spilo-logical-backup');
    const env = Object.fromEntries(
      (pod.spec.containers[0].env as Array<{ name: string; value?: string }>).map((e) => [e.name, e.value]),
    );
    assert.equal(env.SCOPE, name);
    assert.equal(env.LOGICAL_BACKUP_S3_BUCKET, 'backups');
    assert.equal(env.LOGICAL_BACKUP_S3_RETENTION_TIME, '1 week');
    const uid = (await client.get({ kind: 'postgresql', namespace, name }))!.metadata!.uid;
    assert.equal(env.LOGICAL_BACKUP_S3_BUCKET_SCOPE_SUFFIX, `/${uid}`);

    const second = await syncCluster(ctx, namespace, name);
    assert.equal(second.outcome, 'synced', second.error);
    assert.deepEqual(written(second), []);
  });

  test('a new schedule and image update it in place; an edit is repaired by fleet sync', async () => {
    const namespace = await cluster({ enableLogicalBackup: true });
    const ctx = syncContext(client, config({ watched_namespace: namespace }));
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    const uid = (await cronJob(namespace))!.metadata!.uid;

    await patchSpec(namespace, { logicalBackupSchedule: '5/20 3 * * 1' });
    const image = 'registry.example.com/logical-backup:2';
    const changed = await syncCluster(ctx, namespace, name);
    assert.deepEqual(written(changed), [`updated CronJob/${job}`]);
    const imageCtx = syncContext(client, config({ watched_namespace: namespace, logical_backup_docker_image: image }));
    assert.deepEqual(written(await syncCluster(imageCtx, namespace, name)), [`updated CronJob/${job}`]);
    const after = (await cronJob(namespace))!;
    assert.equal(after.metadata!.uid, uid, 'updated in place');
    assert.equal(after.spec.schedule, '5/20 3 * * 1');
    assert.equal(after.spec.jobTemplate.spec.template.spec.containers[0].image, image);

    assert.equal(
      (await kubectl(['patch', '-n', namespace, 'cronjob', job, '-p', '{"spec":{"schedule":"0 0 * * *"}}'])).code,
      0,
    );
    const fleet = await syncFleet(imageCtx, { operatorNamespace: namespace, deadlineMs: 60_000 });
    assert.equal(fleet.failed, 0, JSON.stringify(fleet.items));
    assert.match(fleet.items.map((i) => i.why).join('\n'), new RegExp(`CronJob ${job}`));
    assert.equal((await cronJob(namespace))!.spec.schedule, '5/20 3 * * 1');
    assert.equal((await syncFleet(imageCtx, { operatorNamespace: namespace, deadlineMs: 60_000 })).inSync, 1);
  });

  test('turned off, it is deleted once; a second sync writes nothing', async () => {
    const namespace = await cluster({ enableLogicalBackup: true });
    const ctx = syncContext(client, config());
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    await patchSpec(namespace, { enableLogicalBackup: false });
    const off = await syncCluster(ctx, namespace, name);
    assert.deepEqual(written(off), [`deleted CronJob/${job}`]);
    assert.equal(await cronJob(namespace), undefined);
    assert.deepEqual(written(await syncCluster(ctx, namespace, name)), []);
  });

  test('a schedule Kubernetes refuses: Invalid, a Warning naming the field, the CronJob left as it was', async () => {
    const namespace = await cluster({ enableLogicalBackup: true });
    const ctx = syncContext(client, config());
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    // Within the CRD's pattern, so the API server takes the manifest; the CronJob would be refused.
    await patchSpec(namespace, { logicalBackupSchedule: '0 25 * * *' });
    const result = await syncCluster(ctx, namespace, name);
    assert.equal(result.outcome, 'invalid', JSON.stringify(result));
    const object = (await client.get({ kind: 'postgresql', namespace, name }))!;
    assert.equal(object.status?.PostgresClusterStatus, 'Invalid');
    const events = await client.list<KubeObject>('Event', namespace);
    const warning = events.find(
      (e) => e.type === 'Warning' && String(e.message).includes('spec.logicalBackupSchedule'),
    );
    assert.ok(warning, events.map((e) => e.message).join('\n'));
    assert.match(warning.message, /hour 25 is out of range/);
    assert.equal((await cronJob(namespace))!.spec.schedule, '30 00 * * *');
  });

  test('deleting the cluster deletes the CronJob', async () => {
    const namespace = await cluster({ enableLogicalBackup: true });
    const ctx = syncContext(client, config({ enable_finalizers: true }));
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    assert.equal((await kubectl(['delete', '-n', namespace, 'postgresql', name, '--wait=false'])).code, 0);
    const result = await finalizeCluster(ctx, namespace, name);
    assert.equal(result.outcome, 'finalized', JSON.stringify(result));
    assert.ok(result.deleted.includes(`CronJob/${job}`), result.deleted.join(', '));
    assert.equal(await cronJob(namespace), undefined);
  });
});
