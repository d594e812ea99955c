// Prepared databases on a real PostgreSQL (initdb in a temp dir), driven by syncCluster on the test control plane;
// Patroni's and Spilo's parts (the master Endpoints, the superuser's password, the `admin` role) are played by the
// test. Zalando's v2.0.1 minimal manifest must come up as Zalando's operator makes it: its roles, memberships and
// settings are compared with the table of Zalando's docs/user.md, and its default privileges and schema ACL with a
// reference database where the test runs the statements Zalando's operator v1.15.1 runs (pkg/cluster/database.go).
// A second cluster checks the privileges by logging in as each role.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { OperatorConfig } from '../../lib/model/config';
import { syncCluster, type SyncResult } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
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
import { createNamespace, deleteNamespace } from './testenv';

/** A cluster on its own server, with the master up: what each describe block starts from. */
async function preparedCluster(prefix: string, manifest: { metadata: { name: string } }) {
  await installCrd();
  const client = testClient();
  const server = await startPostgres('scram-sha-256');
  const namespace = await createNamespace(prefix);
  connectRolesTo(server, namespace);
  const config: OperatorConfig = referenceConfig('v2.0.1');
  const name: string = manifest.metadata.name;
  // what Spilo creates at bootstrap: the admin role every <db>_owner names as ADMIN
  const admin = await server.admin();
  await admin.query('CREATE ROLE admin NOLOGIN CREATEDB');
  await applyManifest(manifest, namespace);
  const sync = (): Promise<SyncResult> => syncCluster(syncContext(client, config), namespace, name);
  const first = await sync();
  assert.equal(first.outcome, 'synced', first.error);
  await superuserFromSecret(server, client, namespace, name);
  await masterUp(namespace, name);
  return { client, server, namespace, name, sync };
}

/** A sync of an unchanged cluster: no statement, no DDL in the server log, no Kubernetes write. */
async function secondSyncIsQuiet(c: Awaited<ReturnType<typeof preparedCluster>>): Promise<void> {
  const before = ddlCount(c.server);
  c.client.counter.reset();
  const result = await c.sync();
  assert.equal(result.outcome, 'synced', result.error);
  assert.equal(result.roles!.statements, 0);
  assert.equal(ddlCount(c.server), before, 'DDL statements in the server log');
  assert.equal(c.client.counter.writes(), 0, JSON.stringify(c.client.counter.snapshot()));
}

/** @returns rows of a query as the superuser, in a database */
async function rows<T extends Record<string, unknown>>(server: TestPostgres, database: string, sql: string) {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser,
    password: server.password,
    database,
  });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const ROLES_SQL = `
SELECT a.rolname, a.rolcanlogin AS login, a.rolinherit AS inherit, s.setconfig,
       ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = a.oid AND NOT m.admin_option ORDER BY 1) AS member_of,
       ARRAY(SELECT u.rolname::text FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member
              WHERE m.roleid = a.oid AND m.admin_option ORDER BY 1) AS admins
  FROM pg_roles a LEFT JOIN pg_db_role_setting s ON s.setrole = a.oid AND s.setdatabase = 0
 WHERE a.rolname LIKE 'bar\\_%' ORDER BY 1`;

// Every default ACL entry and the ACL items of each schema, as text (grantor included), sorted. (A schema's items are
// sorted too: Zalando grants USAGE in two statements, this operator in one, which orders the same items differently.)
const ACL_SQL = `
SELECT pg_get_userbyid(d.defaclrole) || ' ' || COALESCE(n.nspname, '*') || ' ' || d.defaclobjtype::text || ' ' ||
       d.defaclacl::text AS entry
  FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
UNION ALL
SELECT 'schema ' || nspname || ' ' || pg_get_userbyid(nspowner) || ' ' ||
       array_to_string(ARRAY(SELECT unnest(nspacl)::text ORDER BY 1), ',') FROM pg_namespace
 WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
 ORDER BY 1`;

/**
 * The statements Zalando's operator v1.15.1 runs for a new prepared database `db` with the default schema `data`
 * (syncDatabases: the database-wide default privileges of <db>_owner; syncPreparedSchemas: the schema created as the
 * database owner, then its default privileges for the owner roles), written out for `db`.
 */
