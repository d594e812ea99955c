// nextMoveMasterStep / goingAwayReasons: the one next step of moving a master off a node that is going away.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextMoveMasterStep, type DrainPod, type MoveMasterInputs } from '../../../lib/plan/move-master';
import { goingAwayReasons, nodeGoingAway } from '../../../lib/plan/node-drain';
import type { MemberView, OwnStatus } from '../../../lib/plan/patroni-members';

const NODE = 'node-a';
const pod = (name: string, nodeName: string | undefined, extra: Partial<DrainPod> = {}): DrainPod => ({
  name,
  uid: `uid-${name}`,
  nodeName,
  deleting: false,
  ready: true,
  ...extra,
});
const leader = (name: string): MemberView => ({ name, role: 'leader', state: 'running', timeline: 2 });
const replica = (name: string, lag: number | string = 0, extra: Partial<MemberView> = {}): MemberView => ({
  name,
  role: 'replica',
  state: 'streaming',
  timeline: 2,
  lag,
  ...extra,
});

const inputs = (extra: Partial<MoveMasterInputs> = {}): MoveMasterInputs => ({
  node: NODE,
  nodeReason: 'unschedulable',
  instances: 2,
  pods: [pod('c-0', NODE), pod('c-1', 'node-b')],
  members: [leader('c-0'), replica('c-1', 16)],
  ...extra,
});

