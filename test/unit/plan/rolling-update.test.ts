// nextRolloutStep: one disruptive step at a time, replicas first, a switchover to the healthiest replica, the old
// master last, never two pods down; a whole three-pod rollout simulated step by step.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberView } from '../../../lib/plan/patroni-members';
import {
  nextRolloutStep as planStep,
  podsNotBack,
  rolloutStalled,
  type OwnStatus,
  type RolloutInputs,
  type RolloutPod,
  type RolloutStep,
} from '../../../lib/plan/rolling-update';

/** Each member answers GET /patroni itself the way the cluster view shows it, unless the test says otherwise. */
const ownOf = (members: MemberView[]): Map<string, OwnStatus | undefined> =>
  new Map(
    members.map((m) => [
      m.name,
      { state: m.state === 'streaming' ? 'running' : m.state, role: m.role, timeline: m.timeline },
    ]),
  );
const nextRolloutStep = (inputs: RolloutInputs) =>
  planStep({ ...(inputs.members ? { own: ownOf(inputs.members) } : {}), ...inputs });

const pod = (name: string, extra: Partial<RolloutPod> = {}): RolloutPod => ({
  name,
  uid: `uid-${name}`,
  flagged: true,
  ready: true,
  deleting: false,
  ...extra,
});
const leader = (name: string, timeline = 1): MemberView => ({ name, role: 'leader', state: 'running', timeline });
const replica = (name: string, lag = 0, extra: Partial<MemberView> = {}): MemberView => ({
  name,
  role: 'replica',
  state: 'streaming',
  timeline: 1,
  lag,
  ...extra,
});

const three = (flags: [boolean, boolean, boolean], extra: Record<string, Partial<RolloutPod>> = {}) =>
  ['pg-0', 'pg-1', 'pg-2'].map((n, i) => pod(n, { flagged: flags[i], ...extra[n] }));
const members = [leader('pg-0'), replica('pg-1', 100), replica('pg-2', 0)];

