// Roles and databases on a real PostgreSQL (initdb in a temp dir) and a real local HTTP server speaking the Teams
// API contract, driven by syncCluster on the test control plane. Patroni's part (writing the master Endpoints,
// setting the superuser password from its Secret) is played by the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { parseOperatorConfig, type OperatorConfig } from '../../lib/model/config';
import type { Condition } from '../../lib/model/postgresql';
import { syncCluster, type SyncResult } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, syncContext, testClient } from './operator';
import { startPostgres, type TestPostgres } from './postgres';
import {
  clusterManifest,
  connectRolesTo,
  ddlCount,
  masterUp,
  password,
  secretOf,
  superuserFromSecret,
} from './roles-helpers';
import { applyTeamsToken, TeamsApi } from './roles-teams-api';
import { createNamespace, deleteNamespace } from './testenv';

function configWith(overrides: Record<string, string>): OperatorConfig {
  const result = parseOperatorConfig({ ...reference('v2.0.1/configmap.yaml').data, ...overrides });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const rolesCondition = async (client: KubeClient, namespace: string, name: string): Promise<Condition | undefined> =>
  ((await client.get({ kind: 'postgresql', namespace, name }))?.status?.conditions as Condition[] | undefined)?.find(
    (c) => c.type === 'RolesSynced',
  );

interface RoleRow {
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  member_of: string[];
  setconfig: string[] | null;
  rolpassword: string | null;
}

async function roles(server: TestPostgres): Promise<Record<string, RoleRow>> {
  const admin = await server.admin();
  const { rows } =
    await admin.query<RoleRow>(`SELECT a.rolname, a.rolsuper, a.rolinherit, a.rolcreaterole, a.rolcreatedb, a.rolcanlogin,
      a.rolreplication, a.rolbypassrls, a.rolpassword, s.setconfig,
      ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_authid g ON g.oid = m.roleid WHERE m.member = a.oid ORDER BY 1) AS member_of
    FROM pg_authid a LEFT JOIN pg_db_role_setting s ON s.setrole = a.oid AND s.setdatabase = 0`);
  await admin.end();
  return Object.fromEntries(rows.map((r) => [r.rolname, r]));
}

const flagsOf = (r: RoleRow) =>
  Object.entries({
    SUPERUSER: r.rolsuper,
    INHERIT: r.rolinherit,
    CREATEROLE: r.rolcreaterole,
    CREATEDB: r.rolcreatedb,
    LOGIN: r.rolcanlogin,
    REPLICATION: r.rolreplication,
    BYPASSRLS: r.rolbypassrls,
  })
    .filter(([, on]) => on)
    .map(([flag]) => flag);

const HOSTILE_MEMBERS = [
  'x"; DROP ROLE postgres; --',
  "o'brien",
  'back\\slash',
  'semi;colon',
  'jürgen',
  'a'.repeat(64),
];

describe('roles and databases from every source (SCRAM)', () => {
  const cluster = 'acid-roles';
  let client: KubeClient;
  let server: TestPostgres;
  let teams: TeamsApi;
  let namespace: string;
  let config: OperatorConfig;
  const sync = (): Promise<SyncResult> => syncCluster(syncContext(client, config), namespace, cluster);

  before(async () => {
    await installCrd();
    client = testClient();
    server = await startPostgres('scram-sha-256');
    teams = new TeamsApi('testtoken');
    await teams.start();
    namespace = await createNamespace('roles');
    connectRolesTo(server, namespace);
    config = configWith({
      enable_teams_api: 'true',
      teams_api_url: teams.url,
      oauth_token_secret_name: 'postgresql-operator',
      infrastructure_roles_secret_name: 'postgresql-infrastructure-roles',
      infrastructure_roles_secrets:
        'secretname:postgresql-infrastructure-roles-new,userkey:user,passwordkey:password,rolekey:inrole',
    });
    // the reference infrastructure roles, plus a role with a hostile parameter value and a hostile legacy entry
    const legacy = reference('v2.0.1/infrastructure-roles.yaml');
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    legacy.data = {
      ...legacy.data,
      robot_odd: b64('odd-password'),
      user3: b64('bad"; DROP ROLE postgres; --'),
      password3: b64('x'),
    };
    await applyManifest(legacy, namespace);
    const configMap = reference('v2.0.1/infrastructure-roles-configmap.yaml');
    configMap.data.robot_odd = 'db_parameters:\n  application_name: "it\'s a \\\\ test\'; DROP ROLE postgres; --"\n';
    await applyManifest(configMap, namespace);
    await applyManifest(reference('v2.0.1/infrastructure-roles-new.yaml'), namespace);
    await applyTeamsToken(namespace, 'testtoken');
    teams.teams = { acid: ['jdoe', 'testuser', 'admin', ...HOSTILE_MEMBERS], postgres_superusers: ['root_user'] };
    // what Spilo creates at bootstrap: the admin role and the PAM role (robot_zmon is left missing on purpose)
    const admin = await server.admin();
    await admin.query('CREATE ROLE admin NOLOGIN CREATEDB; CREATE ROLE zalandos NOLOGIN');
    await applyManifest(
      clusterManifest(cluster, {
        users: {
          zalando: ['superuser', 'createdb'],
          foo_user: [],
          flags_all: ['inherit', 'LOGIN', 'createrole', 'CREATEDB', 'replication', 'bypassrls'],
          flags_no: ['NOSUPERUSER', 'noinherit', 'nocreaterole', 'nocreatedb', 'noreplication', 'nobypassrls'],
          group_role: ['nologin'],
          batman: ['createrole'],
          admin: [],
          postgres: [],
        },
        databases: {
          foo: 'zalando',
          bar_db: 'foo_user',
          // (a hostile database name makes the manifest Invalid before any write: the bad-input corpus has it)
          orphan: 'nobody',
        },
      }),
      namespace,
    );
  });

  after(async () => {
    await teams.stop();
    await server.stop();
    client.close();
    await deleteNamespace(namespace);
  });

  test('without a master address the sync waits, says why, and a second sync writes nothing', async () => {
    const first = await sync();
    assert.equal(first.outcome, 'synced', first.error);
    assert.equal(first.retryable, true);
    assert.match(first.pending!, /^waiting for the master pod: the Endpoints acid-roles have no ready address/);
    const condition = await rolesCondition(client, namespace, cluster);
    assert.equal(condition?.status, 'False');
    assert.equal(condition?.reason, 'WaitingForMaster');
    assert.equal(teams.requests.length, 0, 'nothing is read before the master is up');
    client.counter.reset();
    const second = await sync();
    assert.equal(second.pending, first.pending);
    assert.equal(client.counter.writes(), 0);
  });

  test('once the master is up: every source, with priorities, protected names and hostile names refused', async () => {
    await superuserFromSecret(server, client, namespace, cluster);
    await masterUp(namespace, cluster);
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.pending, undefined);
    assert.ok(result.roles!.statements > 10, `statements: ${result.roles!.statements}`);
    assert.equal(result.roles!.failed, 0);
    assert.deepEqual(teams.requests.sort(), ['GET /api/teams/acid', 'GET /api/teams/postgres_superusers']);

    const condition = (await rolesCondition(client, namespace, cluster))!;
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'SyncedWithWarnings');
    for (const expected of [
      'cannot initialize a new manifest robot role with the name of the protected user "admin"',
      'cannot initialize a new manifest robot role with the name of the system user "postgres"',
      'cannot initialize a new API role with the name of the protected user "admin"',
      'manifest robot role "batman" is also an infrastructure role; the infrastructure role wins',
      'infrastructure role "testuser" is also an API role; the API role wins',
      'infrastructure role refused: invalid role name "bad\\"; DROP ROLE postgres; --"',
      'API role refused: invalid role name "x\\"; DROP ROLE postgres; --"',
      'API role refused: invalid role name "o\'brien"',
      'API role refused: invalid role name "back\\\\slash"',
      'API role refused: invalid role name "semi;colon"',
      'API role refused: invalid role name "jürgen"',
      `API role refused: invalid role name "${'a'.repeat(64)}": 64 bytes, at most 63`,
      'role "robot_zmon_acid_monitoring": group role "robot_zmon" does not exist; skipped until it does',
      'database "orphan" skipped: owner "nobody" is not a role of this cluster',
    ])
      assert.ok(condition.message!.includes(expected), `missing "${expected}" in: ${condition.message}`);

    const r = await roles(server);
    // manifest flags, each with its NO- form
    assert.deepEqual(flagsOf(r.zalando!), ['SUPERUSER', 'INHERIT', 'CREATEDB', 'LOGIN']);
    assert.deepEqual(flagsOf(r.flags_all!), ['INHERIT', 'CREATEROLE', 'CREATEDB', 'LOGIN', 'REPLICATION', 'BYPASSRLS']);
    assert.deepEqual(flagsOf(r.flags_no!), ['LOGIN']);
    assert.deepEqual(flagsOf(r.group_role!), ['INHERIT']);
    assert.deepEqual(r.foo_user!.member_of, []);
    // system roles
    assert.deepEqual(flagsOf(r.standby!), ['INHERIT', 'LOGIN', 'REPLICATION']);
    // infrastructure roles: legacy Secret + ConfigMap, new format; infrastructure beats the manifest for batman
    assert.deepEqual(flagsOf(r.batman!), ['INHERIT', 'CREATEDB', 'LOGIN']);
    assert.deepEqual(r.batman!.member_of, ['admin']);
    assert.deepEqual(r.batman!.setconfig, ['log_statement=all']);
    assert.deepEqual(r.robot_zmon_acid_monitoring!.member_of, []);
    assert.ok(r.robot_zmon_acid_monitoring_new);
    assert.deepEqual(r.robot_odd!.setconfig, ["application_name=it's a \\ test'; DROP ROLE postgres; --"]);
    // Teams API: LOGIN, pam role + team_admin_role, parameters, no password; the API beats infrastructure for testuser
    assert.deepEqual(flagsOf(r.jdoe!), ['INHERIT', 'LOGIN']);
    assert.deepEqual(r.jdoe!.member_of, ['admin', 'zalandos']);
    assert.deepEqual(r.jdoe!.setconfig, ['log_statement=all']);
    assert.equal(r.jdoe!.rolpassword, null);
    assert.deepEqual(r.testuser!.member_of, ['admin', 'zalandos']);
    assert.equal(r.testuser!.rolpassword, null);
    assert.deepEqual(flagsOf(r.root_user!), ['SUPERUSER', 'INHERIT', 'LOGIN']);
    assert.deepEqual(r.root_user!.member_of, ['zalandos']);
    // nothing hostile was created, nothing was dropped
    assert.deepEqual(
      Object.keys(r).filter((n) => /[^a-z0-9_.-]/.test(n) || n.length > 63),
      [],
    );
    assert.ok(r.postgres && r.admin && r.zalandos);
    // passwords are stored as SCRAM verifiers
    for (const user of ['zalando', 'foo_user', 'standby', 'batman'])
      assert.match(r[user]!.rolpassword!, /^SCRAM-SHA-256\$4096:/, user);

    // manifest roles carry ADMIN OPTION for team_admin_role
    const admin = await server.admin();
    const adminOption = await admin.query(`SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
      JOIN pg_roles a ON a.oid = m.member WHERE a.rolname = 'admin' AND m.admin_option ORDER BY 1`);
    assert.deepEqual(
      adminOption.rows.map((row) => row.rolname),
      ['flags_all', 'flags_no', 'foo_user', 'group_role', 'zalando'],
    );
    const dbs = await admin.query(`SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database ORDER BY 1`);
    assert.deepEqual(
      dbs.rows.filter((d) => !d.datname.startsWith('template')),
      [
        { datname: 'bar_db', owner: 'foo_user' },
        { datname: 'foo', owner: 'zalando' },
        { datname: 'postgres', owner: 'postgres' },
      ],
    );
  });

  test('every role logs in with the password of its Secret (SCRAM); team and NOLOGIN roles cannot', async () => {
    for (const user of ['postgres', 'standby', 'zalando', 'foo_user', 'flags_all', 'flags_no']) {
      assert.equal(await server.login(user, await password(client, namespace, user, cluster)), true, user);
    }
    assert.equal(await server.login('robot_zmon_acid_monitoring', 'foobar'), true);
    assert.equal(await server.login('robot_zmon_acid_monitoring_new', 'foobar_new'), true);
    assert.equal(await server.login('batman', 'justice'), true);
    // a manifest user that is also an infrastructure role: its Secret holds the infrastructure password
    assert.equal(await password(client, namespace, 'batman', cluster), 'justice');
    assert.match(String(await server.login('group_role', 'anything')), /password authentication failed/);
    assert.match(String(await server.login('jdoe', 'anything')), /password authentication failed/);
    assert.equal(
      await server.login('foo_user', await password(client, namespace, 'foo_user', cluster), 'bar_db'),
      true,
    );
  });

  test('the server never saw a plaintext password', async () => {
    const log = server.log();
    for (const user of ['zalando', 'foo_user', 'standby'])
      assert.ok(!log.includes(await password(client, namespace, user, cluster)), user);
    for (const plain of ['foobar', 'justice', 'odd-password']) assert.ok(!log.includes(`'${plain}'`), plain);
  });

  test('the second sync runs no DDL and makes no Kubernetes write', async () => {
    const before = ddlCount(server);
    client.counter.reset();
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles!.statements, 0);
    assert.equal(ddlCount(server), before, 'DDL statements in the server log');
    if (client.counter.writes())
      console.log(
        'DEBUG-H19',
        JSON.stringify(result),
        JSON.stringify((await client.list('Event', namespace)).map((e) => [e.reason, e.message, e.count])),
      );
    assert.equal(client.counter.writes(), 0, JSON.stringify(client.counter.snapshot()));
    assert.equal(result.retryable, undefined);
  });

  test('a group role that appears later is granted on the next sync', async () => {
    const admin = await server.admin();
    await admin.query('CREATE ROLE robot_zmon NOLOGIN');
    const result = await sync();
    assert.equal(result.roles!.statements, 1);
    assert.deepEqual((await roles(server)).robot_zmon_acid_monitoring!.member_of, ['robot_zmon']);
    const condition = (await rolesCondition(client, namespace, cluster))!;
    assert.ok(!condition.message!.includes('robot_zmon"'), condition.message);
  });

  test('a password changed in its Secret is set again, and only that one', async () => {
    const chosen = 'a-password-the-user-chose';
    await client.mergePatch(
      { kind: 'Secret', namespace, name: secretOf('foo_user', cluster) },
      { data: { password: Buffer.from(chosen).toString('base64') } },
    );
    const before = ddlCount(server);
    const result = await sync();
    assert.equal(result.roles!.statements, 1);
    assert.equal(ddlCount(server), before + 1);
    assert.equal(await server.login('foo_user', chosen), true);
    const told = (await rolesCondition(client, namespace, cluster))!;
    assert.equal(told.reason, 'SyncedWithWarnings');
    assert.ok(
      told.message!.includes(
        `role "foo_user" logged in with a password other than its Secret's; the Secret's password was set`,
      ),
      told.message,
    );
    const events = await client.list('Event', namespace);
    assert.ok(events.some((e) => e.type === 'Warning' && e.message.includes(`role "foo_user" logged in with`)));
    assert.equal((await sync()).roles!.statements, 0);
    assert.ok(!(await rolesCondition(client, namespace, cluster))!.message!.includes('foo_user'), 'said once');
  });

  test('flags removed from a role by hand come back; flags the manifest does not ask for are left alone', async () => {
    const admin = await server.admin();
    await admin.query('ALTER ROLE flags_all NOCREATEDB NOBYPASSRLS; ALTER ROLE foo_user CREATEDB');
    const result = await sync();
    assert.equal(result.roles!.statements, 1);
    const r = await roles(server);
    assert.deepEqual(flagsOf(r.flags_all!), ['INHERIT', 'CREATEROLE', 'CREATEDB', 'LOGIN', 'REPLICATION', 'BYPASSRLS']);
    assert.ok(r.foo_user!.rolcreatedb, 'never revoked');
  });

  test('the Teams API failing leaves team roles untouched and says why', async () => {
    const admin = await server.admin();
    await admin.query(`ALTER ROLE jdoe SET log_statement TO 'none'`);
    for (const [mode, message] of [
      ['error', "Teams API: team API query failed with status code 500 and message: 'the team service is down'"],
      ['garbage', 'Teams API: Teams API answer for team "acid" has no "member" list of names'],
      ['not-json', 'Teams API: Teams API answer for team "acid" is not JSON'],
    ] as const) {
      teams.mode = mode;
      const result = await sync();
      assert.equal(result.outcome, 'synced', result.error);
      assert.equal(result.retryable, undefined, `${mode}: not retried in a loop; the periodic sync tries again`);
      const condition = (await rolesCondition(client, namespace, cluster))!;
      assert.equal(condition.status, 'False');
      assert.equal(condition.reason, 'TeamsApiUnavailable');
      assert.ok(condition.message!.startsWith(`${message}; roles of team members left as they are`), condition.message);
      assert.equal(result.roles!.statements, 0, `${mode}: nothing runs`);
      assert.ok(
        condition.message!.includes(
          `role "testuser" is a team member's role (member of zalandos); left as it is while the Teams API is unavailable`,
        ),
        'the infrastructure definition of a team member does not take over',
      );
      const r = await roles(server);
      assert.deepEqual(r.jdoe!.setconfig, ['log_statement=none'], `${mode}: team role untouched`);
      assert.deepEqual(r.jdoe!.member_of, ['admin', 'zalandos']);
      assert.equal(r.testuser!.rolpassword, null);
    }
    const events = await client.list('Event', namespace);
    assert.ok(events.some((e) => e.reason === 'TeamsApiUnavailable' && e.message.includes('status code 500')));
    await teams.stop();
    const down = await sync();
    assert.equal(down.outcome, 'synced');
    assert.match(
      (await rolesCondition(client, namespace, cluster))!.message!,
      /^Teams API: Teams API http:\/\/127\.0\.0\.1:\d+\/api\/teams\/acid unreachable: /,
    );
    // back: the team role converges again
    await teams.start();
    config = { ...config, teams_api_url: teams.url };
    teams.mode = 'ok';
    const back = await sync();
    assert.equal(back.roles!.statements, 1);
    assert.deepEqual((await roles(server)).jdoe!.setconfig, ['log_statement=all']);
    assert.equal((await rolesCondition(client, namespace, cluster))!.reason, 'SyncedWithWarnings');
  });

  test('a wrong token type is reported without showing the token', async () => {
    await client.mergePatch(
      { kind: 'Secret', namespace, name: 'postgresql-operator' },
      { data: { 'read-only-token-type': Buffer.from('Basic').toString('base64') } },
    );
    await sync();
    const condition = (await rolesCondition(client, namespace, cluster))!;
    assert.match(
      condition.message!,
      new RegExp(
        `^Teams API: wrong token type in ${namespace}/postgresql-operator: read-only-token-type must be "Bearer"`,
      ),
    );
    assert.ok(!condition.message!.includes('testtoken'));
  });
});

