// claimsToGrow: which pgdata claims of a cluster grow to a new size; never shrunk, deleting ones left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimsToGrow, type ClaimSize } from '../../../lib/plan/volume-resize';

const claim = (name: string, storage: string | undefined, deleting = false): ClaimSize => ({ name, storage, deleting });

describe('claimsToGrow', () => {
  it('grows the claims below the new size, in name order', () => {
    assert.deepEqual(
      claimsToGrow('acid-a', [claim('pgdata-acid-a-1', '1Gi'), claim('pgdata-acid-a-0', '1Gi')], '2Gi'),
      ['pgdata-acid-a-0', 'pgdata-acid-a-1'],
    );
  });

  it('compares quantities, not text: 2048Mi is 2Gi, 1500M is below 2Gi', () => {
    assert.deepEqual(
      claimsToGrow('acid-a', [claim('pgdata-acid-a-0', '2048Mi'), claim('pgdata-acid-a-1', '1500M')], '2Gi'),
      ['pgdata-acid-a-1'],
    );
  });

  it('never shrinks, and grows a claim without a request', () => {
    assert.deepEqual(
      claimsToGrow('acid-a', [claim('pgdata-acid-a-0', '5Gi'), claim('pgdata-acid-a-1', undefined)], '2Gi'),
      ['pgdata-acid-a-1'],
    );
  });

  it('leaves claims being deleted and claims of other clusters or volumes alone', () => {
    assert.deepEqual(
      claimsToGrow(
        'acid-a',
        [
          claim('pgdata-acid-a-0', '1Gi', true),
          claim('pgdata-acid-ab-0', '1Gi'),
          claim('wal-acid-a-0', '1Gi'),
          claim('pgdata-acid-a-x', '1Gi'),
        ],
        '2Gi',
      ),
      [],
    );
  });
});
