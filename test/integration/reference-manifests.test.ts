// Every Zalando reference manifest is accepted unchanged by `kubectl apply` and synced into the objects Zalando's
// operator creates, with owner references; a second sync writes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { REFERENCE_MANIFESTS } from '../unit/reference';
import { createNamespace } from './testenv';

const manifests = REFERENCE_MANIFESTS;

describe('reference manifests', () => {
  let client: KubeClient;
  before(async () => {
    await installCrd();
    client = testClient();
  });
  after(() => client.close());

  for (const configVersion of ['v1.0.0', 'v2.0.1'] as const) {
    for (const path of manifests) {
      test(`${path} under the ${configVersion} ConfigMap`, async () => {
        const config = referenceConfig(configVersion);
        const manifest = reference(path);
        const name = manifest.metadata.name as string;
        const namespace = await createNamespace('ref');
        await applyManifest(manifest, namespace);
        const ctx = syncContext(client, config);
        const first = await syncCluster(ctx, namespace, name);
        assert.equal(first.outcome, 'synced', first.error);
        assert.equal(first.status, manifest.spec.numberOfInstances === 0 ? 'Running' : 'Creating');

        const cr = await client.get({ kind: 'postgresql', namespace, name });
        const sts = await client.get({ kind: 'StatefulSet', namespace, name });
        assert.ok(sts, 'StatefulSet exists');
        assert.equal(sts.metadata!.labels![config.cluster_name_label], name);
        assert.equal(sts.metadata!.labels!.team, manifest.spec.teamId);
        assert.deepEqual(
          sts.metadata!.ownerReferences?.map((o: KubeObject) => [o.kind, o.name, o.uid, o.controller]),
          config.enable_owner_references ? [['postgresql', name, cr!.metadata!.uid, true]] : undefined,
          'enable_owner_references',
        );
        assert.equal(sts.spec.updateStrategy.type, 'OnDelete');
        const expectedReplicas = manifest.spec.standby ? 1 : manifest.spec.numberOfInstances;
        assert.equal(sts.spec.replicas, expectedReplicas);
        const env = sts.spec.template.spec.containers[0].env.map((e: KubeObject) => e.name);
        for (const variable of [
          'SCOPE',
          'PGROOT',
          'POD_IP',
          'POD_NAMESPACE',
          'PGUSER_SUPERUSER',
          'PGPASSWORD_SUPERUSER',
          'PGUSER_STANDBY',
          'PGPASSWORD_STANDBY',
          'PAM_OAUTH2',
          'SPILO_CONFIGURATION',
          'DCS_ENABLE_KUBERNETES_API',
        ]) {
          assert.ok(env.includes(variable), `env ${variable}`);
        }
        if (manifest.spec.standby) assert.ok(env.includes('STANDBY_HOST'));

        const repl = await client.get({ kind: 'Service', namespace, name: `${name}-repl` });
        assert.equal(repl!.spec.selector[config.pod_role_label], 'replica');
        const master = await client.get({ kind: 'Service', namespace, name });
        assert.equal(master!.spec.selector, undefined, 'master Service has no selector (Patroni owns its Endpoints)');
        assert.ok(await client.get({ kind: 'Endpoints', namespace, name }), 'master Endpoints exist');

        // kubectl apply drops `user:` entries with a null value (v1.0.0 minimal's foo_user), so read what was stored
        const users = ['postgres', 'standby', ...Object.keys(cr!.spec.users ?? {})];
        for (const user of users) {
          const secretName = config.secret_name_template
            .replace('{username}', user.replaceAll('_', '-'))
            .replace('{cluster}', name)
            .replace('{tprkind}', 'postgresql')
            .replace('{tprgroup}', 'acid.zalan.do');
          const secret = await client.get({ kind: 'Secret', namespace, name: secretName });
          assert.ok(secret, `Secret ${secretName}`);
          assert.equal(Buffer.from(secret.data.username, 'base64').toString(), user);
          assert.match(Buffer.from(secret.data.password, 'base64').toString(), /^[A-Za-z0-9]{64}$/);
        }

        client.counter.reset();
        const second = await syncCluster(ctx, namespace, name);
        assert.deepEqual(second.actions, []);
        assert.equal(client.counter.writes(), 0, JSON.stringify(client.counter.snapshot()));
      });
    }
  }

  test('v1.0.0 minimal manifest under the v1.0.0 ConfigMap has v1.0.0 names and labels', async () => {
    const namespace = await createNamespace('v1');
    await applyManifest(reference('v1.0.0/minimal-postgres-manifest.yaml'), namespace);
    const result = await syncCluster(syncContext(client, referenceConfig('v1.0.0')), namespace, 'acid-minimal-cluster');
    assert.equal(result.outcome, 'synced', result.error);
    const sts = await client.get({ kind: 'StatefulSet', namespace, name: 'acid-minimal-cluster' });
    assert.deepEqual(sts!.spec.selector.matchLabels, { application: 'spilo', version: 'acid-minimal-cluster' });
    assert.deepEqual(sts!.metadata!.labels, { application: 'spilo', version: 'acid-minimal-cluster', team: 'ACID' });
    assert.equal(sts!.spec.template.spec.serviceAccountName, 'zalando-postgres-operator');
    const secrets = await client.list('Secret', namespace, 'application=spilo,version=acid-minimal-cluster');
    // no foo-user: kubectl apply drops the null `foo_user:` entry of this manifest before it reaches the API
    assert.deepEqual(secrets.map((s) => s.metadata!.name).sort(), [
      'postgres.acid-minimal-cluster.credentials',
      'standby.acid-minimal-cluster.credentials',
      'zalando.acid-minimal-cluster.credentials',
    ]);
    const master = await client.get({ kind: 'Service', namespace, name: 'acid-minimal-cluster' });
    assert.equal(master!.spec.type, 'LoadBalancer');
    assert.deepEqual(master!.spec.loadBalancerSourceRanges, ['127.0.0.1/32']);
    assert.ok(await client.get({ kind: 'PodDisruptionBudget', namespace, name: 'postgres-acid-minimal-cluster-pdb' }));
  });
});
