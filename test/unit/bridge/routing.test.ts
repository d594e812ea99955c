// Routing from the registry triggers, sync-now, and Node transitions (a node that starts going away, once).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  NodeTracker,
  functionsFor,
  goingAwayReasons,
  nodeSnapshot,
  objectKey,
  routeChange,
  statefulSetReadinessView,
  StatefulSetTracker,
  ClusterTracker,
} from '../../../lib/bridge/routing';
import type { KubeObject } from '../../../lib/k8s/client';

const pg = (name: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name, namespace: 'ns', annotations },
});

const node = (spec: Record<string, unknown> = {}, labels: Record<string, string> = {}, rv = '1'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1', labels, resourceVersion: rv },
  spec,
});

describe('routing from the registry', () => {
  it('postgresql add/update/delete go to on-create/on-update/on-delete; ConfigMap add/update to on-operator-config-change', () => {
    assert.deepEqual(functionsFor('postgresql', 'add'), ['on-create']);
    assert.deepEqual(functionsFor('postgresql', 'update'), ['on-update']);
    assert.deepEqual(functionsFor('postgresql', 'delete'), ['on-delete']);
    assert.deepEqual(functionsFor('operator-configmap', 'add'), ['on-operator-config-change']);
    assert.deepEqual(functionsFor('operator-configmap', 'update'), ['on-operator-config-change']);
    assert.deepEqual(functionsFor('operator-configmap', 'delete'), []);
    assert.deepEqual(functionsFor('node', 'update'), ['on-node-drain']);
    assert.deepEqual(functionsFor('node', 'add'), ['on-node-drain']);
  });

  it('updates are mergeable and wait for the window; adds and deletes do not', () => {
    const nodes = new NodeTracker();
    assert.deepEqual(routeChange({ resource: 'postgresql', action: 'add', object: pg('a') }, nodes), [
      { target: 'on-create', mergeable: false, urgent: true },
    ]);
    assert.deepEqual(routeChange({ resource: 'postgresql', action: 'update', object: pg('a') }, nodes), [
      { target: 'on-update', mergeable: true, urgent: false },
    ]);
    assert.deepEqual(routeChange({ resource: 'postgresql', action: 'delete', object: pg('a') }, nodes), [
      { target: 'on-delete', mergeable: false, urgent: true },
    ]);
    assert.deepEqual(
      routeChange({ resource: 'operator-configmap', action: 'delete', object: { metadata: { name: 'c' } } }, nodes),
      [],
    );
  });

  it('an update annotated acid.zalan.do/sync-now is urgent', () => {
    const [route] = routeChange(
      { resource: 'postgresql', action: 'update', object: pg('a', { 'acid.zalan.do/sync-now': '' }) },
      new NodeTracker(),
    );
    assert.deepEqual(route, { target: 'on-update', mergeable: true, urgent: true });
  });

  it('keys objects by resource, namespace and name', () => {
    assert.equal(objectKey('postgresql', pg('a')), 'postgresql/ns/a');
    assert.equal(objectKey('node', node()), 'node//n1');
  });
});

