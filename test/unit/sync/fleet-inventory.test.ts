import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childrenSelector } from '../../../lib/builders/labels';
import { keptOfListed } from '../../../lib/sync/fleet/inventory';

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
});
