import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clusterPreview, rolloutEstimate } from '../../../lib/api/plan';
import { fieldChanges } from '../../../lib/api/plan-diff';
import type { ClusterPlanResult } from '../../../lib/plan/cluster';

describe('plan preview shapes', () => {
  test('field changes: lists element by element, so what the API server defaults in a container is no change', () => {
    const container = { name: 'postgres', image: 'spilo:1', resources: { requests: { cpu: '0.5' } } };
    const live = {
      kind: 'StatefulSet',
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              {
                ...container,
                resources: { requests: { cpu: '500m' } },
                terminationMessagePath: '/dev/termination-log',
                imagePullPolicy: 'IfNotPresent',
              },
            ],
          },
        },
      },
    };
    const desired = { kind: 'StatefulSet', spec: { replicas: 3, template: { spec: { containers: [container] } } } };
    assert.deepEqual(fieldChanges(desired, live), [{ path: 'spec.replicas', from: 2, to: 3 }]);
    const newImage = { ...desired, spec: { ...desired.spec, replicas: 2 } };
    newImage.spec.template = { spec: { containers: [{ ...container, image: 'spilo:2' }] } };
    assert.deepEqual(fieldChanges(newImage, live), [
      { path: 'spec.template.spec.containers[0].image', from: 'spilo:1', to: 'spilo:2' },
    ]);
  });

  test('field changes: only what the desired object sets, Secret values hidden', () => {
    const live = {
      kind: 'StatefulSet',
      metadata: { name: 's', labels: { a: '1' }, resourceVersion: '9' },
      spec: { replicas: 1, x: [1, 2] },
    };
    const desired = {
      kind: 'StatefulSet',
      metadata: { name: 's', labels: { a: '1', 'team.io/x': 'y' } },
      spec: { replicas: 2, x: [1, 2] },
    };
    assert.deepEqual(fieldChanges(desired, live), [
      { path: 'metadata.labels["team.io/x"]', to: 'y' },
      { path: 'spec.replicas', from: 1, to: 2 },
    ]);
    assert.deepEqual(fieldChanges({ kind: 'Secret', data: { password: 'c2VjcmV0' } }, undefined), [
      { path: 'kind', to: 'Secret' },
      { path: 'data.password', to: '<hidden>' },
    ]);
  });

  const plan = (rollingUpdate?: string) =>
    ({
      state: {},
      actions: [
        {
          type: 'apply',
          change: 'updated',
          object: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'c' }, spec: { replicas: 2 } },
          reason: 'StatefulSet c: spec.replicas: 1 -> 2',
        },
      ],
      statefulSet: { desired: {}, refusals: [], ...(rollingUpdate ? { rollingUpdate } : {}) },
      instances: 2,
      refusals: [],
    }) as unknown as ClusterPlanResult;
  const observed = new Map([
    ['StatefulSet/c', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'c' }, spec: { replicas: 1 } }],
  ]);
  const pods = [
    { name: 'c-0', role: 'master' },
    { name: 'c-1', role: 'replica' },
  ];

  test('a flagged master with a replica is switched over; the writes are reported as the sync reports them', () => {
    const preview = clusterPreview(
      { namespace: 'n', name: 'c', exists: true },
      plan('image changed'),
      observed,
      pods,
      pods,
      [],
    );
    assert.deepEqual(preview.actions, [
      {
        change: 'updated',
        kind: 'StatefulSet',
        name: 'c',
        reason: 'StatefulSet c: spec.replicas: 1 -> 2',
        fields: [{ path: 'spec.replicas', from: 1, to: 2 }],
      },
    ]);
    assert.deepEqual(preview.podsToRecreate, ['c-0', 'c-1']);
    assert.equal(preview.switchover.happens, true);
    assert.equal(preview.statefulSet.rollingUpdate, 'image changed');
  });

  test('no switchover for a single pod, nor without a flagged master', () => {
    const single = clusterPreview(
      { namespace: 'n', name: 'c', exists: true },
      plan('x'),
      observed,
      [pods[0]!],
      [pods[0]!],
      [],
    );
    assert.equal(single.switchover.happens, false);
    assert.match(single.switchover.why, /only pod/);
    const none = clusterPreview({ namespace: 'n', name: 'c', exists: true }, plan(), observed, [], pods, []);
    assert.deepEqual([none.switchover.happens, none.podsToRecreate], [false, []]);
  });

  test('rollout duration: clusters take the slot that frees first, each pod podSeconds, then the delay', () => {
    const clusters = [
      { namespace: 'n', name: 'a', pods: 3 },
      { namespace: 'n', name: 'b', pods: 1 },
      { namespace: 'n', name: 'c', pods: 2 },
    ];
    // One at a time: 3*60 + 10 + 1*60 + 10 + 2*60 = 380.
    assert.equal(rolloutEstimate(clusters, 1, 60, 10).expectedSeconds, 380);
    // Two at once: a (0-180) | b (0-60), then c in b's slot at 70 (60 + delay): ends at 190.
    const two = rolloutEstimate(clusters, 2, 60, 10);
    assert.deepEqual([two.expectedSeconds, two.slots], [190, [['n/a'], ['n/b', 'n/c']]]);
    assert.equal(rolloutEstimate([], 3, 60, 0).expectedSeconds, 0);
  });
});