describe('Node going away', () => {
  it('names every reason', () => {
    const snapshot = nodeSnapshot(
      node(
        { unschedulable: true, taints: [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }, { key: 'other' }] },
        { zone: 'a' },
      ),
    );
    assert.deepEqual(goingAwayReasons(snapshot, { 'lifecycle-status': 'ready', zone: 'a' }), [
      'unschedulable',
      'taint karpenter.sh/disrupted',
      'missing label lifecycle-status=ready',
    ]);
    assert.deepEqual(goingAwayReasons(nodeSnapshot(node()), {}), []);
  });

  it('a cordon is one drain: the unschedulable taint that follows it does not fire again', () => {
    const nodes = new NodeTracker();
    const route = (action: 'add' | 'update' | 'delete', object: KubeObject) =>
      routeChange({ resource: 'node', action, object }, nodes);
    assert.deepEqual(route('add', node()), []);
    assert.deepEqual(route('update', node({}, { role: 'x' }, '2')), [], 'an unrelated change');
    assert.deepEqual(route('update', node({ unschedulable: true }, {}, '3')), [
      { target: 'on-node-drain', mergeable: false, urgent: true, reasons: ['unschedulable'] },
    ]);
    assert.deepEqual(
      route('update', node({ unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable' }] }, {}, '4')),
      [],
    );
    assert.deepEqual(route('update', node({}, {}, '5')), [], 'uncordoned');
    assert.equal(
      route('update', node({ taints: [{ key: 'ToBeDeletedByClusterAutoscaler' }] }, {}, '6')).length,
      1,
      'going away again',
    );
  });

  it('a node first seen cordoned (add, e.g. after a restart) fires once; a deleted node is forgotten', () => {
    const nodes = new NodeTracker();
    assert.deepEqual(
      nodes.observe('add', node({ unschedulable: true })),
      ['unschedulable'],
      'a drain that began while the bridge was down',
    );
    assert.equal(nodes.observe('update', node({ unschedulable: true }, {}, '2')), undefined, 'still the same drain');
    nodes.observe('delete', node());
    assert.deepEqual(
      nodes.observe('update', node({ unschedulable: true }, {}, '3')),
      ['unschedulable'],
      'unknown again: first sight',
    );
  });

  it('losing a node_readiness_label label fires; a node that never had it fires only when first seen', () => {
    const nodes = new NodeTracker({ 'lifecycle-status': 'ready' });
    nodes.observe('add', node({}, { 'lifecycle-status': 'ready' }));
    assert.deepEqual(nodes.observe('update', node({}, { 'lifecycle-status': 'draining' }, '2')), [
      'missing label lifecycle-status=ready',
    ]);
    const other = new NodeTracker({ 'lifecycle-status': 'ready' });
    assert.deepEqual(other.observe('add', node()), ['missing label lifecycle-status=ready']);
    assert.equal(other.observe('update', node({}, { foo: 'bar' }, '2')), undefined);
  });

  it('new readiness labels judge the previous state too (a config change alone is not a drain)', () => {
    const nodes = new NodeTracker();
    nodes.observe('add', node());
    nodes.setReadinessLabels({ 'lifecycle-status': 'ready' });
    assert.equal(nodes.observe('update', node({}, {}, '2')), undefined);
  });
});

describe('StatefulSet readiness', () => {
  const sts = (
    status: Record<string, unknown>,
    labels: Record<string, string> = { application: 'spilo' },
  ): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'acid-a', namespace: 'ns', labels },
    status,
  });
  const change = (action: 'add' | 'update' | 'delete', object: KubeObject) => ({
    resource: 'statefulset' as const,
    action,
    object,
  });

  it("a readiness change of a cluster's StatefulSet goes to on-update, merged with the cluster's own updates", () => {
    const nodes = new NodeTracker();
    const tracker = new StatefulSetTracker();
    assert.deepEqual(routeChange(change('add', sts({ replicas: 2, readyReplicas: 0 })), nodes, tracker), []);
    assert.deepEqual(routeChange(change('update', sts({ replicas: 2, readyReplicas: 1 })), nodes, tracker), [
      { target: 'on-update', mergeable: true, urgent: false },
    ]);
    assert.equal(objectKey('statefulset', sts({})), 'postgresql/ns/acid-a');
  });

  it("the operator's own writes (same readiness) are not work; a StatefulSet without the cluster labels is ignored", () => {
    const nodes = new NodeTracker();
    const tracker = new StatefulSetTracker();
    routeChange(change('add', sts({ observedGeneration: 1, replicas: 2, readyReplicas: 2 })), nodes, tracker);
    const sameReadiness = { ...sts({ observedGeneration: 1, replicas: 2, readyReplicas: 2 }) };
    sameReadiness.metadata = { ...sameReadiness.metadata, annotations: { 'acid.zalan.do/desired-hash': 'x' } };
    assert.deepEqual(routeChange(change('update', sameReadiness), nodes, tracker), []);
    assert.equal(
      routeChange(change('update', sts({ observedGeneration: 2, replicas: 2, readyReplicas: 2 })), nodes, tracker)
        .length,
      1,
    );
    const other = sts({ replicas: 1, readyReplicas: 0 }, { app: 'other' });
    routeChange(change('add', other), nodes, tracker);
    assert.deepEqual(
      routeChange(change('update', sts({ replicas: 1, readyReplicas: 1 }, { app: 'other' })), nodes, tracker),
      [],
    );
    tracker.setClusterLabels({ app: 'other' });
    assert.equal(
      routeChange(change('update', sts({ replicas: 1, readyReplicas: 0 }, { app: 'other' })), nodes, tracker).length,
      1,
    );
  });

  it('a deleted StatefulSet is forgotten: seen again, its first state is only recorded', () => {
    const nodes = new NodeTracker();
    const tracker = new StatefulSetTracker();
    routeChange(change('add', sts({ readyReplicas: 1 })), nodes, tracker);
    assert.deepEqual(routeChange(change('delete', sts({ readyReplicas: 1 })), nodes, tracker), []);
    assert.deepEqual(routeChange(change('update', sts({ readyReplicas: 2 })), nodes, tracker), []);
  });

  it('what the informer keeps of a StatefulSet routes as the whole object does, without its spec or managedFields', () => {
    const whole = (readyReplicas: number): KubeObject => ({
      ...sts({ observedGeneration: 3, replicas: 2, readyReplicas, currentRevision: 'r1' }),
      metadata: {
        name: 'acid-a',
        namespace: 'ns',
        labels: { application: 'spilo' },
        resourceVersion: String(10 + readyReplicas),
        generation: 3,
        managedFields: [{ manager: 'postgres-operator-functions', fieldsV1: { 'f:spec': {} } }],
      },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'postgres', image: 'spilo' }] } } },
    });
    const kept = statefulSetReadinessView(whole(1));
    assert.equal(kept.spec, undefined);
    assert.equal(kept.metadata?.managedFields, undefined);
    assert.equal(kept.metadata?.resourceVersion, '11');
    assert.deepEqual(kept.status, { observedGeneration: 3, replicas: 2, readyReplicas: 1 });
    const [wholeTracker, keptTracker] = [new StatefulSetTracker(), new StatefulSetTracker()];
    for (const [action, ready] of [
      ['add', 0],
      ['update', 1],
      ['update', 1],
      ['update', 2],
    ] as const) {
      assert.deepEqual(
        routeChange(change(action, statefulSetReadinessView(whole(ready))), new NodeTracker(), keptTracker),
        routeChange(change(action, whole(ready)), new NodeTracker(), wholeTracker),
      );
    }
  });
});

