// Node drain's answers: the result and Event of each step, a single-instance master reported once per node and pod,
// the retry delay of a drain, and the masters found on a node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  drainResult,
  mastersOnNode,
  planMoveMaster,
  podChanged,
  recreatedReplica,
  RETRY_AFTER_SECONDS,
  SINGLE_INSTANCE_RETRY_AFTER_SECONDS,
  switchedOver,
  switchoverFailed,
  type MoveMasterResult,
} from '../../../lib/plan/drain-outcome';
import type { DrainPod } from '../../../lib/plan/move-master';

const base = { namespace: 'ns', cluster: 'acid-a', pod: 'acid-a-0' };
const pods: DrainPod[] = [{ name: 'acid-a-0', uid: 'uid-0', nodeName: 'n1', deleting: false, ready: true }];
const switchover = {
  kind: 'switchover',
  leader: 'acid-a-0',
  candidate: 'acid-a-1',
  reason: 'switching over from acid-a-0 on node n1 (going away: unschedulable) to acid-a-1 on node n2 (lag 0 bytes)',
} as const;

describe('planMoveMaster', () => {
  it('reports done with no Event, and a wait with a NodeDrainWaiting Event once per node and reason', () => {
    assert.deepEqual(
      planMoveMaster({ kind: 'done', reason: 'no pod of the cluster runs on node n1' }, base, pods, 'n1'),
      {
        kind: 'report',
        report: {
          result: { ...base, outcome: 'done', pending: false, message: 'no pod of the cluster runs on node n1' },
        },
      },
    );
    assert.deepEqual(planMoveMaster({ kind: 'wait', reason: 'Patroni has no leader' }, base, pods, 'n1'), {
      kind: 'report',
      report: {
        result: { ...base, outcome: 'waiting', pending: true, message: 'Patroni has no leader' },
        event: {
          type: 'Normal',
          reason: 'NodeDrainWaiting',
          message: 'Moving master acid-a-0 off node n1 waits: Patroni has no leader',
        },
        onceKey: 'n1/Patroni has no leader',
      },
    });
  });

  it('reports a single-instance master with a Warning NodeDrain once per node and pod uid, retried slowly', () => {
    const plan = planMoveMaster(
      { kind: 'single-instance', pod: 'acid-a-0', reason: 'single-instance cluster: ...' },
      base,
      pods,
      'n1',
    );
    assert.equal(plan.kind, 'report');
    if (plan.kind !== 'report') return;
    const { result, event, onceKey } = plan.report;
    assert.equal(result.outcome, 'single-instance');
    assert.equal(result.pending, true);
    assert.equal(result.retryAfterSeconds, SINGLE_INSTANCE_RETRY_AFTER_SECONDS);
    assert.match(
      result.message,
      /^single-instance cluster: \.\.\.\. The master PodDisruptionBudget keeps a drain from evicting it: delete pod acid-a-0 /,
    );
    assert.deepEqual(event, { type: 'Warning', reason: 'NodeDrain', message: result.message });
    assert.equal(onceKey, 'n1/uid-0');
    // A pod not among those observed is keyed by its name.
    const other = planMoveMaster({ kind: 'single-instance', pod: 'acid-a-9', reason: 'r' }, base, pods, 'n1');
    assert.equal(other.kind === 'report' && other.report.onceKey, 'n1/acid-a-9');
  });

  it('leaves a switchover or a recreate to be taken under the Lease', () => {
    assert.deepEqual(planMoveMaster(switchover, base, pods, 'n1'), { kind: 'act', step: switchover });
    const recreate = { kind: 'recreate', pod: 'acid-a-1', uid: 'uid-1', reason: 'r' } as const;
    assert.deepEqual(planMoveMaster(recreate, base, pods, 'n1'), { kind: 'act', step: recreate });
  });
});

describe('step reports', () => {
  it('a recreated replica: pending, Event NodeDrain', () => {
    assert.deepEqual(
      recreatedReplica(base, { kind: 'recreate', pod: 'acid-a-1', uid: 'u', reason: 'it runs on node n1' }),
      {
        result: { ...base, outcome: 'recreated', pending: true, message: 'it runs on node n1' },
        event: { type: 'Normal', reason: 'NodeDrain', message: 'Deleted pod acid-a-1: it runs on node n1' },
      },
    );
  });

  it('a pod replaced meanwhile: waiting, no Event', () => {
    assert.deepEqual(podChanged(base, 'acid-a-1'), {
      ...base,
      outcome: 'waiting',
      pending: true,
      message: 'pod acid-a-1 changed meanwhile',
    });
  });

  it('a switchover done: the reason in the past tense, naming the leader Patroni reports', () => {
    const report = switchedOver(base, switchover, 'acid-a-2');
    const message =
      'switched over from acid-a-0 on node n1 (going away: unschedulable) to acid-a-2 on node n2 (lag 0 bytes)';
    assert.deepEqual(report, {
      result: { ...base, outcome: 'switched-over', pending: false, message },
      event: { type: 'Normal', reason: 'Switchover', message: `S${message.slice(1)}` },
    });
    assert.match(switchedOver(base, switchover, undefined).result.message, / to acid-a-1 on node n2 /);
  });

  it('a failed switchover: waiting, Warning SwitchoverFailed', () => {
    assert.deepEqual(switchoverFailed(base, switchover, '412 leader changed'), {
      result: {
        ...base,
        outcome: 'waiting',
        pending: true,
        message: 'switchover from acid-a-0 to acid-a-1 failed: 412 leader changed',
      },
      event: {
        type: 'Warning',
        reason: 'SwitchoverFailed',
        message: 'Switchover from acid-a-0 to acid-a-1 failed: 412 leader changed',
      },
    });
  });
});

describe('drainResult', () => {
  const result = (
    outcome: MoveMasterResult['outcome'],
    pending: boolean,
    retryAfterSeconds?: number,
  ): MoveMasterResult => ({
    ...base,
    outcome,
    pending,
    message: 'm',
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  });

  it('is retryable while a cluster has work left, after the shortest wait', () => {
    assert.deepEqual(drainResult('n1', 'unschedulable', []), {
      node: 'n1',
      goingAway: true,
      reason: 'unschedulable',
      clusters: [],
      retryable: false,
    });
    const single = drainResult('n1', 'r', [result('done', false), result('single-instance', true, 60)]);
    assert.equal(single.retryable, true);
    assert.equal(single.retryAfterSeconds, 60);
    assert.equal(
      drainResult('n1', 'r', [result('single-instance', true, 60), result('waiting', true)]).retryAfterSeconds,
      RETRY_AFTER_SECONDS,
    );
    assert.equal(drainResult('n1', 'r', [result('switched-over', false)]).retryAfterSeconds, undefined);
  });
});

describe('mastersOnNode', () => {
  const pod = (
    namespace: string,
    name: string,
    nodeName: string,
    labels: Record<string, string> = { 'cluster-name': name },
  ) => ({ metadata: { namespace, name, labels }, spec: { nodeName } });

  it('keeps the masters on the node that belong to a cluster, by namespace/name', () => {
    const found = mastersOnNode(
      [pod('b', 'x-0', 'n1'), pod('a', 'y-0', 'n1'), pod('a', 'z-0', 'n2'), pod('a', 'w-0', 'n1', {})],
      'n1',
      'cluster-name',
    );
    assert.deepEqual(
      found.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
      ['a/y-0', 'b/x-0'],
    );
  });
});
