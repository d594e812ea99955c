// The Events of a cluster sync: one for the child writes; Warning Events only for warnings the status lacks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  appliedAction,
  childWritesEvent,
  manifestWarningsEvent,
  newRefusals,
  type AppliedAction,
} from '../../../lib/plan/cluster-events';

const created = (kind: string, name: string): AppliedAction => ({
  change: 'created',
  kind,
  name,
  reason: `${kind} ${name} is missing`,
});
const updated = (kind: string, name: string, reason: string): AppliedAction => ({
  change: 'updated',
  kind,
  name,
  reason,
});

describe('appliedAction', () => {
  it('reports the kind, name, change and reason of an action', () => {
    const object = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'acid-a', namespace: 'default' } };
    assert.deepEqual(appliedAction({ type: 'apply', change: 'created', object, reason: 'Service acid-a is missing' }), {
      change: 'created',
      kind: 'Service',
      name: 'acid-a',
      reason: 'Service acid-a is missing',
    });
  });
});

describe('childWritesEvent', () => {
  it('no Event without writes', () => {
    assert.equal(childWritesEvent([]), undefined);
  });

  it('Created, naming the objects, when everything was created', () => {
    assert.deepEqual(childWritesEvent([created('Service', 'acid-a'), created('StatefulSet', 'acid-a')]), {
      reason: 'Created',
      message: 'Created Service acid-a, StatefulSet acid-a',
    });
  });

  it('Updated, with the reasons, when something changed', () => {
    assert.deepEqual(
      childWritesEvent([
        updated('StatefulSet', 'acid-a', 'StatefulSet acid-a: spec.replicas: 2 -> 3'),
        updated('Service', 'acid-a', 'Service acid-a: spec.type: "ClusterIP" -> "LoadBalancer"'),
      ]),
      {
        reason: 'Updated',
        message:
          'Updated StatefulSet acid-a: spec.replicas: 2 -> 3; Service acid-a: spec.type: "ClusterIP" -> "LoadBalancer"',
      },
    );
  });

  it('Updated, with both parts, when objects were created and updated', () => {
    assert.deepEqual(childWritesEvent([created('Secret', 'x'), updated('Service', 'acid-a', 'r1')]), {
      reason: 'Updated',
      message: 'Created Secret x. Updated r1',
    });
  });
});

describe('newRefusals and manifestWarningsEvent', () => {
  const shrink = { reason: 'VolumeShrinkRefused', message: 'cannot shrink persistent volume' };
  const switchover = { reason: 'SwitchoverNeeded', message: 'scale-down waits' };

  it('reports only refusals the stored status does not carry', () => {
    assert.deepEqual(newRefusals([shrink, switchover], new Set(['cannot shrink persistent volume'])), [switchover]);
    assert.deepEqual(newRefusals([shrink], new Set()), [shrink]);
    assert.deepEqual(newRefusals([], new Set(['x'])), []);
  });

  it('one ManifestWarnings Event with every warning, when one of them is new', () => {
    assert.deepEqual(manifestWarningsEvent(['a', 'b'], new Set(['a'])), {
      reason: 'ManifestWarnings',
      message: 'a; b',
    });
    assert.equal(manifestWarningsEvent(['a', 'b'], new Set(['a', 'b', 'c'])), undefined);
    assert.equal(manifestWarningsEvent([], new Set()), undefined);
  });
});