describe('postgresql updates that ask for nothing', () => {
  const object = (
    extra: Partial<{
      generation: number;
      annotations: Record<string, string>;
      status: unknown;
      finalizers: string[];
      deletionTimestamp: string;
    }> = {},
  ): KubeObject => ({
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    metadata: {
      name: 'acid-a',
      namespace: 'ns',
      generation: extra.generation ?? 1,
      annotations: extra.annotations,
      finalizers: extra.finalizers,
      deletionTimestamp: extra.deletionTimestamp as unknown as Date | undefined,
    },
    status: extra.status,
  });
  const route = (tracker: ClusterTracker, action: 'add' | 'update' | 'delete', o: KubeObject) =>
    routeChange({ resource: 'postgresql', action, object: o }, new NodeTracker(), new StatefulSetTracker(), tracker);

  it("the operator's own status and finalizer writes are not delivered; spec, annotation and deletion changes are", () => {
    const tracker = new ClusterTracker();
    assert.equal(route(tracker, 'add', object()).length, 1);
    assert.deepEqual(route(tracker, 'update', object({ finalizers: ['postgres-operator.acid.zalan.do'] })), []);
    assert.deepEqual(route(tracker, 'update', object({ status: { PostgresClusterStatus: 'Creating' } })), []);
    assert.equal(route(tracker, 'update', object({ generation: 2 })).length, 1, 'a spec change');
    assert.equal(
      route(tracker, 'update', object({ generation: 2, annotations: { 'acid.zalan.do/sync-now': '' } })).length,
      1,
      'an annotation (sync-now)',
    );
    assert.equal(
      route(
        tracker,
        'update',
        object({
          generation: 2,
          annotations: { 'acid.zalan.do/sync-now': '' },
          deletionTimestamp: '2026-01-01T00:00:00Z',
        }),
      ).length,
      1,
      'a delete with the finalizer',
    );
    assert.equal(route(tracker, 'delete', object()).length, 1);
  });
});