describe('nextRolloutStep', () => {
  it('is done when no pod is flagged, whatever else is going on', () => {
    assert.deepEqual(
      nextRolloutStep({ pods: three([false, false, false], { 'pg-1': { ready: false } }), instances: 3 }),
      { kind: 'done' },
    );
  });

  it('recreates flagged replicas first, the most lagging first', () => {
    const step = nextRolloutStep({ pods: three([true, true, true]), instances: 3, members });
    assert.equal(step.kind, 'recreate');
    assert.equal((step as Extract<RolloutStep, { kind: 'recreate' }>).pod, 'pg-1');
    assert.equal((step as Extract<RolloutStep, { kind: 'recreate' }>).uid, 'uid-pg-1');
  });

  it('waits while a pod is being deleted, missing, or an unflagged pod is not ready', () => {
    for (const [pods, reason] of [
      [three([true, true, true], { 'pg-2': { deleting: true } }), /pg-2 is being deleted/],
      [three([true, true, true]).slice(0, 2), /2 of 3 pods exist/],
      [three([true, true, false], { 'pg-2': { ready: false } }), /pg-2 not ready/],
      [three([true, true, true], { 'pg-1': { ready: false }, 'pg-2': { ready: false } }), /pg-1, pg-2 not ready/],
    ] as const) {
      const step = nextRolloutStep({ pods: [...pods], instances: 3, members });
      assert.equal(step.kind, 'wait');
      assert.match((step as { reason: string }).reason, reason);
    }
  });

  it('recreates the one pod that is down when it is flagged and its member is broken: no second pod goes down', () => {
    const pods = three([false, true, false], { 'pg-1': { ready: false } });
    const step = nextRolloutStep({
      pods,
      instances: 3,
      members: [leader('pg-0'), replica('pg-1', 0, { state: 'start failed' }), replica('pg-2')],
    });
    assert.equal(step.kind, 'recreate');
    assert.equal((step as { pod: string }).pod, 'pg-1');
    // Only starting, or a switched-over master demoting itself: it is left to finish.
    for (const state of ['starting', 'running']) {
      const wait = nextRolloutStep({
        pods,
        instances: 3,
        members: [leader('pg-0'), replica('pg-1', 0, { state }), replica('pg-2')],
      });
      assert.equal(wait.kind, 'wait', state);
    }
    const otherDown = nextRolloutStep({
      pods,
      instances: 3,
      members: [leader('pg-0'), replica('pg-1', 0, { state: 'crashed' }), replica('pg-2', 0, { state: 'starting' })],
    });
    assert.equal(otherDown.kind, 'wait');
  });

  it('waits until every replica follows the leader: running or streaming, a known lag, the same timeline', () => {
    for (const [member, reason] of [
      [replica('pg-2', 0, { state: 'starting' }), /pg-2 is starting/],
      [replica('pg-2', 0, { lag: 'unknown' }), /pg-2 reports no replication lag/],
      [replica('pg-2', 0, { timeline: 1 }), /pg-2 is on timeline 1, the leader on 2/],
    ] as const) {
      const view = [leader('pg-0', 2), replica('pg-1', 0, { timeline: 2 }), member];
      const step = nextRolloutStep({ pods: three([true, true, true]), instances: 3, members: view });
      assert.equal(step.kind, 'wait');
      assert.match((step as { reason: string }).reason, reason);
    }
    const missing = nextRolloutStep({ pods: three([true, true, true]), instances: 3, members: members.slice(0, 2) });
    assert.match((missing as { reason: string }).reason, /pg-2 is not a Patroni member yet/);
    const noLeader = nextRolloutStep({ pods: three([true, true, true]), instances: 3, members: members.slice(1) });
    assert.match((noLeader as { reason: string }).reason, /no leader/);
    const unreachable = nextRolloutStep({
      pods: three([true, true, true]),
      instances: 3,
      patroniError: 'ECONNREFUSED',
    });
    assert.match((unreachable as { reason: string }).reason, /ECONNREFUSED/);
  });

  it("waits for a replaced pod's own Patroni even when the cluster view still lists its previous incarnation", () => {
    const own = ownOf(members);
    own.set('pg-2', undefined);
    const step = nextRolloutStep({ pods: three([true, true, false]), instances: 3, members, own });
    assert.deepEqual(
      [step.kind, (step as { reason: string }).reason],
      ['wait', 'the Patroni of pod pg-2 does not answer (2 flagged pods left)'],
    );
    own.set('pg-2', { state: 'starting', role: 'replica', timeline: 1 });
    assert.match(
      (nextRolloutStep({ pods: three([true, true, false]), instances: 3, members, own }) as { reason: string }).reason,
      /pg-2: PostgreSQL is starting/,
    );
    own.set('pg-2', { state: 'running', role: 'replica', timeline: 1, streaming: false });
    assert.match(
      (nextRolloutStep({ pods: three([true, true, false]), instances: 3, members, own }) as { reason: string }).reason,
      /pg-2 does not stream/,
    );
    own.set('pg-2', { state: 'running', role: 'replica', timeline: 0 });
    assert.match(
      (nextRolloutStep({ pods: three([true, true, false]), instances: 3, members, own }) as { reason: string }).reason,
      /pg-2 is on timeline 0/,
    );
    // A pod IP handed on while another cluster's Patroni still answers there (seen with kwok): not this pod's answer.
    own.set('pg-2', { ...own.get('pg-1')!, foreignScope: 'acid-other' });
    assert.match(
      (nextRolloutStep({ pods: three([true, true, false]), instances: 3, members, own }) as { reason: string }).reason,
      /the Patroni answering at the IP of pod pg-2 belongs to cluster acid-other/,
    );
  });

  it('switches over from a flagged leader to the least lagging unflagged replica, skipping nodes going away', () => {
    const view = [leader('pg-0'), replica('pg-1', 10), replica('pg-2', 0)];
    const step = nextRolloutStep({ pods: three([true, false, false]), instances: 3, members: view });
    assert.deepEqual(
      [step.kind, (step as { leader: string }).leader, (step as { candidate: string }).candidate],
      ['switchover', 'pg-0', 'pg-2'],
    );
    const away = nextRolloutStep({
      pods: three([true, false, false], { 'pg-2': { nodeGoingAway: 'unschedulable' } }),
      instances: 3,
      members: view,
    });
    assert.equal((away as { candidate: string }).candidate, 'pg-1');
    const none = nextRolloutStep({
      pods: three([true, false, false], {
        'pg-1': { nodeGoingAway: 'unschedulable' },
        'pg-2': { nodeGoingAway: 'taint karpenter.sh/disrupted' },
      }),
      instances: 3,
      members: view,
    });
    assert.equal(none.kind, 'blocked');
    assert.match((none as { reason: string }).reason, /pg-1 \(unschedulable\), pg-2 \(taint karpenter.sh\/disrupted\)/);
    const tooFar = nextRolloutStep({ pods: three([true, false, false]), instances: 3, members: view, maxLagBytes: 5 });
    assert.equal((tooFar as { candidate: string }).candidate, 'pg-2');
    const noneClose = nextRolloutStep({
      pods: three([true, false, false]),
      instances: 3,
      members: [leader('pg-0'), replica('pg-1', 10), replica('pg-2', 9)],
      maxLagBytes: 5,
    });
    assert.equal(noneClose.kind, 'blocked');
  });

  it("recreates a single-instance cluster's pod, with downtime, without asking Patroni", () => {
    const step = nextRolloutStep({ pods: [pod('pg-0')], instances: 1 });
    assert.deepEqual([step.kind, (step as { downtime: boolean }).downtime], ['recreate', true]);
  });

  it('waits for Patroni to relabel a demoted master before recreating it (the master Service still selects it)', () => {
    // After the switchover pg-1 leads; old master pg-0 is the only flagged pod and its label still says master.
    const after = [replica('pg-0'), leader('pg-1', 2), replica('pg-2')].map((m) => ({ ...m, timeline: 2 }));
    const pods = three([true, false, false], { 'pg-0': { role: 'master' }, 'pg-1': { role: 'replica' } });
    const waiting = nextRolloutStep({ pods, instances: 3, members: after });
    assert.equal(waiting.kind, 'wait');
    assert.match(
      (waiting as { reason: string }).reason,
      /pg-0 is still labelled master, though Patroni's leader is pg-1/,
    );
    const relabelled = three([true, false, false], { 'pg-0': { role: 'replica' }, 'pg-1': { role: 'master' } });
    const step = nextRolloutStep({ pods: relabelled, instances: 3, members: after });
    assert.deepEqual([step.kind, (step as { pod?: string }).pod], ['recreate', 'pg-0']);
    // Patroni 4's label value counts the same.
    const primary = three([true, false, false], { 'pg-0': { role: 'primary' } });
    assert.equal(nextRolloutStep({ pods: primary, instances: 3, members: after }).kind, 'wait');
  });

  it("leaves a switched-over master alone while Patroni demotes it ('stopped' for a moment, still labelled master)", () => {
    const demoting = [{ ...replica('pg-0'), state: 'stopped' }, leader('pg-1', 2), replica('pg-2')].map((m) => ({
      ...m,
      timeline: 2,
    }));
    const pods = three([true, false, false], { 'pg-0': { role: 'master', ready: false }, 'pg-1': { role: 'replica' } });
    const waiting = nextRolloutStep({ pods, instances: 3, members: demoting });
    assert.equal(waiting.kind, 'wait');
    assert.match((waiting as { reason: string }).reason, /pg-0 not ready \(member stopped\), still labelled master/);
    // Patroni dropped the role label while the member has none: still the demotion, left alone.
    const unlabelled = three([true, false, false], { 'pg-0': { ready: false }, 'pg-1': { role: 'master' } });
    const waits = nextRolloutStep({ pods: unlabelled, instances: 3, members: demoting });
    assert.equal(waits.kind, 'wait');
    assert.match((waits as { reason: string }).reason, /pg-0 not ready \(member stopped\), not labelled yet/);
    // Relabelled and still stopped: a broken replica, recreated.
    const broken = three([true, false, false], { 'pg-0': { role: 'replica', ready: false } });
    const step = nextRolloutStep({ pods: broken, instances: 3, members: demoting });
    assert.deepEqual([step.kind, (step as { pod?: string }).pod], ['recreate', 'pg-0']);
  });

  it('a whole rollout of three pods: two replicas, one switchover, the old master last, one pod down at a time', () => {
    // A tiny model of the cluster: a recreated pod comes back unflagged as a streaming replica on the leader's timeline.
    let pods = three([true, true, true]);
    let view: MemberView[] = [leader('pg-0'), replica('pg-1', 5), replica('pg-2', 0)];
    const steps: string[] = [];
    for (let i = 0; i < 10; i++) {
      const step = nextRolloutStep({ pods, instances: 3, members: view });
      if (step.kind === 'done') break;
      assert.ok(step.kind === 'recreate' || step.kind === 'switchover', `unexpected ${JSON.stringify(step)}`);
      if (step.kind === 'recreate') {
        steps.push(`recreate ${step.pod}`);
        assert.ok(
          pods.every((p) => p.ready),
          'only recreates when every pod is up',
        );
        pods = pods.map((p) => (p.name === step.pod ? { ...p, flagged: false, uid: `${p.uid}'` } : p));
        const tl = view.find((m) => m.role === 'leader')!.timeline;
        view = view.map((m) => (m.name === step.pod ? replica(m.name, 0, { timeline: tl }) : m));
      } else {
        steps.push(`switchover ${step.leader}->${step.candidate}`);
        view = view
          .map((m) =>
            m.name === step.candidate
              ? leader(m.name, 2)
              : m.name === step.leader
                ? replica(m.name, 0, { timeline: 2 })
                : m,
          )
          .map((m) => (m.role === 'leader' ? m : { ...m, timeline: 2 }));
      }
    }
    assert.deepEqual(steps, ['recreate pg-1', 'recreate pg-2', 'switchover pg-0->pg-1', 'recreate pg-0']);
  });
});

