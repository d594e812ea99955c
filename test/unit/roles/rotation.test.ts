// Password rotation planning (lib/roles/rotation.ts) with a fake clock: which users rotate, when and how, the roles a
// rotated Secret needs, the retention, and what the builders keep of a rotated Secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCluster, secretFields } from '../../../lib/builders';
import { secretName } from '../../../lib/builders/names';
import type { OperatorConfig } from '../../../lib/model/config';
import { passwordRotationsDue } from '../../../lib/plan/cluster';
import {
  effectiveRetentionDays,
  expiredRotationRoles,
  keptSecretFields,
  rfc3339,
  rotateCredentials,
  rotationDate,
  rotationSettings,
  rotationSuffix,
  rotationsDue,
  withRotationRoles,
} from '../../../lib/roles/rotation';
import type { DesiredRole } from '../../../lib/roles/types';
import { rawManifest, referenceConfig, validCluster } from '../reference';

const base = referenceConfig('v2.0.1');
const configWith = (extra: Partial<OperatorConfig>): OperatorConfig => ({ ...base, ...extra });
const clusterWith = (spec: Record<string, unknown>) => {
  const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
  raw.spec = { ...raw.spec, users: { app: [], owner: [], flyway: [], quiet: [] }, ...spec };
  return validCluster(raw).cluster;
};
const MANIFEST_USERS = ['app', 'flyway', 'owner', 'quiet'];
const SYSTEM = ['postgres', 'standby'];
const NOW = new Date('2026-03-02T17:59:49.123Z');
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000);
const newPassword = (name: string) => `new-password-of-${name}`;

describe('rotationSettings: which users rotate (Zalando v1.15.1 checkForPasswordRotation)', () => {
  it('rotates nobody by default', () => {
    const { modes, notes } = rotationSettings(clusterWith({}), base, MANIFEST_USERS, SYSTEM);
    assert.deepEqual([...modes], []);
    assert.deepEqual(notes, []);
  });

  it('with the global switch: every manifest user but database owners and ignoring users', () => {
    const cluster = clusterWith({ databases: { appdb: 'owner' }, usersIgnoringSecretRotation: ['quiet'] });
    const { modes } = rotationSettings(cluster, configWith({ enable_password_rotation: true }), MANIFEST_USERS, SYSTEM);
    assert.deepEqual(Object.fromEntries(modes), { app: 'new-user', flyway: 'new-user' });
  });

  it('manifest lists work without the global switch, database owners included; the ignore list wins', () => {
    const cluster = clusterWith({
      databases: { appdb: 'owner' },
      usersWithSecretRotation: ['owner', 'quiet'],
      usersWithInPlaceSecretRotation: ['flyway'],
      usersIgnoringSecretRotation: ['quiet'],
    });
    const { modes, notes } = rotationSettings(cluster, base, MANIFEST_USERS, SYSTEM);
    assert.deepEqual(Object.fromEntries(modes), { flyway: 'in-place', owner: 'new-user' });
    assert.deepEqual(
      notes.map((n) => n.message),
      ['password of "quiet" not rotated: it is in spec.usersIgnoringSecretRotation too'],
    );
  });

  it('names listed users it cannot rotate, by field', () => {
    const cluster = clusterWith({
      usersWithSecretRotation: ['postgres', 'nobody'],
      usersWithInPlaceSecretRotation: ['standby'],
    });
    const { modes, notes } = rotationSettings(cluster, base, MANIFEST_USERS, SYSTEM);
    assert.equal(modes.size, 0);
    assert.deepEqual(
      notes.map((n) => n.message),
      [
        'spec.usersWithSecretRotation: "nobody" is not a user with a Secret (manifest users, LOGIN roles of prepared databases)',
        'spec.usersWithSecretRotation: "postgres" is a system user, whose password is not rotated by this operator',
        'spec.usersWithInPlaceSecretRotation: "standby" is a system user, whose password is not rotated by this operator',
      ],
    );
  });

  it('with the global switch: the LOGIN roles of prepared databases too, but their owners (Zalando: bootstrap roles)', () => {
    const cluster = clusterWith({ preparedDatabases: { bar: { defaultUsers: true } } });
    const prepared = ['bar_owner_user', 'bar_reader_user', 'bar_writer_user'];
    const { modes } = rotationSettings(cluster, configWith({ enable_password_rotation: true }), prepared, SYSTEM);
    assert.deepEqual([...modes.keys()], ['bar_reader_user', 'bar_writer_user']);
  });

  it('only LOGIN roles: a NOLOGIN user is skipped, and named when it is listed', () => {
    const cluster = clusterWith({ users: { app: [], group: ['nologin'] }, usersWithSecretRotation: ['group'] });
    const { modes, notes } = rotationSettings(
      cluster,
      configWith({ enable_password_rotation: true }),
      ['app', 'group'],
      SYSTEM,
    );
    assert.deepEqual([...modes.keys()], ['app']);
    assert.deepEqual(
      notes.map((n) => n.message),
      ['password of "group" not rotated: the role is NOLOGIN'],
    );
  });

  it('pauses in a standby cluster, and says so', () => {
    const cluster = clusterWith({ standby: { s3_wal_path: 's3://bucket/wal' } });
    const { modes, notes } = rotationSettings(
      cluster,
      configWith({ enable_password_rotation: true }),
      MANIFEST_USERS,
      SYSTEM,
    );
    assert.equal(modes.size, 0);
    assert.match(notes[0]!.message, /standby cluster is read-only/);
  });

  it('refuses a user whose dated name would pass 63 bytes', () => {
    const long = 'u'.repeat(60);
    const cluster = clusterWith({ users: { [long]: [] }, usersWithSecretRotation: [long] });
    const { modes, notes } = rotationSettings(cluster, base, [long], SYSTEM);
    assert.equal(modes.size, 0);
    assert.match(notes[0]!.message, /longer than 63 bytes/);
  });
});

