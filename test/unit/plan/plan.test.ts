/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read and edit nested fields of built objects */
// planChildren: desired + observed -> apply/create actions with reasons; nothing when everything matches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredObject } from '../../../lib/builders';
import {
  applyReason,
  DESIRED_HASH_ANNOTATION,
  exclusiveFieldsPatch,
  objectKey,
  planChildren,
  withDesiredHash,
  type LiveObject,
} from '../../../lib/plan/plan';
import { build, rawManifest, referenceConfig, validCluster } from '../reference';

const service = (replicas = 'ClusterIP', extra: Record<string, string> = {}): DesiredObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'acid-minimal-cluster', namespace: 'default', labels: { application: 'spilo', ...extra } },
  spec: { type: replicas, ports: [{ name: 'postgresql', port: 5432 }] },
});
const statefulSet = (replicas: number, cpu = '100m'): DesiredObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'acid-minimal-cluster', namespace: 'default' },
  spec: { replicas, template: { spec: { containers: [{ name: 'postgres', resources: { requests: { cpu } } }] } } },
});
const account: DesiredObject = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'postgres-pod', namespace: 'default' },
};

/** What the API server returns after an apply: the object plus server-set fields. */
const live = (object: DesiredObject, extra: Record<string, unknown> = {}): LiveObject => {
  const copy = structuredClone(object) as LiveObject & { metadata: Record<string, unknown> };
  copy.metadata = { ...copy.metadata, uid: 'u1', resourceVersion: '42', creationTimestamp: '2024-01-01T00:00:00Z' };
  return { ...copy, ...extra, status: { observedGeneration: 1 } };
};
const observedMap = (...objects: LiveObject[]) =>
  new Map(objects.map((o) => [`${o.kind as string}/${(o.metadata as { name: string }).name}`, o]));

describe('withDesiredHash', () => {
  it('adds a stable hash annotation that changes with the content', () => {
    const a = withDesiredHash(service());
    const b = withDesiredHash(service());
    const c = withDesiredHash(service('LoadBalancer'));
    const hash = a.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
    assert.match(hash ?? '', /^[0-9a-f]{16}$/);
    assert.equal(b.metadata.annotations?.[DESIRED_HASH_ANNOTATION], hash);
    assert.notEqual(c.metadata.annotations?.[DESIRED_HASH_ANNOTATION], hash);
  });

  it('keeps the other annotations and does not change its input', () => {
    const input = service();
    input.metadata.annotations = { a: 'b' };
    const output = withDesiredHash(input);
    assert.equal(output.metadata.annotations?.a, 'b');
    assert.deepEqual(input.metadata.annotations, { a: 'b' });
  });
});