describe('podsNotBack', () => {
  it('says what the cluster waits for after its last step: a pod being deleted, missing or not ready', () => {
    const done = three([false, false, false]);
    assert.equal(podsNotBack(done, 3), undefined);
    assert.equal(
      podsNotBack(three([false, false, false], { 'pg-0': { deleting: true } }), 3),
      'pod pg-0 is being deleted',
    );
    assert.equal(podsNotBack(done.slice(1), 3), '2 of 3 pods exist');
    assert.equal(
      podsNotBack(three([false, false, false], { 'pg-0': { ready: false }, 'pg-2': { ready: false } }), 3),
      'pod pg-0, pg-2 not ready',
    );
  });
});

describe('rolloutStalled', () => {
  const at = (iso: string) => new Date(iso);
  const last = '2030-01-01T00:00:00Z';
  it('is quiet up to the deadline and says how long there has been no step after it', () => {
    assert.equal(rolloutStalled(last, at('2030-01-01T00:10:00Z'), 600_000), undefined, 'exactly at the deadline');
    assert.equal(rolloutStalled(last, at('2030-01-01T00:10:01Z'), 600_000), 'no step for 10 min');
    assert.equal(rolloutStalled(last, at('2030-01-01T02:05:00Z'), 600_000), 'no step for 125 min');
  });
  it('never reports with a deadline of 0, without a last step or with an unreadable one', () => {
    assert.equal(rolloutStalled(last, at('2031-01-01T00:00:00Z'), 0), undefined);
    assert.equal(rolloutStalled(undefined, at('2031-01-01T00:00:00Z'), 600_000), undefined);
    assert.equal(rolloutStalled('yesterday', at('2031-01-01T00:00:00Z'), 600_000), undefined);
  });
});
