// Password rotation on a real PostgreSQL (initdb in a temp dir), driven by syncCluster on the test control plane with
// a fake clock (the sync context's `now`, which the role step uses for every rotation decision): the first sync
// schedules the rotation, a sync past the date rotates (a dated role IN ROLE the user, or in place), clients keep
// logging in with the credentials they read before, and rotation roles past the retention are dropped. A sync with
// the same clock writes nothing and runs no DDL. Patroni's part (the master Endpoints, the superuser's password) is
// played by the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { KubeClient } from '../../lib/k8s/client';
import type { Condition } from '../../lib/model/postgresql';
import { parseOperatorConfig, type OperatorConfig } from '../../lib/model/config';
import { rfc3339, rotationSuffix } from '../../lib/roles/rotation';
import { syncCluster, type SyncResult } from '../../lib/sync/cluster/sync-cluster';
import { syncFleet, type FleetResult } from '../../lib/sync/fleet/sync-fleet';
import { applyManifest, installCrd, reference, syncContext, testClient } from './operator';
import { startPostgres, type TestPostgres } from './postgres';
import { clusterManifest, connectRolesTo, ddlCount, masterUp, secretOf, superuserFromSecret } from './roles-helpers';
import { createNamespace, deleteNamespace } from './testenv';

const DAY_MS = 86_400_000;

