import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameOf, resourceVersionOf } from '../../../lib/k8s/meta';

describe('nameOf and resourceVersionOf', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'acid-a-0', namespace: 'team', resourceVersion: '42' },
  };

  it('return the values the API sets', () => {
    assert.equal(nameOf(pod), 'acid-a-0');
    assert.equal(resourceVersionOf(pod), '42');
  });

  it('name the object when the value is missing', () => {
    assert.throws(
      () => nameOf({ kind: 'Pod', metadata: { namespace: 'team' } }),
      /^Error: Pod team\/\(no name\) has no metadata\.name$/,
    );
    assert.throws(
      () => resourceVersionOf({ ...pod, metadata: { name: 'acid-a-0', namespace: 'team' } }),
      /^Error: Pod team\/acid-a-0 has no metadata\.resourceVersion$/,
    );
    assert.throws(() => nameOf({}), /^Error: object \(no name\) has no metadata\.name$/);
  });
});