function zalandoStatements(db: string): string[] {
  const schemaPrivileges = (owner: string, prefix: string) => [
    `SET ROLE TO "${owner}"`,
    `GRANT USAGE ON SCHEMA "data" TO "${prefix}_reader","${prefix}_writer"`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA "data" GRANT SELECT ON TABLES TO "${prefix}_reader"`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA "data" GRANT SELECT ON SEQUENCES TO "${prefix}_reader"`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA "data" GRANT INSERT, UPDATE, DELETE ON TABLES TO "${prefix}_writer"`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA "data" GRANT USAGE, UPDATE ON SEQUENCES TO "${prefix}_writer"`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA "data" GRANT EXECUTE ON FUNCTIONS TO "${prefix}_reader","${prefix}_writer"`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA "data" GRANT USAGE ON TYPES TO "${prefix}_reader","${prefix}_writer"`,
  ];
  return [
    `SET ROLE TO "${db}_owner"`,
    `ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO "${db}_writer","${db}_reader"`,
    `ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO "${db}_reader"`,
    `ALTER DEFAULT PRIVILEGES GRANT SELECT ON SEQUENCES TO "${db}_reader"`,
    `ALTER DEFAULT PRIVILEGES GRANT INSERT, UPDATE, DELETE ON TABLES TO "${db}_writer"`,
    `ALTER DEFAULT PRIVILEGES GRANT USAGE, UPDATE ON SEQUENCES TO "${db}_writer"`,
    `ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO "${db}_reader","${db}_writer"`,
    `ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO "${db}_reader","${db}_writer"`,
    `RESET ROLE`,
    `SET ROLE TO "${db}_owner"`,
    `CREATE SCHEMA IF NOT EXISTS "data" AUTHORIZATION "${db}_data_owner"`,
    ...schemaPrivileges(`${db}_data_owner`, db),
    ...[`${db}_owner`, `${db}_data_owner`].flatMap((owner) => schemaPrivileges(owner, `${db}_data`)),
    'RESET ROLE',
  ];
}

