// The UI's new-cluster form and cluster actions: the manifest a form makes (validated as the sync validates), the
// problems named by field, and the merge patch of each action.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionPatch, parseAction } from '../../../lib/api/ui/actions';
import { manifestFromForm, type ClusterForm } from '../../../lib/api/ui/form';

const options = { enableTeamIdClusterNamePrefix: true };
const form: ClusterForm = {
  name: 'acid-orders',
  teamId: 'acid',
  namespace: 'shop',
  version: '17',
  numberOfInstances: '2',
  volumeSize: '1Gi',
  users: 'app_owner: createdb, LOGIN\nreader',
  databases: 'orders: app_owner',
};

describe('manifestFromForm', () => {
  it('builds the postgresql manifest Zalando users write by hand', () => {
    const result = manifestFromForm(form, options);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.manifest, {
      apiVersion: 'acid.zalan.do/v1',
      kind: 'postgresql',
      metadata: { name: 'acid-orders', namespace: 'shop' },
      spec: {
        teamId: 'acid',
        numberOfInstances: 2,
        volume: { size: '1Gi' },
        postgresql: { version: '17' },
        users: { app_owner: ['createdb', 'login'], reader: [] },
        databases: { orders: 'app_owner' },
      },
    });
  });

  it('leaves users and databases out when none are given', () => {
    const result = manifestFromForm({ ...form, users: '  \n', databases: '' }, options);
    assert.ok(result.ok);
    const spec = result.manifest.spec as Record<string, unknown>;
    assert.equal('users' in spec, false);
    assert.equal('databases' in spec, false);
  });

  it('names the field of each problem, as the sync would refuse it', () => {
    const result = manifestFromForm(
      { ...form, name: 'orders', volumeSize: 'lots', numberOfInstances: '1.5', databases: 'orders' },
      options,
    );
    assert.equal(result.ok, false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    assert.ok(paths.includes('spec.numberOfInstances'), paths.join());
    assert.ok(paths.includes('databases'), paths.join());
    const pathsOf = (f: Partial<ClusterForm>) => {
      const r = manifestFromForm({ ...form, ...f }, options);
      return r.ok ? [] : r.problems.map((p) => p.path);
    };
    assert.deepEqual(pathsOf({ volumeSize: 'lots' }), ['spec.volume.size']);
    assert.deepEqual(pathsOf({ name: 'orders' }), ['metadata.name']);
    assert.deepEqual(pathsOf({ version: '8' }), ['spec.postgresql.version']);
  });

  it('refuses a user given twice and a missing namespace', () => {
    const result = manifestFromForm({ ...form, namespace: ' ', users: 'a\na: login' }, options);
    assert.equal(result.ok, false);
    assert.deepEqual(result.ok ? [] : result.problems.map((p) => p.path).sort(), ['metadata.namespace', 'users']);
  });
});

describe('cluster actions', () => {
  const now = new Date('2026-01-02T03:04:05Z');

  it('scale patches numberOfInstances and refuses what is not a count', () => {
    const scale = parseAction('scale', { numberOfInstances: '3' });
    assert.deepEqual(scale, { action: 'scale', numberOfInstances: 3 });
    assert.deepEqual(actionPatch(scale as never, now), { spec: { numberOfInstances: 3 } });
    for (const bad of [-1, 1.5, 'x', undefined])
      assert.ok('error' in parseAction('scale', { numberOfInstances: bad }), String(bad));
  });

  it('pause sets and resume removes the rolling-update-paused annotation; sync-now sets sync-now to the time', () => {
    const patch = (name: string) => {
      const action = parseAction(name, {});
      assert.ok(!('error' in action));
      return actionPatch(action, now);
    };
    assert.deepEqual(patch('pause'), { metadata: { annotations: { 'acid.zalan.do/rolling-update-paused': 'true' } } });
    assert.deepEqual(patch('resume'), { metadata: { annotations: { 'acid.zalan.do/rolling-update-paused': null } } });
    assert.deepEqual(patch('sync-now'), {
      metadata: { annotations: { 'acid.zalan.do/sync-now': '2026-01-02T03:04:05.000Z' } },
    });
    assert.match((parseAction('delete', {}) as { error: string }).error, /unknown action delete/);
  });
});