describe('roles with md5 passwords', () => {
  const cluster = 'acid-md5';
  let client: KubeClient;
  let server: TestPostgres;
  let namespace: string;
  const config = configWith({});

  before(async () => {
    await installCrd();
    client = testClient();
    server = await startPostgres('md5');
    namespace = await createNamespace('roles-md5');
    connectRolesTo(server, namespace);
    await applyManifest(
      clusterManifest(cluster, {
        numberOfInstances: 2,
        users: { app_user: [], app_owner: ['createdb'] },
        databases: { app: 'app_owner' },
      }),
      namespace,
    );
  });

  after(async () => {
    await server.stop();
    client.close();
    await deleteNamespace(namespace);
  });

  test('passwords are stored as md5, every role logs in with its Secret, and a second sync runs no DDL', async () => {
    await syncCluster(syncContext(client, config), namespace, cluster);
    await superuserFromSecret(server, client, namespace, cluster);
    await masterUp(namespace, cluster);
    const first = await syncCluster(syncContext(client, config), namespace, cluster);
    assert.equal(first.outcome, 'synced', first.error);
    assert.equal(first.roles!.failed, 0);
    // admin does not exist in this server: the ADMIN clause waits for it, and the condition says so
    const condition = (await rolesCondition(client, namespace, cluster))!;
    assert.match(condition.message!, /role "app_user": admin role "admin" does not exist; skipped until it does/);
    const r = await roles(server);
    for (const user of ['app_user', 'app_owner', 'standby']) {
      assert.match(r[user]!.rolpassword!, /^md5[0-9a-f]{32}$/, user);
      assert.equal(await server.login(user, await password(client, namespace, user, cluster)), true, user);
    }
    // The superuser existed with a SCRAM verifier holding its Secret's password: kept as it is (no DDL), as a role
    // another operator made with md5 is kept on a takeover; only the manifest's password_encryption converts.
    assert.match(r.postgres!.rolpassword!, /^SCRAM-SHA-256\$/);
    assert.equal(await server.login('postgres', await password(client, namespace, 'postgres', cluster)), true);
    assert.equal(await server.login('app_owner', await password(client, namespace, 'app_owner', cluster), 'app'), true);
    const before = ddlCount(server);
    client.counter.reset();
    const second = await syncCluster(syncContext(client, config), namespace, cluster);
    assert.equal(second.roles!.statements, 0);
    assert.equal(ddlCount(server), before);
    assert.equal(client.counter.writes(), 0);
  });

  test('manifest password_encryption wins over the server setting and existing verifiers: md5 passwords move to SCRAM once', async () => {
    const raw = await client.get({ kind: 'postgresql', namespace, name: cluster });
    await applyManifest(
      {
        ...raw,
        metadata: { name: cluster },
        status: undefined,
        spec: { ...raw!.spec, postgresql: { version: '17', parameters: { password_encryption: 'scram-sha-256' } } },
      },
      namespace,
    );
    const moved = await syncCluster(syncContext(client, config), namespace, cluster);
    assert.equal(moved.roles!.statements, 3, 'app_user, app_owner, standby (postgres has SCRAM already)');
    const r = await roles(server);
    for (const user of ['app_user', 'app_owner', 'standby', 'postgres']) {
      assert.match(r[user]!.rolpassword!, /^SCRAM-SHA-256\$/, user);
      assert.equal(await server.login(user, await password(client, namespace, user, cluster)), true, user);
    }
    assert.equal((await syncCluster(syncContext(client, config), namespace, cluster)).roles!.statements, 0);
  });
});