describe("Zalando's v2.0.1 minimal manifest: preparedDatabases bar: {}", () => {
  let c: Awaited<ReturnType<typeof preparedCluster>>;

  before(async () => {
    c = await preparedCluster(
      'prepared-min',
      reference('v2.0.1/minimal-postgres-manifest.yaml') as { metadata: { name: string } },
    );
  });

  after(async () => {
    await c.server.stop();
    c.client.close();
    await deleteNamespace(c.namespace);
  });

  test('roles, memberships, admins and search_path as in the table of Zalando docs/user.md', async () => {
    const result = await c.sync();
    assert.equal(result.outcome, 'synced', result.error);
    const condition = result.roles;
    assert.equal(condition?.failed, 0, JSON.stringify(condition));
    assert.deepEqual(condition?.notes, []);
    const got = (await rows<Record<string, unknown>>(c.server, 'postgres', ROLES_SQL)).map(
      (r) => `${r.rolname} login=${r.login} inherit=${r.inherit} in[${r.member_of}] admins[${r.admins}] ${r.setconfig}`,
    );
    assert.deepEqual(got, [
      'bar_data_owner login=false inherit=true in[] admins[bar_owner] search_path="$user", data',
      'bar_data_reader login=false inherit=true in[] admins[bar_data_owner] search_path="$user", data',
      'bar_data_writer login=false inherit=true in[bar_data_reader] admins[bar_data_owner] search_path="$user", data',
      'bar_owner login=false inherit=true in[] admins[admin] search_path="$user", data',
      'bar_reader login=false inherit=true in[] admins[bar_owner] search_path="$user", data',
      'bar_writer login=false inherit=true in[bar_reader] admins[bar_owner] search_path="$user", data',
    ]);
    const events = (await c.client.list('Event', c.namespace)).filter((e) => e.reason === 'RolesSynced');
    assert.ok(
      events.some((e) =>
        String(e.message).includes(
          'Database bar: created schema data owned by bar_data_owner; granted USAGE on 1 schema; set 25 default privileges',
        ),
      ),
      JSON.stringify(events.map((e) => e.message)),
    );
    // NOLOGIN roles get no Secret (Zalando: generateSingleUserSecret skips NOLOGIN roles)
    const secrets = (await c.client.list('Secret', c.namespace)).map((s) => s.metadata?.name as string);
    assert.deepEqual(secrets.filter((s) => s.startsWith('bar')).sort(), []);
    const databases = await rows(
      c.server,
      'postgres',
      `SELECT datname, pg_get_userbyid(datdba) AS owner
      FROM pg_database WHERE datname IN ('bar', 'foo') ORDER BY 1`,
    );
    assert.deepEqual(databases, [
      { datname: 'bar', owner: 'bar_owner' },
      { datname: 'foo', owner: 'zalando' },
    ]);
  });

  test("default privileges and the schema's ACL equal those Zalando's statements make", async () => {
    const admin = await c.server.admin();
    await admin.query('CREATE DATABASE bar_reference OWNER bar_owner');
    await admin.end();
    // the reference database: Zalando's statements for a database "bar", run in another database
    const reference = new pg.Client({
      host: c.server.host,
      port: c.server.port,
      user: c.server.superuser,
      password: c.server.password,
      database: 'bar_reference',
    });
    await reference.connect();
    for (const statement of zalandoStatements('bar')) await reference.query(statement);
    await reference.end();
    const ours = (await rows<{ entry: string }>(c.server, 'bar', ACL_SQL)).map((r) => r.entry);
    const theirs = (await rows<{ entry: string }>(c.server, 'bar_reference', ACL_SQL)).map((r) => r.entry);
    assert.ok(
      ours.some((e) => e.startsWith('schema data bar_data_owner')),
      ours.join('\n'),
    );
    assert.deepEqual(ours, theirs);
  });

  test('the second sync runs no DDL and makes no Kubernetes write', () => secondSyncIsQuiet(c));

  test('a default privilege revoked by hand is granted again, and nothing else runs', async () => {
    await rows(c.server, 'bar', 'ALTER DEFAULT PRIVILEGES FOR ROLE bar_owner REVOKE SELECT ON TABLES FROM bar_reader');
    const before = ddlCount(c.server);
    const result = await c.sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles!.statements, 1);
    assert.equal(ddlCount(c.server), before + 1);
    const entries = (await rows<{ entry: string }>(c.server, 'bar', ACL_SQL)).map((r) => r.entry);
    assert.ok(
      entries.includes('bar_owner * r {bar_owner=arwdDxt/bar_owner,bar_reader=r/bar_owner,bar_writer=awd/bar_owner}'),
    );
    await secondSyncIsQuiet(c);
  });
});