describe('rotateCredentials: when and how (Zalando rotatePasswordInSecret)', () => {
  const current = { username: 'app', password: 'old' };

  it('a Secret without a rotation date gets now + interval, nothing else changes', () => {
    const step = rotateCredentials('app', 'new-user', current, NOW, 90, newPassword);
    assert.deepEqual(step.credentials, { username: 'app', password: 'old', nextRotation: '2026-05-31T17:59:49Z' });
    assert.equal(step.rotated, false);
    assert.match(step.change!, /first rotation is at 2026-05-31T17:59:49Z/);
  });

  it('an unparsable date is replaced the same way', () => {
    const step = rotateCredentials('app', 'new-user', { ...current, nextRotation: 'soon' }, NOW, 30, newPassword);
    assert.equal(step.credentials.nextRotation, rfc3339(days(30)));
    assert.equal(step.rotated, false);
  });

  it('before the date: unchanged, no write (idempotent)', () => {
    const secret = { ...current, nextRotation: rfc3339(days(1)) };
    const step = rotateCredentials('app', 'new-user', secret, NOW, 90, newPassword);
    assert.deepEqual(step, { credentials: secret, rotated: false });
  });

  it('past the date: a new dated role with a new password, and the next date', () => {
    const step = rotateCredentials(
      'app',
      'new-user',
      { ...current, nextRotation: rfc3339(days(-1)) },
      NOW,
      90,
      newPassword,
    );
    assert.deepEqual(step.credentials, {
      username: 'app260302',
      password: 'new-password-of-app260302',
      nextRotation: rfc3339(days(90)),
    });
    assert.equal(step.rotated, true);
  });

  it('in place: the same user with a new password', () => {
    const step = rotateCredentials(
      'flyway',
      'in-place',
      { username: 'flyway', password: 'old', nextRotation: rfc3339(days(-1)) },
      NOW,
      7,
      newPassword,
    );
    assert.deepEqual(step.credentials, {
      username: 'flyway',
      password: 'new-password-of-flyway',
      nextRotation: rfc3339(days(7)),
    });
  });

  it('switching a rotated user to in place hands the Secret back to the user at once', () => {
    const secret = { username: 'flyway260101', password: 'p', nextRotation: rfc3339(days(60)) };
    const step = rotateCredentials('flyway', 'in-place', secret, NOW, 90, newPassword);
    assert.equal(step.credentials.username, 'flyway');
    assert.equal(step.rotated, true);
  });

  it('a date in another offset is read as such', () => {
    const secret = { ...current, nextRotation: '2026-03-02T20:00:00+03:00' }; // 17:00Z, before NOW
    assert.equal(rotateCredentials('app', 'new-user', secret, NOW, 90, newPassword).rotated, true);
  });
});

