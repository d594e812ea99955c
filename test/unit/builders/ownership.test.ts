// Who owns what: Secrets outlive the cluster without enable_secrets_deletion, the pod ServiceAccount keeps the
// configured name, and a pod environment ConfigMap in another namespace is reported instead of silently dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyReason } from '../../../lib/plan/plan';
import { buildEdited, referenceConfig } from '../reference';

const manifest = 'v2.0.1/minimal-postgres-manifest.yaml';

test('with enable_owner_references, Secrets are owned by the cluster only with enable_secrets_deletion', () => {
  for (const [value, owned] of [
    ['true', true],
    ['false', false],
  ] as const) {
    const config = referenceConfig('v2.0.1', { enable_secrets_deletion: value, enable_owner_references: 'true' });
    const { objects } = buildEdited(manifest, config);
    const secrets = objects.filter((o) => o.kind === 'Secret');
    assert.equal(secrets.length, 4);
    for (const secret of secrets)
      assert.equal(secret.metadata.ownerReferences !== undefined, owned, secret.metadata.name);
    assert.ok(
      objects.find((o) => o.kind === 'StatefulSet')!.metadata.ownerReferences,
      'the StatefulSet is always owned',
    );
  }
});

test('the pod ServiceAccount keeps pod_service_account_name over the name in its definition', () => {
  const config = referenceConfig('v2.0.1', {
    pod_service_account_definition:
      '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"custom-sa"},"automountServiceAccountToken":true}',
  });
  const { shared, objects } = buildEdited(manifest, config);
  const [account, binding] = shared;
  assert.equal(account!.metadata.name, 'postgres-pod');
  assert.equal(account!.automountServiceAccountToken, true, 'the rest of the definition is kept');
  assert.equal(binding!.metadata.name, 'postgres-pod');
  const sts = objects.find((o) => o.kind === 'StatefulSet') as unknown as {
    spec: { template: { spec: { serviceAccountName: string } } };
  };
  assert.equal(sts.spec.template.spec.serviceAccountName, 'postgres-pod');
});

test('a pod environment ConfigMap in another namespace is reported, one in the cluster namespace is used', () => {
  const elsewhere = buildEdited(manifest, referenceConfig('v2.0.1', { pod_environment_configmap: 'other/env' }));
  assert.ok(
    elsewhere.notes.some((n) => n.includes('other/env is in another namespace')),
    elsewhere.notes.join('\n'),
  );
  const here = buildEdited(manifest, referenceConfig('v2.0.1', { pod_environment_configmap: 'default/env' }));
  const sts = here.objects.find((o) => o.kind === 'StatefulSet') as unknown as {
    spec: { template: { spec: { containers: Array<{ envFrom?: unknown[] }> } } };
  };
  assert.deepEqual(sts.spec.template.spec.containers[0]!.envFrom, [{ configMapRef: { name: 'env' } }]);
});

test('an object without annotations matches an identical live object', () => {
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'x', labels: { a: 'b' } },
    spec: { type: 'ClusterIP' },
  };
  assert.equal(applyReason(service, structuredClone(service)), undefined);
});