describe('planChildren', () => {
  it('objectKey is Kind/name', () => {
    assert.equal(objectKey(service()), 'Service/acid-minimal-cluster');
  });

  it('a missing owned object is applied as created', () => {
    const desired = withDesiredHash(service());
    const actions = planChildren([desired], [], new Map());
    assert.deepEqual(actions, [
      { type: 'apply', change: 'created', object: desired, reason: 'Service acid-minimal-cluster is missing' },
    ]);
  });

  it('an equal owned object gives no action, server-set fields notwithstanding', () => {
    const desired = withDesiredHash(service());
    assert.deepEqual(
      planChildren(
        [desired],
        [],
        observedMap(live(desired, { spec: { ...(desired.spec as object), clusterIP: '10.0.0.1' } })),
      ),
      [],
    );
  });

  it('a drifted object is applied as updated, with the field in the reason', () => {
    const desired = withDesiredHash(statefulSet(3));
    const observed = live(withDesiredHash(statefulSet(2)));
    const actions = planChildren([desired], [], observedMap(observed));
    assert.equal(actions.length, 1);
    assert.equal(actions[0]?.type, 'apply');
    assert.equal(actions[0]?.change, 'updated');
    assert.equal(actions[0]?.reason, 'StatefulSet acid-minimal-cluster: spec.replicas: 2 -> 3');
  });

  it('quantities spelled differently by the API server are not drift', () => {
    const desired = withDesiredHash(statefulSet(2, '0.5'));
    const observed = live(desired);
    ((observed.spec as any).template.spec.containers[0].resources.requests as Record<string, string>).cpu = '500m';
    assert.deepEqual(planChildren([desired], [], observedMap(observed)), []);
  });

  it('an edit by someone else is drift even when the hash matches', () => {
    const desired = withDesiredHash(service());
    const observed = live(desired);
    (observed.spec as { type: string }).type = 'NodePort';
    assert.equal(applyReason(desired, observed), 'Service acid-minimal-cluster: spec.type: "NodePort" -> "ClusterIP"');
  });

  it('a hash-only change (a field the operator stopped setting) is applied with a reason about removed fields', () => {
    const before = withDesiredHash(service('ClusterIP', { extra: 'label' }));
    const after = withDesiredHash(service());
    const actions = planChildren([after], [], observedMap(live(before)));
    assert.equal(actions.length, 1);
    assert.equal(actions[0]?.change, 'updated');
    assert.equal(actions[0]?.reason, 'Service acid-minimal-cluster: fields the operator no longer sets are removed');
  });

  it('an observed object without the hash annotation is updated', () => {
    const desired = withDesiredHash(service());
    const observed = live(service());
    assert.match(applyReason(desired, observed) ?? '', /^Service acid-minimal-cluster: /);
    const annotated = live(service());
    (annotated.metadata as { annotations?: Record<string, string> }).annotations = { other: 'x' };
    assert.equal(
      applyReason(desired, annotated),
      'Service acid-minimal-cluster: fields the operator no longer sets are removed',
    );
  });

  it('shared objects are created when missing and otherwise left alone', () => {
    assert.deepEqual(planChildren([], [account], new Map()), [
      { type: 'create', change: 'created', object: account, reason: 'ServiceAccount postgres-pod is missing' },
    ]);
    const different: LiveObject = {
      ...live(account),
      secrets: [{ name: 'token' }],
      metadata: { name: 'postgres-pod', labels: { other: 'x' } } as LiveObject['metadata'],
    };
    assert.deepEqual(planChildren([], [account], observedMap(different)), []);
  });

  it('keeps the order: owned objects, then shared', () => {
    const owned = [withDesiredHash(service()), withDesiredHash(statefulSet(2))];
    const actions = planChildren(owned, [account], new Map());
    assert.deepEqual(
      actions.map((a) => objectKey(a.object)),
      ['Service/acid-minimal-cluster', 'StatefulSet/acid-minimal-cluster', 'ServiceAccount/postgres-pod'],
    );
  });

  it('a second sync of a built cluster plans nothing', () => {
    const config = referenceConfig('v2.0.1');
    const desired = build(validCluster(rawManifest('v2.0.1/complete-postgres-manifest.yaml'), config).cluster, config);
    const owned = desired.objects.map(withDesiredHash);
    const first = planChildren(owned, desired.shared, new Map());
    assert.equal(first.length, owned.length + desired.shared.length);
    const observed = observedMap(...owned.map((o) => live(o)), ...desired.shared.map((o) => live(o)));
    assert.deepEqual(planChildren(owned, desired.shared, observed), []);
  });

  it('a manifest change shows up as a reason on the changed object only', () => {
    const config = referenceConfig('v2.0.1');
    const before = build(
      validCluster(rawManifest('v2.0.1/minimal-postgres-manifest.yaml'), config).cluster,
      config,
    ).objects.map(withDesiredHash);
    const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    raw.spec.numberOfInstances = 3;
    const after = build(validCluster(raw, config).cluster, config).objects.map(withDesiredHash);
    const actions = planChildren(after, [], observedMap(...before.map((o) => live(o))));
    assert.deepEqual(
      actions.map((a) => a.reason),
      ['StatefulSet acid-minimal-cluster: spec.replicas: 2 -> 3'],
    );
  });
});

describe('exclusiveFieldsPatch', () => {
  const pdb = (spec: Record<string, unknown>): DesiredObject => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'postgres-acid-a-critical-op-pdb', namespace: 'default' },
    spec: { selector: { matchLabels: { 'critical-operation': 'true' } }, ...spec },
  });
  const live = (spec: Record<string, unknown>): LiveObject => ({ ...pdb(spec), metadata: { name: 'x' } });

  it("hands Zalando v1.15's minAvailable over to maxUnavailable in one patch", () => {
    assert.deepEqual(exclusiveFieldsPatch(pdb({ maxUnavailable: 0 }), live({ minAvailable: 3 })), {
      spec: { minAvailable: null, maxUnavailable: 0 },
    });
  });

  it('and back the other way', () => {
    assert.deepEqual(exclusiveFieldsPatch(pdb({ minAvailable: 1 }), live({ maxUnavailable: '100%' })), {
      spec: { maxUnavailable: null, minAvailable: 1 },
    });
  });

  it('nothing when the live object sets the same field, or is missing, or is of another kind', () => {
    assert.equal(exclusiveFieldsPatch(pdb({ maxUnavailable: 0 }), live({ maxUnavailable: 1 })), undefined);
    assert.equal(exclusiveFieldsPatch(pdb({ maxUnavailable: 0 }), undefined), undefined);
    assert.equal(exclusiveFieldsPatch(service(), { ...service(), spec: { minAvailable: 1 } }), undefined);
  });

  it('planChildren applies with the patch first and says so in the reason', () => {
    const desired = withDesiredHash(pdb({ maxUnavailable: 0 }));
    const [action] = planChildren([desired], [], new Map([[objectKey(desired), live({ minAvailable: 3 })]]));
    assert.deepEqual(action!.replaceFirst, { spec: { minAvailable: null, maxUnavailable: 0 } });
    assert.match(
      action!.reason,
      /spec\.minAvailable removed, spec\.maxUnavailable set to 0 first \(the API accepts only one of them\)$/,
    );
  });
});