describe('rotationsDue: what the fleet sync must not skip', () => {
  const modes = new Map([
    ['app', 'new-user' as const],
    ['flyway', 'in-place' as const],
  ]);
  it('no Secret yet: nothing (the objects step makes it first); no date or past it: due', () => {
    assert.deepEqual(
      rotationsDue(modes, () => undefined, NOW),
      [],
    );
    assert.deepEqual(
      rotationsDue(modes, (u) => ({ username: u }), NOW),
      ['app', 'flyway'],
    );
    const past = rfc3339(days(-1));
    assert.deepEqual(
      rotationsDue(modes, (u) => ({ username: u, nextRotation: u === 'app' ? past : rfc3339(days(1)) }), NOW),
      ['app'],
    );
  });
  it('a Secret naming a rotation role of an in-place user is due at once', () => {
    const next = rfc3339(days(10));
    assert.deepEqual(
      rotationsDue(modes, (u) => ({ username: `${u}260101`, nextRotation: next }), NOW),
      ['flyway'],
    );
  });
  it('the same instant as the date is not past it (as rotateCredentials)', () => {
    assert.deepEqual(
      rotationsDue(modes, (u) => ({ username: u, nextRotation: rfc3339(NOW) }), new Date(rfc3339(NOW))),
      [],
    );
  });
});

describe('rotation roles', () => {
  const manifestRole = (name: string, extra: Partial<DesiredRole> = {}): DesiredRole => ({
    name,
    origin: 'manifest',
    attributes: ['CREATEDB', 'LOGIN'],
    memberOf: ['admin'],
    admins: ['admin'],
    parameters: { search_path: 'app' },
    password: 'secret-password',
    ...extra,
  });

  it('the role the Secret names is a member of the user with its attributes; the user keeps its own password', () => {
    const { roles, notes } = withRotationRoles(
      [manifestRole('app'), manifestRole('other')],
      new Map([['app', { username: 'app260302', password: 'rotated' }]]),
    );
    assert.deepEqual(notes, []);
    assert.deepEqual(
      roles,
      [
        { ...manifestRole('app'), password: undefined },
        manifestRole('other'),
        { ...manifestRole('app260302'), memberOf: ['app'], password: 'rotated' },
      ].map((r) => (r.password === undefined ? (({ password: _p, ...rest }) => rest)(r) : r)),
    );
  });

  it('a rotation name another source uses is not taken over', () => {
    const { roles, notes } = withRotationRoles(
      [manifestRole('app'), manifestRole('app260302', { origin: 'infrastructure' })],
      new Map([['app', { username: 'app260302', password: 'rotated' }]]),
    );
    assert.equal(roles.length, 2);
    assert.equal(roles[0]!.password, 'secret-password');
    assert.match(notes[0]!.message, /also a role of another source/);
  });

  it('dates: yymmdd in UTC, read back with Go two-digit years; other names are not rotation roles', () => {
    assert.equal(rotationSuffix(new Date('2026-12-31T23:59:59Z')), '261231');
    assert.deepEqual(rotationDate('app', 'app260302'), new Date('2026-03-02T00:00:00Z'));
    assert.deepEqual(rotationDate('app', 'app991231'), new Date('1999-12-31T00:00:00Z'));
    assert.equal(rotationDate('app', 'app261399'), undefined);
    assert.equal(rotationDate('app', 'apple12345'), undefined);
    assert.equal(rotationDate('app', 'app_260302'), undefined);
    assert.equal(rotationDate('app', 'app2603021'), undefined);
  });

  it('retention: only dated roles of the user older than the retention, never a kept one', () => {
    const existing = ['app251001', 'app251203', 'app251204', 'app260302', 'apple51001', 'other251001', 'app_251001'];
    // 2026-03-02 minus 90 days is 2025-12-02T17:59:49Z
    assert.deepEqual(expiredRotationRoles('app', existing, NOW, 90, new Set()), ['app251001']);
    assert.deepEqual(expiredRotationRoles('app', existing, NOW, 89, new Set(['app251203'])), ['app251001']);
    assert.deepEqual(expiredRotationRoles('app', existing, NOW, 0, new Set()), [
      'app251001',
      'app251203',
      'app251204',
      'app260302',
    ]);
  });

  it('the retention is at least twice the interval; an interval of 0 counts as 1 day', () => {
    assert.equal(
      effectiveRetentionDays(configWith({ password_rotation_interval: 90, password_rotation_user_retention: 100 })),
      180,
    );
    assert.equal(
      effectiveRetentionDays(configWith({ password_rotation_interval: 7, password_rotation_user_retention: 30 })),
      30,
    );
    assert.equal(
      effectiveRetentionDays(configWith({ password_rotation_interval: 0, password_rotation_user_retention: 0 })),
      2,
    );
  });
});

