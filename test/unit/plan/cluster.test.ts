// planCluster: manifest + observed children -> desired state, actions and the StatefulSet change; pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredObject } from '../../../lib/builders';
import { desiredPodTemplateHash, desiredSelector, needsWrites, planCluster } from '../../../lib/plan/cluster';
import { objectKey, withDesiredHash, type LiveObject } from '../../../lib/plan/plan';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../../lib/model/annotations';
import { passwordOf, rawManifest, referenceConfig, validCluster } from '../reference';

const config = referenceConfig('v2.0.1');
const settings = { config, fieldManager: 'postgres-operator-functions' };
const { cluster } = validCluster(rawManifest('v2.0.1/minimal-postgres-manifest.yaml'), config);
const passwords = {
  postgres: passwordOf('postgres'),
  standby: passwordOf('standby'),
  zalando: passwordOf('zalando'),
  foo_user: passwordOf('foo_user'),
};

/** The children as the API server holds them after a sync applied (owned) and created (shared) them. */
function applied(objects: readonly DesiredObject[], shared: readonly DesiredObject[]): Map<string, LiveObject> {
  return new Map(
    [...objects.map(withDesiredHash), ...shared].map((o) => [objectKey(o), structuredClone(o) as LiveObject]),
  );
}
const replicasOf = (object: DesiredObject | LiveObject | undefined) =>
  (object?.spec as { replicas?: number } | undefined)?.replicas;

describe('planCluster', () => {
  it('creates every child of a new cluster: owned ones applied, shared ones created', () => {
    const plan = planCluster(cluster, new Map(), passwords, settings);
    assert.equal(plan.instances, 2);
    assert.ok(needsWrites(plan));
    assert.deepEqual(
      plan.actions.map((a) => [a.type, a.change, a.object.kind]),
      [
        ...plan.state.objects.map((o) => ['apply', 'created', o.kind]),
        ...plan.state.shared.map((o) => ['create', 'created', o.kind]),
      ],
    );
    assert.deepEqual(plan.actions.map((a) => a.reason).slice(0, 1), [
      `${plan.state.objects[0]!.kind} ${plan.state.objects[0]!.metadata.name} is missing`,
    ]);
    assert.equal(plan.statefulSet.scaleDown, undefined);
    assert.deepEqual(plan.statefulSet.refusals, []);
  });

  it('plans nothing once the children are as planned (a second sync makes no write)', () => {
    const first = planCluster(cluster, new Map(), passwords, settings);
    const second = planCluster(cluster, applied(first.state.objects, first.state.shared), passwords, settings);
    assert.deepEqual(second.actions, []);
    assert.equal(needsWrites(second), false);
  });

  it('puts the given passwords into the Secrets', () => {
    const plan = planCluster(cluster, new Map(), passwords, settings);
    const secret = plan.state.objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('postgres.'));
    assert.equal(
      Buffer.from((secret?.data as { password: string }).password, 'base64').toString('utf8'),
      'postgres-password',
    );
  });

  it('keeps the running replicas when a scale-down is held, and still reports the manifest instances', () => {
    // The cluster ran with 3 instances; the manifest now asks for 2.
    const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    raw.spec.numberOfInstances = 3;
    const before = planCluster(validCluster(raw, config).cluster, new Map(), passwords, settings);
    const observed = applied(before.state.objects, before.state.shared);

    const scaling = planCluster(cluster, observed, passwords, settings);
    assert.deepEqual(scaling.statefulSet.scaleDown, { from: 3, to: 2 });
    assert.equal(replicasOf(scaling.statefulSet.desired), 2);

    const held = planCluster(cluster, observed, passwords, { ...settings, keepReplicas: 3 });
    assert.equal(held.statefulSet.scaleDown, undefined);
    assert.equal(replicasOf(held.statefulSet.desired), 3);
    assert.equal(held.instances, 2);
    assert.deepEqual(
      held.actions.filter((a) => a.object.kind === 'StatefulSet'),
      [],
      'the StatefulSet runs as it is',
    );
  });
});

describe('desiredPodTemplateHash and desiredSelector', () => {
  it('read the planned StatefulSet', () => {
    const plan = planCluster(cluster, new Map(), passwords, settings);
    const hash = desiredPodTemplateHash(plan.statefulSet.desired);
    assert.match(hash, /^[0-9a-f]{16}$/);
    assert.equal(
      hash,
      (plan.statefulSet.desired.spec as { template: { metadata: { annotations: Record<string, string> } } }).template
        .metadata.annotations[POD_TEMPLATE_HASH_ANNOTATION],
    );
    assert.deepEqual(
      desiredSelector(plan.statefulSet.desired),
      (plan.statefulSet.desired.spec as { selector: { matchLabels: unknown } }).selector.matchLabels,
    );
    assert.ok(Object.keys(desiredSelector(plan.statefulSet.desired)).length > 0);
  });

  it('a StatefulSet without a hash is a caller bug; one without a selector selects nothing', () => {
    const bare: DesiredObject = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'x' }, spec: {} };
    assert.throws(() => desiredPodTemplateHash(bare), /StatefulSet x has no/);
    assert.deepEqual(desiredSelector(bare), {});
  });
});