describe('password rotation with a fake clock (interval 30 days, retention 60)', () => {
  const cluster = 'acid-rotation';
  let client: KubeClient;
  let server: TestPostgres;
  let namespace: string;
  let config: OperatorConfig;
  // The fake clock: starts at today's noon (UTC), moved by the tests.
  let clock = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2);
  const start = clock;
  const dayAfterStart = (days: number) => new Date(start.getTime() + days * DAY_MS);
  const sync = (): Promise<SyncResult> =>
    syncCluster(
      syncContext(client, config, () => clock),
      namespace,
      cluster,
    );
  /** periodic sync of the test namespace only, with the fake clock */
  const fleet = (): Promise<FleetResult> =>
    syncFleet(
      syncContext(client, { ...config, watched_namespace: namespace }, () => clock),
      {
        operatorNamespace: namespace,
        deadlineMs: 60_000,
      },
    );

  /** @returns the decoded data of a user's Secret */
  const secretOfUser = async (user: string): Promise<Record<string, string>> => {
    const secret = await client.get({ kind: 'Secret', namespace, name: secretOf(user, cluster) });
    assert.ok(secret, `Secret of ${user}`);
    return Object.fromEntries(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
  };
  /** @returns the rows of `app_data` read as this user, or the server's error */
  const readAs = async (user: string, password: string): Promise<number | string> => {
    const session = new pg.Client({ host: server.host, port: server.port, user, password, database: 'postgres' });
    try {
      await session.connect();
      return (await session.query('SELECT count(*)::int AS n FROM app_data')).rows[0].n as number;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await session.end().catch(() => undefined);
    }
  };
  const roleExists = async (name: string): Promise<{ memberOf: string[] } | undefined> => {
    const admin = await server.admin();
    const { rows } = await admin.query<{ member_of: string[] }>(
      `SELECT ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
         WHERE m.member = r.oid ORDER BY 1) AS member_of FROM pg_roles r WHERE r.rolname = $1`,
      [name],
    );
    await admin.end();
    return rows[0] && { memberOf: rows[0].member_of };
  };
  const events = async (reason: string): Promise<string[]> =>
    (await client.list('Event', namespace))
      .filter((e) => e.reason === reason && e.involvedObject?.name === cluster)
      .map((e) => e.message as string)
      .sort();
  const rolesCondition = async (): Promise<Condition | undefined> =>
    ((await client.get({ kind: 'postgresql', namespace, name: cluster }))?.status?.conditions ?? []).find(
      (c: Condition) => c.type === 'RolesSynced',
    );
  /** A sync with the clock unchanged: no Kubernetes write, no DDL. */
  const assertIdle = async () => {
    const ddl = ddlCount(server);
    client.counter.reset();
    const again = await sync();
    assert.equal(again.outcome, 'synced', again.error);
    assert.equal(again.roles?.statements, 0);
    const condition = await rolesCondition();
    assert.equal(
      client.counter.writes(),
      0,
      `${JSON.stringify(Object.fromEntries(client.counter.byResource))}; ${JSON.stringify(condition)}`,
    );
    assert.equal(ddlCount(server), ddl, 'DDL statements in the server log');
  };
  const rotated = (days: number) => `app${rotationSuffix(dayAfterStart(days))}`;
  const credentials: Record<string, string> = {};

  before(async () => {
    await installCrd();
    client = testClient();
    server = await startPostgres('scram-sha-256');
    namespace = await createNamespace('rotation');
    connectRolesTo(server, namespace);
    const parsed = parseOperatorConfig({
      ...reference('v2.0.1/configmap.yaml').data,
      enable_password_rotation: 'true',
      password_rotation_interval: '30',
      password_rotation_user_retention: '45', // raised to twice the interval: 60
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    config = parsed.config;
    await applyManifest(
      clusterManifest(cluster, {
        users: { app: [], flyway: [], owner: ['createdb'], quiet: [] },
        databases: { appdb: 'owner' },
        usersWithInPlaceSecretRotation: ['flyway'],
        usersIgnoringSecretRotation: ['quiet'],
      }),
      namespace,
    );
    // what Spilo creates at bootstrap: the admin role (ADMIN of every manifest role, rotation roles included)
    const admin = await server.admin();
    await admin.query('CREATE ROLE admin NOLOGIN CREATEDB');
    await admin.end();
    const first = await sync();
    assert.equal(first.outcome, 'synced', first.error);
    await superuserFromSecret(server, client, namespace, cluster);
    await masterUp(namespace, cluster);
  });

  after(async () => {
    await server.stop();
    client.close();
    await deleteNamespace(namespace);
  });

  test('the first sync with the master up schedules the rotation of rotating users only', async () => {
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles?.failed, 0);
    const next = rfc3339(dayAfterStart(30));
    for (const user of ['app', 'flyway']) {
      const data = await secretOfUser(user);
      assert.deepEqual(Object.keys(data).sort(), ['nextRotation', 'password', 'username']);
      assert.equal(data.username, user);
      assert.equal(data.nextRotation, next);
      assert.equal(await server.login(user, data.password!), true);
      credentials[user] = data.password!;
    }
    // a database owner (global switch) and an ignoring user do not rotate
    for (const user of ['owner', 'quiet']) assert.equal((await secretOfUser(user)).nextRotation, undefined, user);
    assert.equal((await events('PasswordRotationScheduled')).length, 2);
    // a table the user can read: its rotation roles inherit the privilege
    const admin = await server.admin();
    await admin.query(
      'CREATE TABLE app_data (n int); INSERT INTO app_data VALUES (1), (2); GRANT SELECT ON app_data TO app',
    );
    await admin.end();
    assert.equal(await readAs('app', credentials.app!), 2);
  });

  test('a second sync with the same clock writes nothing', assertIdle);

  test('past the date: a dated role IN ROLE app takes the Secret, the old credentials keep working', async () => {
    clock = dayAfterStart(31);
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles?.failed, 0);
    const data = await secretOfUser('app');
    assert.equal(data.username, rotated(31));
    assert.notEqual(data.password, credentials.app);
    assert.equal(data.nextRotation, rfc3339(dayAfterStart(61)));
    assert.deepEqual(await roleExists(rotated(31)), { memberOf: ['app'] });
    const condition = await rolesCondition();
    assert.equal(condition?.reason, 'Synced', condition?.message);
    assert.equal(await readAs(rotated(31), data.password!), 2, 'the rotation role inherits the grants of app');
    assert.equal(await readAs('app', credentials.app!), 2, 'the credentials read before still work');
    credentials[rotated(31)] = data.password!;

    // in place: flyway keeps its name, gets a new password
    const flyway = await secretOfUser('flyway');
    assert.equal(flyway.username, 'flyway');
    assert.notEqual(flyway.password, credentials.flyway);
    assert.equal(await server.login('flyway', flyway.password!), true);
    assert.equal(await roleExists(`flyway${rotationSuffix(clock)}`), undefined);
    assert.deepEqual(
      (await events('PasswordRotated')).map((m) => m.replace(/; next rotation at .*/, '')),
      [`password of app rotated: new role ${rotated(31)}`, 'password of flyway rotated in place'],
    );
  });

  test('a second sync after the rotation writes nothing', assertIdle);

  test('periodic sync: in sync before the next date, and it syncs the cluster once a rotation is due', async () => {
    clock = dayAfterStart(60);
    const before = await fleet();
    assert.deepEqual(before.items, [], JSON.stringify(before.items));
    assert.equal(before.inSync, 1);
    clock = dayAfterStart(62);
    const due = await fleet();
    assert.deepEqual(
      due.items.map((i) => [i.why, i.outcome]),
      [['password rotation due: app, flyway', 'synced']],
    );
  });

  test('the next rotation keeps the previous rotation role, which is within the retention', async () => {
    // (rotated by the periodic sync above, at day 62)
    const data = await secretOfUser('app');
    assert.equal(data.username, rotated(62));
    assert.equal(await readAs(rotated(62), data.password!), 2);
    assert.equal(await readAs(rotated(31), credentials[rotated(31)]!), 2, 'the previous rotation role still logs in');
    assert.equal(await readAs('app', credentials.app!), 2);
    assert.deepEqual(await events('RotationRoleDropped'), []);
  });

  test('past the retention the old rotation role is dropped (no rotation needed), the one in the Secret never', async () => {
    // 31 + 60 days: the first rotation role is past the retention, the second (62) is not, no rotation is due (92)
    clock = dayAfterStart(92);
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles?.failed, 0);
    assert.equal(result.roles?.statements, 1);
    assert.equal(await roleExists(rotated(31)), undefined);
    const data = await secretOfUser('app');
    assert.equal(data.username, rotated(62));
    assert.equal(await readAs(rotated(62), data.password!), 2);
    assert.deepEqual(await events('RotationRoleDropped'), [`Dropped rotation role ${rotated(31)}: past the retention`]);
  });

  test('and the sync after that writes nothing', assertIdle);

  test('turning rotation off hands the Secret back to the user, whose role takes the Secret password', async () => {
    const before = await secretOfUser('app');
    config = { ...config, enable_password_rotation: false };
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles?.failed, 0);
    const data = await secretOfUser('app');
    assert.deepEqual(data, { username: 'app', password: before.password });
    assert.equal(await readAs('app', data.password!), 2, 'the Secret logs in as app');
    assert.equal(await readAs(rotated(62), before.password!), 2, 'the last rotation role still logs in');
    assert.deepEqual(await events('PasswordRotationOff'), [
      'password rotation of app is off: its Secret names app again, without a rotation date',
    ]);
    const condition = await rolesCondition();
    assert.equal(condition?.reason, 'Synced', condition?.message);
    // flyway is listed for in-place rotation in the manifest: it keeps rotating

    assert.ok((await secretOfUser('flyway')).nextRotation);
  });

  test('and once off, a sync writes nothing', assertIdle);
});
