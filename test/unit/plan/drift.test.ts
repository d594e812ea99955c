// findDrift: only the fields the operator sets are compared; quantities compare by amount.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findDrift } from '../../../lib/plan/drift';

describe('findDrift', () => {
  it('no drift for equal values', () => {
    assert.equal(
      findDrift({ spec: { replicas: 2, ports: [{ port: 5432 }] } }, { spec: { replicas: 2, ports: [{ port: 5432 }] } }),
      undefined,
    );
    assert.equal(findDrift('a', 'a'), undefined);
    assert.equal(findDrift(null, null), undefined);
  });

  it('ignores fields only the observed object has', () => {
    const desired = { spec: { type: 'ClusterIP', ports: [{ name: 'postgresql', port: 5432 }] } };
    const observed = {
      metadata: { uid: 'x', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.0.0.1',
        sessionAffinity: 'None',
        ports: [{ name: 'postgresql', port: 5432, protocol: 'TCP' }],
      },
      status: { loadBalancer: {} },
    };
    assert.equal(findDrift(desired, observed), undefined);
  });

  it('quantities compare by amount', () => {
    assert.equal(findDrift({ cpu: '0.5' }, { cpu: '500m' }), undefined);
    assert.equal(findDrift({ memory: '1Gi' }, { memory: '1024Mi' }), undefined);
    assert.equal(findDrift({ cpu: '1' }, { cpu: '1000m' }), undefined);
    assert.equal(findDrift({ cpu: '1' }, { cpu: '2' }), 'cpu: "2" -> "1"');
  });

  it('names the nested path: spec.replicas: 2 -> 3', () => {
    assert.equal(findDrift({ spec: { replicas: 3 } }, { spec: { replicas: 2 } }), 'spec.replicas: 2 -> 3');
  });

  it('names array elements by index', () => {
    const desired = { spec: { template: { spec: { containers: [{ name: 'postgres', image: 'spilo:2' }] } } } };
    const observed = { spec: { template: { spec: { containers: [{ name: 'postgres', image: 'spilo:1' }] } } } };
    assert.equal(findDrift(desired, observed), 'spec.template.spec.containers[0].image: "spilo:1" -> "spilo:2"');
  });

  it('an array length change is drift (a removed or added env var)', () => {
    assert.equal(
      findDrift({ env: [{ name: 'A' }, { name: 'B' }] }, { env: [{ name: 'A' }] }),
      'env: [{"name":"A"}] -> [{"name":"A"},{"name":"B"}]',
    );
    assert.equal(
      findDrift({ env: [{ name: 'A' }] }, { env: [{ name: 'A' }, { name: 'B' }] }),
      'env: [{"name":"A"},{"name":"B"}] -> [{"name":"A"}]',
    );
  });

  it('arrays keep their order', () => {
    assert.equal(findDrift({ args: ['a', 'b'] }, { args: ['b', 'a'] }), 'args[0]: "b" -> "a"');
  });

  it('a missing observed field is drift, shown as absent', () => {
    assert.equal(findDrift({ spec: { selector: { app: 'x' } } }, { spec: {} }), 'spec.selector: absent -> {"app":"x"}');
    assert.equal(findDrift({ spec: { replicas: 1 } }, { spec: null }), 'spec: null -> {"replicas":1}');
    assert.equal(findDrift({ spec: { replicas: 1 } }, undefined), '(object): absent -> {"spec":{"replicas":1}}');
  });

  it('a type change is drift', () => {
    assert.equal(findDrift({ a: { b: 1 } }, { a: [1] }), 'a: [1] -> {"b":1}');
    assert.equal(findDrift({ a: [1] }, { a: { 0: 1 } }), 'a: {"0":1} -> [1]');
    assert.equal(findDrift({ a: '1' }, { a: 1 }), 'a: 1 -> "1"');
    assert.equal(findDrift(1, 2), '(object): 2 -> 1');
  });

  it('long values are shortened in the message', () => {
    const drift = findDrift({ v: 'x'.repeat(100) }, { v: 'y' });
    assert.ok(drift !== undefined && drift.endsWith('...'), drift);
    assert.ok(drift.length < 100);
  });

  it('reports the first difference only', () => {
    assert.equal(findDrift({ a: 1, b: 2 }, { a: 9, b: 9 }), 'a: 9 -> 1');
  });
});
