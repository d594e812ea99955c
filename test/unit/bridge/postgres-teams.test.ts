// The bridge's PostgresTeam tracker: which clusters a PostgresTeam change concerns.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PostgresTeamTracker } from '../../../lib/bridge/postgres-teams';
import type { KubeObject } from '../../../lib/k8s/client';

const cluster = (name: string, teamId: string): KubeObject => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { namespace: 'apps', name },
  spec: { teamId },
});
const team = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'PostgresTeam',
  metadata: { namespace: 'apps', name },
  spec,
});
const names = (objects: KubeObject[]) => objects.map((o) => o.metadata!.name);

describe('PostgresTeamTracker', () => {
  it('a change concerns the clusters of the teams it names, directly or through the merged additional teams', () => {
    const tracker = new PostgresTeamTracker();
    for (const [name, teamId] of [
      ['acid-a', 'acid'],
      ['bi-a', 'bi'],
      ['other-a', 'other'],
    ])
      tracker.observeCluster('add', cluster(name!, teamId!));
    assert.deepEqual(names(tracker.observeTeam('add', team('links', { additionalTeams: { acid: ['e2e'] } }))), [
      'acid-a',
    ]);
    // e2e's members change: acid reaches e2e through the other object
    assert.deepEqual(names(tracker.observeTeam('add', team('members', { additionalMembers: { e2e: ['kind'] } }))), [
      'acid-a',
    ]);
    // the same spec again (a status write, a resync): nothing to do
    assert.deepEqual(tracker.observeTeam('update', team('members', { additionalMembers: { e2e: ['kind'] } })), []);
    // removed: the teams named before count
    assert.deepEqual(names(tracker.observeTeam('delete', team('links', { additionalTeams: { acid: ['e2e'] } }))), [
      'acid-a',
    ]);
    tracker.observeCluster('delete', cluster('acid-a', 'acid'));
    assert.deepEqual(
      names(tracker.observeTeam('update', team('members', { additionalMembers: { acid: ['x'], bi: ['y'] } }))),
      ['bi-a'],
    );
  });

  it('an object that does not parse counts as removed', () => {
    const tracker = new PostgresTeamTracker();
    tracker.observeCluster('add', cluster('acid-a', 'acid'));
    assert.deepEqual(names(tracker.observeTeam('add', team('t', { additionalMembers: { acid: ['a'] } }))), ['acid-a']);
    assert.deepEqual(names(tracker.observeTeam('update', team('t', { additionalMembers: { acid: 'a' } }))), ['acid-a']);
    assert.deepEqual(tracker.observeTeam('update', team('t', { additionalMembers: { acid: 'b' } })), []);
  });
});
