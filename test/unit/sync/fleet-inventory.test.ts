import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childrenSelector } from '../../../lib/builders/labels';
import type { DesiredObject } from '../../../lib/builders';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../../lib/model/annotations';
import type { LiveObject } from '../../../lib/plan/plan';
import { planStatefulSet } from '../../../lib/plan/statefulset';
import { keptOfListed } from '../../../lib/sync/fleet/inventory';
import { buildEdited, referenceConfig } from '../reference';

describe('fleet inventory', () => {
  const config = { cluster_labels: { application: 'spilo' }, cluster_name_label: 'cluster-name' };

  it('selects the children of one cluster, of a page of clusters, or of every cluster', () => {
    assert.equal(childrenSelector(config, 'acid-a'), 'application in (spilo,db-connection-pooler),cluster-name=acid-a');
    assert.equal(
      childrenSelector(config, ['acid-a', 'acid-b']),
      'application in (spilo,db-connection-pooler),cluster-name in (acid-a,acid-b)',
    );
    assert.equal(childrenSelector(config), 'application in (spilo,db-connection-pooler),cluster-name');
  });

  it("keeps of a listed object all but managedFields, and of a StatefulSet's only the operator's own", () => {
    const managedFields = [
      { manager: 'postgres-operator-functions', fieldsV1: { 'f:spec': { 'f:template': {} } } },
      { manager: 'kube-controller-manager', fieldsV1: { 'f:status': {} } },
    ];
    const object = (kind: string) => ({
      apiVersion: 'v1',
      kind,
      metadata: { name: 'acid-a', namespace: 'ns', labels: { a: 'b' }, managedFields },
      spec: { replicas: 2 },
      status: { readyReplicas: 1 },
    });
    const service = keptOfListed(object('Service'), 'postgres-operator-functions');
    assert.deepEqual(service, {
      ...object('Service'),
      metadata: { name: 'acid-a', namespace: 'ns', labels: { a: 'b' } },
    });
    const sts = keptOfListed(object('StatefulSet'), 'postgres-operator-functions');
    assert.deepEqual(sts.metadata?.managedFields, [{ manager: 'postgres-operator-functions', fieldsV1: {} }]);
    assert.deepEqual(sts.spec, { replicas: 2 });
    const foreign = keptOfListed(object('StatefulSet'), 'someone-else');
    assert.equal(foreign.metadata?.managedFields, undefined);
  });

  it("keeps of the operator's StatefulSet entry the pod template annotations it set, which the plan honours", () => {
    const annotations = { 'f:example.com/a': {}, 'f:example.com/b': {} };
    const own = {
      manager: 'postgres-operator-functions',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:application': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:template': { 'f:metadata': { 'f:annotations': annotations, 'f:labels': {} }, 'f:spec': {} },
        },
      },
    };
    const listed = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'acid-a', namespace: 'ns', managedFields: [own] },
      spec: { replicas: 2, template: { metadata: { annotations: { 'example.com/a': 'x', 'example.com/b': 'y' } } } },
    };
    const kept = keptOfListed(listed, 'postgres-operator-functions');
    assert.deepEqual(kept.metadata?.managedFields, [
      {
        manager: 'postgres-operator-functions',
        fieldsV1: { 'f:spec': { 'f:template': { 'f:metadata': { 'f:annotations': annotations } } } },
      },
    ]);
    // lib/plan/statefulset.ts reads the owned keys at exactly that path; the spec stays whole.
    assert.deepEqual(kept.spec, listed.spec);
  });

  it('plans a listed StatefulSet the same whole or as kept: an annotation it set and no longer wants goes', () => {
    const manager = 'postgres-operator-functions';
    const options = { lazySpiloUpgrade: false, fieldManager: manager };
    const desired = buildEdited(
      'v2.0.1/minimal-postgres-manifest.yaml',
      referenceConfig('v2.0.1'),
      () => {},
    ).objects.find((o: DesiredObject) => o.kind === 'StatefulSet')!;
    // As listed: what the operator applied, plus a template annotation it set before and one someone else set.
    const applied = structuredClone(planStatefulSet(desired, undefined, options).desired) as DesiredObject & {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    const annotations = applied.spec.template.metadata.annotations;
    annotations['example.com/dropped'] = 'x';
    annotations['example.com/theirs'] = 'y';
    const ownKeys = ['example.com/dropped', POD_TEMPLATE_HASH_ANNOTATION].map((k) => [`f:${k}`, {}]);
    const listed: LiveObject = {
      ...applied,
      metadata: {
        ...applied.metadata,
        managedFields: [
          {
            manager,
            operation: 'Apply',
            fieldsV1: {
              'f:metadata': { 'f:labels': {} },
              'f:spec': {
                'f:replicas': {},
                'f:template': { 'f:metadata': { 'f:annotations': Object.fromEntries(ownKeys) }, 'f:spec': {} },
              },
            },
          },
          { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:spec': { 'f:template': {} } } },
        ],
      },
    };
    const whole = planStatefulSet(desired, listed, options);
    assert.deepEqual(whole.podAnnotations, { set: {}, remove: ['example.com/dropped'] });
    const kept = keptOfListed(listed as Parameters<typeof keptOfListed>[0], manager) as LiveObject;
    assert.deepEqual(planStatefulSet(desired, kept, options), whole);
  });
});
