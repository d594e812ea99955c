// podWaitRetryAfter: how soon a cluster whose pods are not all Ready is looked at again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { POD_WAIT_FAST_SECONDS, POD_WAIT_SLOW_SECONDS, podWaitRetryAfter } from '../../../lib/plan/pod-wait';

const since = '2026-01-01T00:00:00Z';
const after = (ms: number) => new Date(Date.parse(since) + ms);

describe('podWaitRetryAfter', () => {
  it('looks again every few seconds at first, less often later, and leaves a long wait to the periodic sync', () => {
    assert.equal(podWaitRetryAfter(since, after(0)), POD_WAIT_FAST_SECONDS);
    assert.equal(podWaitRetryAfter(since, after(89_000)), POD_WAIT_FAST_SECONDS);
    assert.equal(podWaitRetryAfter(since, after(90_000)), POD_WAIT_SLOW_SECONDS);
    assert.equal(podWaitRetryAfter(since, after(9 * 60_000)), POD_WAIT_SLOW_SECONDS);
    assert.equal(podWaitRetryAfter(since, after(10 * 60_000)), undefined);
    assert.ok(POD_WAIT_FAST_SECONDS <= 5, 'Running within seconds of the last pod Ready');
  });

  it('without a known start of the wait, does not ask to be called again', () => {
    assert.equal(podWaitRetryAfter(undefined, after(0)), undefined);
    assert.equal(podWaitRetryAfter('not a time', after(0)), undefined);
  });
});