describe('nextMoveMasterStep', () => {
  it('switches over to a following replica on a ready node, saying from where to where and why', () => {
    const step = nextMoveMasterStep(inputs());
    assert.equal(step.kind, 'switchover');
    assert.deepEqual(
      [step.kind === 'switchover' && step.leader, step.kind === 'switchover' && step.candidate],
      ['c-0', 'c-1'],
    );
    assert.equal(
      step.reason,
      'switching over from c-0 on node node-a (going away: unschedulable) to c-1 on node node-b (lag 16 bytes)',
    );
  });

  it('picks the least lagging of several candidates, and never one on a node going away', () => {
    const step = nextMoveMasterStep(
      inputs({
        instances: 4,
        pods: [
          pod('c-0', NODE),
          pod('c-1', 'node-b'),
          pod('c-2', 'node-c'),
          pod('c-3', 'node-d', { nodeGoingAway: 'taint karpenter.sh/disrupted' }),
        ],
        members: [leader('c-0'), replica('c-1', 500), replica('c-2', 100), replica('c-3', 0)],
      }),
    );
    assert.equal(step.kind === 'switchover' && step.candidate, 'c-2');
  });

  it('is done when the leader runs elsewhere (the move happened) or no pod of the cluster is on the node', () => {
    assert.equal(nextMoveMasterStep(inputs({ members: [replica('c-0'), leader('c-1')] })).kind, 'done');
    assert.equal(nextMoveMasterStep(inputs({ pods: [pod('c-0', 'node-x'), pod('c-1', 'node-b')] })).kind, 'done');
  });

  it("waits without Patroni's view or a leader, saying why", () => {
    assert.deepEqual(nextMoveMasterStep(inputs({ members: undefined, patroniError: 'connection refused' })), {
      kind: 'wait',
      reason: "cannot read Patroni's cluster view: connection refused",
    });
    assert.deepEqual(nextMoveMasterStep(inputs({ members: [replica('c-0'), replica('c-1')] })), {
      kind: 'wait',
      reason: 'Patroni has no leader',
    });
  });

  it('does not pick a replica that lags beyond maximum_lag_on_failover, reports an unknown lag, is on an old timeline or is tagged nofailover', () => {
    for (const member of [
      replica('c-1', 2_000_000),
      replica('c-1', 'unknown'),
      replica('c-1', 0, { timeline: 1 }),
      replica('c-1', 0, { tags: { nofailover: true } }),
      replica('c-1', 0, { state: 'starting' }),
    ]) {
      const step = nextMoveMasterStep(inputs({ members: [leader('c-0'), member], maxLagBytes: 1_048_576 }));
      assert.equal(step.kind, 'wait', JSON.stringify(member));
    }
  });

  it("with the pods' own GET /patroni: never picks a member that is not back, and waits for it (no second pod down)", () => {
    const running: OwnStatus = { state: 'running', role: 'replica', timeline: 2 };
    const three = {
      instances: 3,
      pods: [pod('c-0', NODE), pod('c-1', 'node-b'), pod('c-2', 'node-c')],
      members: [leader('c-0'), replica('c-1', 0), replica('c-2', 64)],
    };
    const picked = (own: Map<string, OwnStatus | undefined>) => {
      const step = nextMoveMasterStep(inputs({ ...three, own }));
      return step.kind === 'switchover' ? step.candidate : step;
    };
    assert.equal(
      picked(
        new Map([
          ['c-1', running],
          ['c-2', running],
        ]),
      ),
      'c-1',
      'both back: the least lagging',
    );
    // The cluster view lists c-1 running, but its own Patroni is not back: c-2 would be the candidate, but the old
    // master restarting as a replica beside c-1 would leave two members down.
    const cases: [OwnStatus | undefined, RegExp][] = [
      [{ ...running, state: 'starting' }, /pod c-1: PostgreSQL is starting/],
      [undefined, /the Patroni of pod c-1 does not answer/],
      [{ ...running, timeline: 1 }, /pod c-1 is on timeline 1, the leader on 2/],
      [{ ...running, foreignScope: 'acid-other' }, /IP of pod c-1 belongs to cluster acid-other/],
    ];
    for (const [own, reason] of cases) {
      const step = picked(
        new Map([
          ['c-1', own],
          ['c-2', running],
        ]),
      );
      assert.equal(typeof step, 'object', `${reason}: no switchover`);
      assert.equal((step as { kind: string }).kind, 'wait');
      assert.match((step as { reason: string }).reason, /^switchover to c-2 waits: /);
      assert.match((step as { reason: string }).reason, reason);
    }
    assert.deepEqual(
      picked(
        new Map([
          ['c-1', undefined],
          ['c-2', { ...running, state: 'stopped' }],
        ]),
      ),
      { kind: 'wait', reason: 'the Patroni of pod c-1 does not answer' },
      'nobody back: wait, saying who',
    );
  });

  it('a switchover waits while another replica is not Ready (a rolling update recreated it), then goes ahead', () => {
    const three = {
      instances: 3,
      members: [leader('c-0'), replica('c-1', 0, { state: 'starting' }), replica('c-2', 0)],
    };
    const starting = nextMoveMasterStep(
      inputs({ ...three, pods: [pod('c-0', NODE), pod('c-1', 'node-b', { ready: false }), pod('c-2', 'node-c')] }),
    );
    assert.deepEqual(starting, { kind: 'wait', reason: 'switchover to c-2 waits: pod c-1 not ready' });
    const back = nextMoveMasterStep(
      inputs({
        instances: 3,
        members: [leader('c-0'), replica('c-1', 0), replica('c-2', 0)],
        pods: [pod('c-0', NODE), pod('c-1', 'node-b'), pod('c-2', 'node-c')],
      }),
    );
    assert.equal(back.kind, 'switchover');
    // The leader itself may be not Ready (its node is failing): it is the one the switchover disrupts anyway.
    const leaderDown = nextMoveMasterStep(
      inputs({
        instances: 2,
        members: [leader('c-0'), replica('c-1', 0)],
        pods: [pod('c-0', NODE, { ready: false }), pod('c-1', 'node-b')],
      }),
    );
    assert.equal(leaderDown.kind, 'switchover');
  });

  it('recreates a healthy replica that sits on a node going away, with its uid, when no other candidate exists', () => {
    const step = nextMoveMasterStep(
      inputs({ pods: [pod('c-0', NODE), pod('c-1', 'node-b', { nodeGoingAway: 'unschedulable' })] }),
    );
    assert.equal(step.kind, 'recreate');
    assert.equal(step.kind === 'recreate' && step.pod, 'c-1');
    assert.equal(step.kind === 'recreate' && step.uid, 'uid-c-1');
    assert.match(step.reason, /recreating replica c-1, which runs on node node-b \(going away: unschedulable\)/);
  });

  it('recreates a replica on the same node as the master too (both pods on the node going away)', () => {
    const step = nextMoveMasterStep(
      inputs({ pods: [pod('c-0', NODE), pod('c-1', NODE, { nodeGoingAway: 'unschedulable' })] }),
    );
    assert.equal(step.kind === 'recreate' && step.pod, 'c-1');
  });

  it('never takes a second pod down: waits while a pod is deleted, missing, unscheduled or not following', () => {
    const away = { nodeGoingAway: 'unschedulable' };
    const cases: Array<[Partial<MoveMasterInputs>, RegExp]> = [
      [{ pods: [pod('c-0', NODE), pod('c-1', 'node-b', { ...away, deleting: true })] }, /c-1 is being deleted/],
      [{ instances: 3, pods: [pod('c-0', NODE), pod('c-1', 'node-b', away)] }, /2 of 3 pods exist/],
      [
        {
          instances: 3,
          pods: [pod('c-0', NODE), pod('c-1', 'node-b', away), pod('c-2', undefined)],
          members: [leader('c-0'), replica('c-1')],
        },
        /c-2 is not scheduled yet/,
      ],
      [
        {
          instances: 3,
          pods: [pod('c-0', NODE), pod('c-1', 'node-b', away), pod('c-2', 'node-c', away)],
          members: [leader('c-0'), replica('c-1'), replica('c-2', 0, { state: 'starting' })],
        },
        /member c-2 is starting/,
      ],
      [
        {
          instances: 3,
          pods: [pod('c-0', NODE), pod('c-1', 'node-b', away), pod('c-2', 'node-c')],
          members: [leader('c-0'), replica('c-1')],
        },
        /c-2 is not a Patroni member yet/,
      ],
    ];
    for (const [extra, reason] of cases) {
      const step = nextMoveMasterStep(inputs(extra));
      assert.equal(step.kind, 'wait', JSON.stringify(extra));
      assert.match(step.kind === 'wait' ? step.reason : '', reason);
    }
  });

  it('a recreated replica that catches up on a ready node becomes the candidate', () => {
    const caughtUp = nextMoveMasterStep(
      inputs({ pods: [pod('c-0', NODE), pod('c-1', 'node-c')], members: [leader('c-0'), replica('c-1', 0)] }),
    );
    assert.equal(caughtUp.kind === 'switchover' && caughtUp.candidate, 'c-1');
  });

  it('a single-instance cluster is reported, never recreated or switched over, and Patroni is not needed for it', () => {
    const step = nextMoveMasterStep(inputs({ instances: 1, pods: [pod('c-0', NODE)], members: undefined }));
    assert.equal(step.kind, 'single-instance');
    assert.match(step.reason, /no replica to switch over to, so it cannot move without downtime/);
  });

  it('a replica that cannot take over and is not on a node going away: waits, saying so', () => {
    const step = nextMoveMasterStep(
      inputs({ members: [leader('c-0'), replica('c-1', 0, { tags: { nofailover: true } })] }),
    );
    assert.equal(step.kind, 'wait');
    assert.match(step.kind === 'wait' ? step.reason : '', /no replica that can take over/);
  });
});

