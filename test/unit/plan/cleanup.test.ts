// finalizeCluster's decisions: the delete guard and what outlives a deleted cluster; pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deleteGuardProblem, keptAfterDeletion } from '../../../lib/plan/cleanup';
import { referenceConfig } from '../reference';

const NOW = new Date('2024-03-05T23:59:00Z');

describe('deleteGuardProblem', () => {
  const guarded = referenceConfig('v2.0.1', {
    delete_annotation_date_key: 'delete-date',
    delete_annotation_name_key: 'delete-clustername',
  });

  it('no guard without the keys', () => {
    const config = referenceConfig('v2.0.1', { delete_annotation_date_key: '', delete_annotation_name_key: '' });
    assert.equal(deleteGuardProblem({ name: 'acid-a' }, config, NOW), undefined);
  });

  it('names both annotations to add, with today (UTC) and the cluster name', () => {
    assert.equal(
      deleteGuardProblem({ name: 'acid-a' }, guarded, NOW),
      'deletion is blocked by the delete guard: annotate the postgresql ' +
        'object with delete-date: "2024-03-05" and delete-clustername: "acid-a" to let it proceed',
    );
  });

  it('passes with both annotations set to today and the name', () => {
    assert.equal(
      deleteGuardProblem(
        { name: 'acid-a', annotations: { 'delete-date': '2024-03-05', 'delete-clustername': 'acid-a' } },
        guarded,
        NOW,
      ),
      undefined,
    );
  });

  it("holds for yesterday's date or another name", () => {
    assert.match(
      deleteGuardProblem(
        { name: 'acid-a', annotations: { 'delete-date': '2024-03-04', 'delete-clustername': 'acid-a' } },
        guarded,
        NOW,
      )!,
      /with delete-date: "2024-03-05" to let/,
    );
    assert.match(
      deleteGuardProblem(
        { name: 'acid-a', annotations: { 'delete-date': '2024-03-05', 'delete-clustername': 'acid-b' } },
        guarded,
        NOW,
      )!,
      /with delete-clustername: "acid-a" to let/,
    );
  });
});

describe('keptAfterDeletion', () => {
  it("keeps the system users' Secrets always, others only without enable_secrets_deletion", () => {
    const deleting = keptAfterDeletion(referenceConfig('v2.0.1', { enable_secrets_deletion: 'true' }), 'acid-a');
    assert.equal(deleting('Secret', 'postgres.acid-a.credentials.postgresql.acid.zalan.do'), true);
    assert.equal(deleting('Secret', 'standby.acid-a.credentials.postgresql.acid.zalan.do'), true);
    assert.equal(deleting('Secret', 'zalando.acid-a.credentials.postgresql.acid.zalan.do'), false);
    const keeping = keptAfterDeletion(referenceConfig('v2.0.1', { enable_secrets_deletion: 'false' }), 'acid-a');
    assert.equal(keeping('Secret', 'zalando.acid-a.credentials.postgresql.acid.zalan.do'), true);
  });

  it('keeps the claims unless enable_persistent_volume_claim_deletion; deletes every other kind', () => {
    assert.equal(
      keptAfterDeletion(referenceConfig('v2.0.1', { enable_persistent_volume_claim_deletion: 'false' }), 'acid-a')(
        'PersistentVolumeClaim',
        'pgdata-acid-a-0',
      ),
      true,
    );
    const deleting = keptAfterDeletion(
      referenceConfig('v2.0.1', { enable_persistent_volume_claim_deletion: 'true' }),
      'acid-a',
    );
    assert.equal(deleting('PersistentVolumeClaim', 'pgdata-acid-a-0'), false);
    for (const kind of ['StatefulSet', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'PodDisruptionBudget', undefined])
      assert.equal(deleting(kind, 'acid-a'), false);
  });
});