describe('when not to connect', () => {
  let client: KubeClient;
  let namespace: string;

  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('roles-skip');
    // nothing listens there: a connection attempt would fail loudly
    Object.assign(process.env, {
      POSTGRES_HOST_TEMPLATE: '127.0.0.1:1',
      POSTGRES_SSLMODE: 'disable',
      OPERATOR_NAMESPACE: namespace,
    });
  });
  after(async () => {
    client.close();
    await deleteNamespace(namespace);
  });

  const manifest = (name: string, instances = 1) =>
    clusterManifest(name, { numberOfInstances: instances, users: { u: [] } });

  test('enable_database_access false: no condition, nothing pending', async () => {
    await applyManifest(manifest('acid-noaccess'), namespace);
    const config = configWith({ enable_database_access: 'false' });
    await syncCluster(syncContext(client, config), namespace, 'acid-noaccess');
    await masterUp(namespace, 'acid-noaccess');
    const result = await syncCluster(syncContext(client, config), namespace, 'acid-noaccess');
    assert.equal(result.outcome, 'synced');
    assert.equal(result.pending, undefined);
    assert.equal(result.roles, undefined);
    assert.equal(await rolesCondition(client, namespace, 'acid-noaccess'), undefined);
  });

  test('a master that cannot be reached: ConnectionFailed, retryable, said once', async () => {
    await applyManifest(manifest('acid-unreachable'), namespace);
    const config = configWith({});
    await syncCluster(syncContext(client, config), namespace, 'acid-unreachable');
    await masterUp(namespace, 'acid-unreachable');
    const result = await syncCluster(syncContext(client, config), namespace, 'acid-unreachable');
    assert.equal(result.outcome, 'synced');
    assert.equal(result.retryable, true);
    assert.match(result.pending!, /^connect to 127\.0\.0\.1:1 as postgres: /);
    assert.equal((await rolesCondition(client, namespace, 'acid-unreachable'))!.reason, 'ConnectionFailed');
    client.counter.reset();
    await syncCluster(syncContext(client, config), namespace, 'acid-unreachable');
    assert.equal(client.counter.writes(), 0, 'the same failure is not written again');
  });

  test('kubernetes_use_configmaps: waits for a ready pod labelled spilo-role=master', async () => {
    const sts = async () => (await client.get({ kind: 'StatefulSet', namespace, name: 'acid-cm' }))!;
    await applyManifest(manifest('acid-cm'), namespace);
    const config = configWith({ kubernetes_use_configmaps: 'true' });
    await syncCluster(syncContext(client, config), namespace, 'acid-cm');
    assert.match(
      (await rolesCondition(client, namespace, 'acid-cm'))!.message!,
      /^waiting for the master pod: no ready pod labelled spilo-role=master/,
    );
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'acid-cm-0',
        namespace,
        labels: { application: 'spilo', 'cluster-name': 'acid-cm', 'spilo-role': 'master' },
      },
      // the StatefulSet's image: a pod on another one would be flagged and recreated (enable_lazy_spilo_upgrade off)
      spec: { containers: [{ name: 'postgres', image: (await sts()).spec.template.spec.containers[0].image }] },
    };
    await client.create(pod);
    await client.mergePatch(
      { kind: 'Pod', namespace, name: 'acid-cm-0' },
      { status: { podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }] } },
      'status',
    );
    const result = await syncCluster(syncContext(client, config), namespace, 'acid-cm');
    // the master counts as up: the next step (connecting) is what fails here
    assert.match(result.pending!, /^connect to 127\.0\.0\.1:1/);
  });

  test('no instances: no database access at all', async () => {
    await applyManifest(manifest('acid-zero', 0), namespace);
    const result = await syncCluster(syncContext(client, configWith({})), namespace, 'acid-zero');
    assert.equal(result.pending, undefined);
    assert.equal(await rolesCondition(client, namespace, 'acid-zero'), undefined);
  });
});
