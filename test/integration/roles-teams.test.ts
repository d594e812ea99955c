// Roles as Zalando's users run them, on a real PostgreSQL and the test control plane, with the Teams API fake:
// PostgresTeam objects add members and their removal deprecates them (renamed, NOLOGIN) until they return;
// database owners get additional_owner_roles; infrastructure roles get per-cluster Secrets whose password logs in
// (also when a manifest user has the same name); a parameter removed from the config is reset; two syncs of one
// cluster started together never run DDL at the same time (the Lease); the placeholder Teams API URL is not asked.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import type { KubeClient } from '../../lib/k8s/client';
import { installCrd as installCrdObject } from '../../lib/k8s/crd';
import { parseOperatorConfig, type OperatorConfig } from '../../lib/model/config';
import type { Condition } from '../../lib/model/postgresql';
import { syncCluster, type SyncResult } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, syncContext, testClient } from './operator';
import { startPostgres, type TestPostgres } from './postgres';
import { clusterManifest, connectRolesTo, masterUp, password, secretOf, superuserFromSecret } from './roles-helpers';
import { applyTeamsToken, TeamsApi } from './roles-teams-api';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

const repoRoot = new URL('../../', import.meta.url).pathname;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function configWith(data: Record<string, string>): OperatorConfig {
  const result = parseOperatorConfig(data);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

interface RoleRow {
  rolname: string;
  rolcanlogin: boolean;
  member_of: string[];
  setconfig: string[] | null;
}

async function roles(server: TestPostgres): Promise<Record<string, RoleRow>> {
  const admin = await server.admin();
  const { rows } = await admin.query<RoleRow>(`SELECT a.rolname, a.rolcanlogin, s.setconfig,
      ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_authid g ON g.oid = m.roleid WHERE m.member = a.oid ORDER BY 1) AS member_of
    FROM pg_authid a LEFT JOIN pg_db_role_setting s ON s.setrole = a.oid AND s.setdatabase = 0`);
  await admin.end();
  return Object.fromEntries(rows.map((r) => [r.rolname, r]));
}

const condition = async (client: KubeClient, namespace: string, name: string): Promise<Condition> =>
  ((await client.get({ kind: 'postgresql', namespace, name }))?.status?.conditions as Condition[]).find(
    (c) => c.type === 'RolesSynced',
  )!;

/** @returns the server PIDs of the DDL statements logged after `offset` characters of the log */
const ddlPids = (server: TestPostgres, offset: number): string[] =>
  server
    .log()
    .slice(offset)
    .split('\n')
    .flatMap((line) => {
      const m = /\[(\d+)\] LOG:\s+statement: (CREATE|ALTER|GRANT|DROP|REVOKE)/.exec(line);
      return m ? [m[1]!] : [];
    });

describe('PostgresTeam, member deprecation, owner roles, infrastructure Secrets, RESET ALL, the Lease', () => {
  const cluster = 'acid-teams';
  let client: KubeClient;
  let server: TestPostgres;
  let teams: TeamsApi;
  let namespace: string;
  let config: OperatorConfig;
  const settings: Record<string, string> = {};
  const sync = (): Promise<SyncResult> => syncCluster(syncContext(client, config), namespace, cluster);
  const team = (spec: Record<string, unknown>) => ({
    apiVersion: 'acid.zalan.do/v1',
    kind: 'PostgresTeam',
    metadata: { name: 'custom-team-membership' },
    spec,
  });

  before(async () => {
    await installCrd();
    client = testClient();
    await installCrdObject(client, parse(readFileSync(`${repoRoot}manifests/postgresteam.crd.yaml`, 'utf8')));
    server = await startPostgres('scram-sha-256');
    teams = new TeamsApi('testtoken');
    await teams.start();
    teams.teams = { acid: ['alice'], e2e: ['erin'] };
    namespace = await createNamespace('roles-teams');
    connectRolesTo(server, namespace);
    Object.assign(settings, {
      watched_namespace: namespace,
      enable_teams_api: 'true',
      teams_api_url: teams.url,
      enable_postgres_team_crd: 'true',
      enable_team_member_deprecation: 'true',
      additional_owner_roles: 'cron_admin',
      team_api_role_configuration: 'log_statement:all,work_mem:64MB',
      infrastructure_roles_secrets:
        'secretname:infra-app,userkey:user,passwordkey:password;secretname:infra-monitor,userkey:user,passwordkey:password',
    });
    config = configWith(settings);
    for (const [name, user, pw] of [
      ['infra-app', 'app', 'app-infra-password'],
      ['infra-monitor', 'monitor', 'monitor-infra-password'],
    ] as const)
      await applyManifest(
        { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { user: b64(user), password: b64(pw) } },
        namespace,
      );
    await applyTeamsToken(namespace, 'testtoken');
    // what Spilo creates at bootstrap: the admin, PAM and cron_admin roles
    const admin = await server.admin();
    await admin.query(
      'CREATE ROLE admin NOLOGIN CREATEDB; CREATE ROLE zalandos NOLOGIN; CREATE ROLE cron_admin NOLOGIN',
    );
    await applyManifest(
      clusterManifest(cluster, {
        users: { app: [], owner_user: [], reader: [] },
        databases: { appdb: 'owner_user' },
      }),
      namespace,
    );
    assert.equal((await sync()).pending?.startsWith('waiting for the master pod'), true);
    await masterUp(namespace, cluster);
    await superuserFromSecret(server, client, namespace, cluster);
  });

  after(async () => {
    await teams.stop();
    await server.stop();
    client.close();
    await deleteNamespace(namespace);
  });

  test('a PostgresTeam adds the members of an additional team and additional members; owners get cron_admin', async () => {
    await applyManifest(
      team({ additionalTeams: { acid: ['e2e'] }, additionalMembers: { acid: ['elephant'] } }),
      namespace,
    );
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles!.failed, 0);
    assert.deepEqual([...new Set(teams.requests)].sort(), ['GET /api/teams/acid', 'GET /api/teams/e2e']);
    const r = await roles(server);
    for (const member of ['alice', 'erin', 'elephant']) {
      assert.equal(r[member]?.rolcanlogin, true, member);
      assert.deepEqual(r[member]!.member_of, ['admin', 'zalandos'], member);
      assert.deepEqual(r[member]!.setconfig, ['log_statement=all', 'work_mem=64MB'], member);
    }
    assert.deepEqual(r.owner_user!.member_of, ['cron_admin']);
    assert.deepEqual(r.reader!.member_of, []);
  });

  test('infrastructure roles get per-cluster Secrets whose password logs in, a same-named manifest user too', async () => {
    assert.equal(await password(client, namespace, 'monitor', cluster), 'monitor-infra-password');
    assert.equal(await server.login('monitor', 'monitor-infra-password'), true);
    assert.equal(await password(client, namespace, 'app', cluster), 'app-infra-password');
    assert.equal(await server.login('app', await password(client, namespace, 'app', cluster)), true);
    for (const user of ['owner_user', 'reader'])
      assert.equal(await server.login(user, await password(client, namespace, user, cluster)), true, user);
    const c = await condition(client, namespace, cluster);
    assert.equal(c.reason, 'SyncedWithWarnings');
    assert.ok(
      c.message!.includes(
        'the Secret of manifest user "app" holds the password of the infrastructure role of that name',
      ),
      c.message,
    );
    const events = await client.list('Event', namespace);
    assert.ok(
      events.some((e) => e.reason === 'InfrastructureRoleSecret' && e.message.includes(secretOf('monitor', cluster))),
    );
  });

  test('the second sync runs no DDL and makes no Kubernetes write', async () => {
    const offset = server.log().length;
    client.counter.reset();
    const result = await sync();
    assert.equal(result.roles!.statements, 0);
    assert.deepEqual(ddlPids(server, offset), []);
    assert.equal(client.counter.writes(), 0, JSON.stringify(client.counter.snapshot()));
  });

  test('removing the PostgresTeam deprecates the members it added (renamed, NOLOGIN); adding it back restores them', async () => {
    const admin = await server.admin();
    await admin.query('GRANT cron_admin TO erin');
    const removed = await kubectl(['delete', 'postgresteam', 'custom-team-membership', '-n', namespace]);
    assert.equal(removed.code, 0, removed.stderr);
    await sync();
    let r = await roles(server);
    assert.equal(r.erin, undefined);
    assert.equal(r.elephant, undefined);
    assert.equal(r.erin_deleted?.rolcanlogin, false);
    assert.equal(r.elephant_deleted?.rolcanlogin, false);
    assert.equal(r.alice?.rolcanlogin, true, 'a member of the owning team stays');
    assert.equal((await sync()).roles!.statements, 0, 'deprecated roles are left as they are');

    await applyManifest(
      team({ additionalTeams: { acid: ['e2e'] }, additionalMembers: { acid: ['elephant'] } }),
      namespace,
    );
    await sync();
    r = await roles(server);
    assert.equal(r.erin_deleted, undefined);
    assert.equal(r.erin?.rolcanlogin, true);
    assert.deepEqual(r.erin!.member_of, ['admin', 'cron_admin', 'zalandos'], 'the role came back, grants and all');
    assert.equal(r.elephant?.rolcanlogin, true);
    await admin.end();
  });

  test('a role parameter removed from the config is reset (RESET ALL, then the wanted ones)', async () => {
    config = configWith({ ...settings, team_api_role_configuration: 'log_statement:all' });
    const result = await sync();
    assert.equal(result.roles!.failed, 0);
    const r = await roles(server);
    for (const member of ['alice', 'erin', 'elephant']) assert.deepEqual(r[member]!.setconfig, ['log_statement=all']);
    assert.equal((await sync()).roles!.statements, 0);
  });

  test('two syncs of one cluster started together: one runs the DDL, under the Lease; the other finds it done', async () => {
    const admin = await server.admin();
    await admin.query(`ALTER SYSTEM SET log_line_prefix = '%m [%p] '`);
    await admin.query('SELECT pg_reload_conf()');
    await admin.end();
    await client.mergePatch(
      { kind: 'postgresql', namespace, name: cluster },
      { spec: { users: { late_a: [], late_b: ['createdb'], late_c: [] }, databases: { late_db: 'late_a' } } },
    );
    const offset = server.log().length;
    const results = await Promise.all([sync(), sync()]);
    for (const result of results) assert.ok(['synced', 'busy'].includes(result.outcome), result.error);
    const pids = new Set(ddlPids(server, offset));
    assert.ok(ddlPids(server, offset).length >= 4, server.log().slice(offset));
    assert.equal(pids.size, 1, `DDL from more than one session: ${[...pids].join(', ')}`);
    const r = await roles(server);
    assert.ok(r.late_a && r.late_b && r.late_c);
    assert.deepEqual(r.late_a.member_of, ['cron_admin']);
  });

  test("the Teams API at Zalando's placeholder URL is not asked, and the condition says so", async () => {
    const before = teams.requests.length;
    // PostgresTeam objects still read, member deprecation on: the API's members are unknown, not gone
    config = configWith({ ...settings, teams_api_url: 'https://teams.example.com/api/' });
    const result = await sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(teams.requests.length, before);
    const c = await condition(client, namespace, cluster);
    assert.equal(c.status, 'True');
    assert.match(c.message!, /Teams API not asked: enable_teams_api is on but teams_api_url is the placeholder/);
    const r = await roles(server);
    for (const member of ['alice', 'erin', 'elephant'])
      assert.equal(r[member]?.rolcanlogin, true, `${member}: team roles are left as they are, none deprecated`);
  });
});
