// The rotation part of the role step (lib/sync/roles/rotation.ts) without a server: what a sync at a given time
// (fake clock) plans for each Secret, the derived passwords, the roles added, turning rotation off, and which writes
// wait for a failed statement.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../lib/k8s/client';
import { buildSecrets } from '../../../lib/builders/secrets';
import { secretName } from '../../../lib/builders/names';
import type { OperatorConfig } from '../../../lib/model/config';
import { rfc3339 } from '../../../lib/roles/rotation';
import type { DesiredRole } from '../../../lib/roles/types';
import type { SyncContext } from '../../../lib/sync/context';
import {
  planSecretRotation,
  withoutRotationNotes,
  withSecretRotation,
  writableRotations,
} from '../../../lib/sync/roles/rotation';
import { rawManifest, referenceConfig, validCluster } from '../reference';
import { desiredRole } from './fixtures';

const NOW = new Date('2026-03-02T12:00:00Z');
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000);
const config: OperatorConfig = {
  ...referenceConfig('v2.0.1'),
  enable_password_rotation: true,
  password_rotation_interval: 30,
};
const ctx = {
  config,
  newPassword: (uid: string, user: string) => `derived(${uid},${JSON.stringify(user)})`,
} as unknown as SyncContext;
const cluster = (() => {
  const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
  raw.spec = { ...raw.spec, users: { app: [], flyway: [] }, databases: {}, usersWithInPlaceSecretRotation: ['flyway'] };
  return validCluster(raw).cluster;
})();
const passwords = { postgres: 'pg', standby: 'sb', app: 'app-old', flyway: 'fly-old' };

/** @returns the observed Secrets with these fields (username defaults to the user) */
function observed(fields: Record<string, { username?: string; nextRotation?: string }>): Map<string, KubeObject> {
  const map = new Map<string, KubeObject>();
  for (const user of Object.keys(passwords)) {
    const f = fields[user] ?? {};
    const [secret] = buildSecrets(cluster, config, [user], passwords, {
      [user]: { username: f.username ?? user, nextRotation: f.nextRotation },
    });
    map.set(`Secret/${secretName(config, cluster.metadata.name, user)}`, secret as KubeObject);
  }
  return map;
}
const decoded = (object: { data?: unknown } | Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(object.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );

describe('planSecretRotation', () => {
  // app rotated on 2026-01-01, flyway in place; neither due
  const rotatedNotDue = observed({
    app: { username: 'app260101', nextRotation: rfc3339(days(1)) },
    flyway: { nextRotation: rfc3339(days(1)) },
  });

  it('schedules the first rotation of rotating users only; system users are left alone', () => {
    const plan = planSecretRotation(ctx, cluster, observed({}), passwords, NOW);
    assert.deepEqual(
      plan.writes.map((w) => [w.user, w.event, decoded(w.secret)]),
      [
        ['app', 'PasswordRotationScheduled', { username: 'app', password: 'app-old', nextRotation: rfc3339(days(30)) }],
        [
          'flyway',
          'PasswordRotationScheduled',
          { username: 'flyway', password: 'fly-old', nextRotation: rfc3339(days(30)) },
        ],
      ],
    );
    assert.deepEqual(plan.retentionUsers, ['app', 'flyway']);
    assert.equal(plan.logins.size, 0);
  });

  it('rotates past the date with derived passwords: the same sync time gives the same password', () => {
    const past = observed({ app: { nextRotation: rfc3339(days(-1)) }, flyway: { nextRotation: rfc3339(days(-1)) } });
    const plan = planSecretRotation(ctx, cluster, past, passwords, NOW);
    const again = planSecretRotation(ctx, cluster, past, passwords, NOW);
    assert.deepEqual(
      plan.writes.map((w) => w.secret),
      again.writes.map((w) => w.secret),
    );
    const uid = cluster.metadata.uid ?? '';
    assert.deepEqual(plan.logins.get('app'), {
      username: 'app260302',
      password: `derived(${uid},"app260302\\u0000rotation")`,
    });
    assert.equal(plan.passwords.flyway, `derived(${uid},"flyway\\u0000rotation\\u0000260302")`);
    assert.deepEqual(
      plan.writes.map((w) => [w.user, w.event, w.rolePasswordChanges]),
      [
        ['app', 'PasswordRotated', false],
        ['flyway', 'PasswordRotated', true],
      ],
    );
    assert.ok(plan.secretUsernames.has('app260302') && plan.secretUsernames.has('app'));
  });

  it('before the date: no write, and the rotated Secret still names its role', () => {
    const plan = planSecretRotation(ctx, cluster, rotatedNotDue, passwords, NOW);
    assert.deepEqual(plan.writes, []);
    assert.deepEqual(plan.logins.get('app'), { username: 'app260101', password: 'app-old' });
  });

  it('turned off: the Secret is handed back to the user (same password, no date); the role takes the password', () => {
    const off = { ...ctx, config: { ...config, enable_password_rotation: false } } as SyncContext;
    const plan = planSecretRotation(off, cluster, rotatedNotDue, passwords, NOW);
    // flyway is still listed for in-place rotation in the manifest
    assert.deepEqual(
      plan.writes.map((w) => [w.user, w.event, w.rolePasswordChanges, decoded(w.secret)]),
      [['app', 'PasswordRotationOff', true, { username: 'app', password: 'app-old' }]],
    );
    assert.equal(plan.logins.size, 0);
    // the planner's "password other than its Secret's" is expected for app, not for others
    const notes = [
      {
        name: 'app',
        origin: 'manifest' as const,
        message: 'role "app" logged in with a password other than its Secret\'s; x',
      },
      {
        name: 'other',
        origin: 'manifest' as const,
        message: 'role "other" logged in with a password other than its Secret\'s; x',
      },
    ];
    assert.deepEqual(
      withoutRotationNotes(notes, plan).map((n) => n.name),
      ['other'],
    );
  });
});

describe('withSecretRotation and writableRotations', () => {
  const role = (name: string, origin: DesiredRole['origin'] = 'manifest') =>
    desiredRole(name, origin, { password: 'x' });
  const due = observed({ app: { nextRotation: rfc3339(days(-1)) }, flyway: { nextRotation: rfc3339(days(-1)) } });

  it('adds the rotation role; a user another source took is not rotated, and says so', () => {
    const plan = planSecretRotation(ctx, cluster, due, passwords, NOW);
    const state = withSecretRotation(
      { roles: [role('app'), role('flyway', 'infrastructure')], databases: [], prepared: [], notes: [] },
      plan,
    );
    assert.deepEqual(
      state.roles.map((r) => [r.name, r.memberOf, r.password !== undefined]),
      [
        ['app', [], false],
        ['flyway', [], true],
        ['app260302', ['app'], true],
      ],
    );
    assert.deepEqual(
      plan.writes.map((w) => w.user),
      ['app'],
    );
    assert.match(
      state.notes.map((n) => n.message).join('\n'),
      /password of "flyway" not rotated: the role comes from another source/,
    );
  });

  it('a Secret waits while a statement for the role it names failed', () => {
    const plan = planSecretRotation(ctx, cluster, due, passwords, NOW);
    const failed = [{ statement: { type: 'create-role', role: 'app260302' } as never }];
    const { writes, notes } = writableRotations(plan, failed);
    assert.deepEqual(
      writes.map((w) => w.user),
      ['flyway'],
    );
    assert.deepEqual(notes, ['the Secret of app is not rotated yet: a statement for role app260302 failed']);
  });
});