describe('builders keep a rotated Secret', () => {
  const decoded = (data: Record<string, string>) =>
    Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  const secretData = (
    config: OperatorConfig,
    cluster: ReturnType<typeof clusterWith>,
    existing: Record<string, { username?: string; nextRotation?: string }>,
  ) => {
    const passwords = Object.fromEntries(['postgres', 'standby', ...MANIFEST_USERS].map((u) => [u, `pw-${u}`]));
    const built = buildCluster(cluster, config, {
      passwords,
      secretFields: secretFields(cluster, config, (u) => existing[u]),
    });
    return Object.fromEntries(
      built.objects
        .filter((o) => o.kind === 'Secret')
        .map((o) => [decoded(o.data as Record<string, string>).username, decoded(o.data as Record<string, string>)]),
    );
  };

  it('while rotating: the username and date of the Secret', () => {
    const cluster = clusterWith({ usersWithSecretRotation: ['app'] });
    const data = secretData(base, cluster, { app: { username: 'app260302', nextRotation: '2026-05-31T17:59:49Z' } });
    assert.deepEqual(data.app260302, {
      username: 'app260302',
      password: 'pw-app',
      nextRotation: '2026-05-31T17:59:49Z',
    });
  });

  it('rotation turned off: still the Secret (the role step hands it back after the DDL, not the builders)', () => {
    const data = secretData(base, clusterWith({}), {
      app: { username: 'app260302', nextRotation: '2026-05-31T17:59:49Z' },
    });
    assert.deepEqual(data.app260302, {
      username: 'app260302',
      password: 'pw-app',
      nextRotation: '2026-05-31T17:59:49Z',
    });
  });

  it('a username that is neither the user nor one of its rotation roles is not kept', () => {
    assert.deepEqual(keptSecretFields('app', { username: 'someone' }), { username: 'app' });
    assert.deepEqual(keptSecretFields('app', undefined), { username: 'app' });
  });
});

describe('passwordRotationsDue (the fleet decision)', () => {
  const config = configWith({ enable_password_rotation: true });
  const cluster = clusterWith({ databases: { appdb: 'owner' } });
  const secret = (user: string, nextRotation?: string) => [
    `Secret/${secretName(config, cluster.metadata.name, user)}`,
    {
      metadata: { name: secretName(config, cluster.metadata.name, user) },
      data: {
        username: Buffer.from(user).toString('base64'),
        ...(nextRotation ? { nextRotation: Buffer.from(nextRotation).toString('base64') } : {}),
      },
    },
  ];
  const observed = new Map([
    secret('app', rfc3339(days(-1))),
    secret('flyway', rfc3339(days(1))),
    secret('owner'),
    secret('quiet'),
  ] as Array<[string, { metadata: { name: string } }]>);

  it('names the rotating users whose date passed or is missing', () => {
    assert.deepEqual(passwordRotationsDue(cluster, config, observed, NOW), ['app', 'quiet']);
  });

  it('none without database access or instances: the role step would not run', () => {
    assert.deepEqual(passwordRotationsDue(cluster, { ...config, enable_database_access: false }, observed, NOW), []);
    const stopped = clusterWith({ databases: { appdb: 'owner' }, numberOfInstances: 0 });
    assert.deepEqual(passwordRotationsDue(stopped, config, observed, NOW), []);
  });
});