describe('prepared database privileges, checked by logging in as each role', () => {
  let c: Awaited<ReturnType<typeof preparedCluster>>;
  const as = async (user: string, sql: string): Promise<true | string> => {
    const client = new pg.Client({
      host: c.server.host,
      port: c.server.port,
      user,
      password: await password(c.client, c.namespace, user, c.name),
      database: 'shop',
    });
    try {
      await client.connect();
      await client.query(sql);
      return true;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  before(async () => {
    c = await preparedCluster(
      'prepared',
      clusterManifest('acid-prepared', {
        preparedDatabases: {
          shop: {
            defaultUsers: true,
            // pgcrypto is trusted (created by shop_owner), pageinspect is not (created by the superuser)
            extensions: { pgcrypto: 'data', pageinspect: 'public', 'x"; DROP ROLE postgres; --': 'data' },
            schemas: { data: {}, sales: { defaultUsers: true }, "o'brien": {} },
          },
          // hostile names: skipped with a note naming the field, never sent
          'shop"; DROP DATABASE shop; --': { defaultUsers: true },
        },
      }),
    );
    const result = await c.sync();
    assert.equal(result.outcome, 'synced', result.error);
    assert.equal(result.roles?.failed, 0, JSON.stringify(result.roles));
  });

  after(async () => {
    await c.server.stop();
    c.client.close();
    await deleteNamespace(c.namespace);
  });

  test('hostile names are skipped, each named in the RolesSynced condition', async () => {
    const object = await c.client.get({ kind: 'postgresql', namespace: c.namespace, name: c.name });
    const condition = (object?.status?.conditions as Array<Record<string, string>>).find(
      (x) => x.type === 'RolesSynced',
    );
    assert.equal(condition?.reason, 'SyncedWithWarnings');
    for (const field of [
      `spec.preparedDatabases.shop"; DROP DATABASE shop; -- skipped`,
      `spec.preparedDatabases.shop.schemas.o'brien skipped`,
      `spec.preparedDatabases.shop.extensions.x"; DROP ROLE postgres; -- skipped`,
    ])
      assert.ok(condition?.message?.includes(field), `${field} in ${condition?.message}`);
    const names = await rows(
      c.server,
      'postgres',
      `SELECT rolname AS name FROM pg_roles WHERE rolname LIKE '%"%'
      UNION ALL SELECT datname FROM pg_database WHERE datname LIKE '%"%'`,
    );
    assert.deepEqual(names, []);
    assert.deepEqual(await rows(c.server, 'postgres', "SELECT 1 AS one FROM pg_roles WHERE rolname = 'postgres'"), [
      { one: 1 },
    ]);
  });

  test('the _user roles log in with the passwords of their Secrets', async () => {
    for (const user of ['shop_owner_user', 'shop_reader_user', 'shop_writer_user', 'shop_sales_owner_user'])
      assert.equal(await as(user, 'SELECT 1'), true, user);
    // the NOLOGIN roles have neither a Secret nor a login
    assert.equal(
      await c.client.get({ kind: 'Secret', namespace: c.namespace, name: secretOf('shop_owner', c.name) }),
      undefined,
    );
    assert.match(
      String(await c.server.login('shop_owner', 'any', 'shop')),
      /not permitted to log in|authentication failed/,
    );
  });

  test('what the owner creates, the reader reads and the writer writes; nobody else', async () => {
    assert.equal(
      await as(
        'shop_owner_user',
        "CREATE TABLE data.items (id serial PRIMARY KEY, name text); INSERT INTO items (name) VALUES ('a')",
      ),
      true,
    );
    // search_path "$user", data, sales: unqualified names find data.items
    assert.equal(await as('shop_reader_user', 'SELECT * FROM items'), true);
    assert.match(String(await as('shop_reader_user', "INSERT INTO items (name) VALUES ('r')")), /permission denied/);
    for (const sql of [
      "INSERT INTO items (name) VALUES ('w')",
      "UPDATE items SET name = 'x' WHERE name = 'w'",
      "DELETE FROM items WHERE name = 'x'",
    ])
      assert.equal(await as('shop_writer_user', sql), true, sql);
    assert.match(String(await as('shop_writer_user', 'DROP TABLE items')), /must be owner/);
    // the schema roles of sales: their own schema only
    assert.equal(
      await as('shop_sales_owner_user', 'CREATE TABLE sales.orders (id int); INSERT INTO sales.orders VALUES (1)'),
      true,
    );
    assert.equal(await as('shop_sales_reader_user', 'SELECT * FROM orders'), true);
    assert.match(String(await as('shop_sales_reader_user', 'INSERT INTO orders VALUES (2)')), /permission denied/);
    assert.equal(await as('shop_sales_writer_user', 'INSERT INTO orders VALUES (2)'), true);
    assert.match(String(await as('shop_sales_reader_user', 'SELECT * FROM data.items')), /permission denied/);
    // the database roles reach every schema
    assert.equal(await as('shop_reader_user', 'SELECT * FROM sales.orders'), true);
  });

  test('extensions are in their schemas', async () => {
    const extensions = await rows(
      c.server,
      'shop',
      `SELECT e.extname, n.nspname, pg_get_userbyid(e.extowner) AS owner
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1`,
    );
    assert.deepEqual(extensions, [
      { extname: 'pageinspect', nspname: 'public', owner: 'postgres' },
      { extname: 'pgcrypto', nspname: 'data', owner: 'shop_owner' },
    ]);
  });

  test('the second sync runs no DDL and makes no Kubernetes write', () => secondSyncIsQuiet(c));
});
