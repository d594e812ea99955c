// disruptionBlocker: the one rule every disruptive step asks (rolling update, node drain): every other pod up and
// following the leader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { disruptionBlocker, type DisruptionInputs } from '../../../lib/plan/disruption';
import type { MemberView, OwnStatus } from '../../../lib/plan/patroni-members';

const pod = (name: string, ready = true, deleting = false) => ({ name, ready, deleting });
const leader = (name: string): MemberView => ({ name, role: 'leader', state: 'running', timeline: 3 });
const replica = (name: string, extra: Partial<MemberView> = {}): MemberView => ({
  name,
  role: 'replica',
  state: 'streaming',
  timeline: 3,
  lag: 0,
  ...extra,
});
const running: OwnStatus = { state: 'running', role: 'replica', timeline: 3 };
const healthy = (): DisruptionInputs => ({
  instances: 3,
  pods: [pod('a-0'), pod('a-1'), pod('a-2')],
  members: [leader('a-0'), replica('a-1'), replica('a-2')],
  own: new Map([
    ['a-1', running],
    ['a-2', running],
  ]),
});

describe('disruptionBlocker', () => {
  it('lets a step go when every other pod is Ready and following the leader', () => {
    assert.equal(disruptionBlocker(healthy(), ['a-0']), undefined);
    assert.equal(disruptionBlocker(healthy(), ['a-2']), undefined);
    assert.equal(disruptionBlocker(healthy(), []), undefined);
  });

  it('names the first reason to wait: deleted, missing, not Ready, no Patroni view, no leader, not a member', () => {
    const cases: [Partial<DisruptionInputs>, string][] = [
      [{ pods: [pod('a-0'), pod('a-1', true, true), pod('a-2')] }, 'pod a-1 is being deleted'],
      [{ pods: [pod('a-0'), pod('a-1')] }, '2 of 3 pods exist'],
      [{ pods: [pod('a-0'), pod('a-1', false), pod('a-2', false)] }, 'pod a-1, a-2 not ready'],
      [{ members: undefined, patroniError: 'timeout' }, "cannot read Patroni's cluster view: timeout"],
      [{ members: [replica('a-0'), replica('a-1'), replica('a-2')] }, 'Patroni has no leader'],
      [{ members: [leader('a-0'), replica('a-1')] }, 'pod a-2 is not a Patroni member yet'],
      [{ members: [leader('a-0'), replica('a-1', { state: 'starting' }), replica('a-2')] }, 'member a-1 is starting'],
      [
        {
          own: new Map([
            ['a-1', running],
            ['a-2', { ...running, timeline: 2 }],
          ]),
        },
        'pod a-2 is on timeline 2, the leader on 3',
      ],
    ];
    for (const [change, reason] of cases) assert.equal(disruptionBlocker({ ...healthy(), ...change }, ['a-0']), reason);
  });

  it('the disrupted pod itself may be down; any other one may not', () => {
    const oneDown = { ...healthy(), pods: [pod('a-0'), pod('a-1', false), pod('a-2')] };
    oneDown.members = [leader('a-0'), replica('a-1', { state: 'starting' }), replica('a-2')];
    oneDown.own = new Map([
      ['a-1', { ...running, state: 'starting' }],
      ['a-2', running],
    ]);
    assert.equal(disruptionBlocker(oneDown, ['a-1']), undefined, 'recreating the one pod that is down');
    assert.equal(disruptionBlocker(oneDown, ['a-0']), 'pod a-1 not ready', 'a switchover beside it');
    assert.equal(disruptionBlocker(oneDown, ['a-2']), 'pod a-1 not ready', 'recreating another replica');
  });
});
