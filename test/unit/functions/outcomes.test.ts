// syncOutcome: which sync results make the function answer 503 (called again) and after how long.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { syncOutcome } from '../../../functions/outcomes/cluster';

describe('syncOutcome', () => {
  it('a rollout waiting for Patroni (no watched object will change): called again after lookAgainSeconds, even with the readiness watch', () => {
    const rollout = {
      outcome: 'synced' as const,
      actions: [],
      status: 'Updating',
      retryable: true,
      pending: 'rolling update: waiting for acid-a-1 (Patroni state starting)',
      rollingUpdate: 'waiting for acid-a-1 (Patroni state starting)',
      lookAgainSeconds: 1,
    };
    for (const readinessWatched of [true, false]) {
      const outcome = syncOutcome(rollout, readinessWatched);
      assert.equal(outcome.retryable, true);
      assert.equal(outcome.retryAfterSeconds, 1, `readiness watched: ${readinessWatched}`);
    }
    const withPods = syncOutcome({
      ...rollout,
      waitingForPods: { progress: '2 of 3 pods ready', retryAfterSeconds: 3 },
    });
    assert.equal(withPods.retryAfterSeconds, 1, 'the sooner of the two');
  });

  it('pods not all Ready: retryable, after the seconds the sync asks for, so the status follows the pods', () => {
    const outcome = syncOutcome({
      outcome: 'synced',
      actions: [],
      status: 'Creating',
      waitingForPods: { progress: '1 of 2 pods ready', retryAfterSeconds: 2 },
    });
    assert.equal(outcome.retryable, true);
    assert.equal(outcome.retryAfterSeconds, 2);
  });

  it('pods not all Ready, but the event source delivers StatefulSet readiness itself (the bridge): not retried', () => {
    const outcome = syncOutcome(
      {
        outcome: 'synced',
        actions: [],
        status: 'Creating',
        waitingForPods: { progress: '1 of 2 pods ready', retryAfterSeconds: 3 },
      },
      true,
    );
    assert.equal(outcome.retryable, false);
    assert.equal(outcome.retryAfterSeconds, undefined);
  });

  it('converged: not retried; pending work without a known wait: retried at the runtime default', () => {
    assert.equal(syncOutcome({ outcome: 'synced', actions: [], status: 'Running' }).retryable, false);
    const pending = syncOutcome({ outcome: 'synced', actions: [], retryable: true, pending: 'roles: no master' });
    assert.equal(pending.retryable, true);
    assert.equal(pending.retryAfterSeconds, undefined);
  });
});