describe('goingAwayReasons', () => {
  it('names cordon, drain taints and missing readiness labels; a ready node has none', () => {
    const node = {
      metadata: { labels: { 'lifecycle-status': 'pending-decommission' } },
      spec: { unschedulable: true, taints: [{ key: 'ToBeDeletedByClusterAutoscaler' }, { key: 'other' }] },
    };
    assert.deepEqual(goingAwayReasons(node, { 'lifecycle-status': 'ready' }), [
      'unschedulable',
      'taint ToBeDeletedByClusterAutoscaler',
      'missing label lifecycle-status=ready',
    ]);
    assert.deepEqual(
      goingAwayReasons({ metadata: { labels: { 'lifecycle-status': 'ready' } } }, { 'lifecycle-status': 'ready' }),
      [],
    );
    assert.equal(
      nodeGoingAway({ spec: { taints: [{ key: 'karpenter.sh/disrupted' }] } }, {}),
      'the node is going away: taint karpenter.sh/disrupted',
    );
    const cordoned = {
      spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] },
    };
    assert.deepEqual(
      goingAwayReasons(cordoned, {}),
      ['unschedulable'],
      'the taint mirroring a cordon is not a second reason',
    );
    assert.deepEqual(goingAwayReasons({ spec: { taints: cordoned.spec.taints } }, {}), [
      'taint node.kubernetes.io/unschedulable',
    ]);
  });
});
