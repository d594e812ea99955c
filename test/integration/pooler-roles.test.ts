// The connection pooler in PostgreSQL, on a real server (initdb in a temp dir) driven by syncCluster on the test
// control plane: the pooler role logs in with its Secret's password; <schema>.user_lookup(text) is in every database,
// SECURITY DEFINER, executable by the pooler role only, and answers what PgBouncer's auth_query asks; a second sync
// runs no DDL; a new database gets the function, a damaged one is repaired, and Zalando's own is kept as it is.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import type { OperatorConfig } from '../../lib/model/config';
import { syncCluster, type SyncResult } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { startPostgres, type TestPostgres } from './postgres';
import { connectRolesTo, ddlCount, masterUp, password, superuserFromSecret } from './roles-helpers';
import { createNamespace, deleteNamespace } from './testenv';

const cluster = 'acid-pooled';

// Zalando v1.15.1's own statements (pkg/cluster/database.go, connectionPoolerLookup), as its operator leaves them.
const ZALANDO_LOOKUP = `
  CREATE SCHEMA IF NOT EXISTS pooler;
  CREATE OR REPLACE FUNCTION pooler.user_lookup(
    in i_username text, out uname text, out phash text)
  RETURNS record AS $$
  BEGIN
    SELECT usename, passwd FROM pg_catalog.pg_shadow
    WHERE usename = i_username INTO uname, phash;
    RETURN;
  END;
  $$ LANGUAGE plpgsql SECURITY DEFINER;
  REVOKE ALL ON FUNCTION pooler.user_lookup(text) FROM public, pooler;
  GRANT EXECUTE ON FUNCTION pooler.user_lookup(text) TO pooler;
  GRANT USAGE ON SCHEMA pooler TO pooler;`;

describe('connection pooler in PostgreSQL', () => {
  let client: KubeClient;
  let server: TestPostgres;
  let namespace: string;
  let config: OperatorConfig;
  const sync = async (): Promise<SyncResult> => {
    const result = await syncCluster(syncContext(client, config), namespace, cluster);
    assert.equal(result.outcome, 'synced', result.error);
    return result;
  };
  /** Runs `sql` in `database` as `user` (the superuser by default) and returns the rows or the error message. */
  const run = async (database: string, sql: string, user?: { name: string; password: string }) => {
    const admin = await server.admin();
    const pg = (await import('pg')).default;
    const c = user
      ? new pg.Client({ host: server.host, port: server.port, user: user.name, password: user.password, database })
      : new pg.Client({ host: server.host, port: server.port, user: 'postgres', password: server.password, database });
    await admin.end();
    await c.connect();
    try {
      return (await c.query(sql)).rows as Array<Record<string, unknown>>;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await c.end();
    }
  };

  before(async () => {
    await installCrd();
    client = testClient();
    server = await startPostgres('scram-sha-256');
    namespace = await createNamespace('pooler-roles');
    connectRolesTo(server, namespace);
    config = referenceConfig('v2.0.1');
    // what Spilo creates at bootstrap: the admin role (team_admin_role) the manifest users get as ADMIN
    const admin = await server.admin();
    await admin.query('CREATE ROLE admin NOLOGIN CREATEDB');
    await admin.end();
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    manifest.metadata = { name: cluster };
    Object.assign(manifest.spec, {
      enableConnectionPooler: true,
      users: { app_owner: ['createdb'] },
      databases: { app: 'app_owner', reports: 'app_owner' },
    });
    await applyManifest(manifest, namespace);
    await sync();
    await masterUp(namespace, cluster);
    await superuserFromSecret(server, client, namespace, cluster);
  });

  after(async () => {
    await server?.stop();
    client?.close();
    await deleteNamespace(namespace);
  });

  test('the pooler role logs in; the lookup function is in every database, for the pooler role only', async () => {
    const result = await sync();
    assert.deepEqual([result.roles?.failed, result.roles?.notes], [0, []], JSON.stringify(result.roles));
    const poolerPassword = await password(client, namespace, 'pooler', cluster);
    assert.equal(await server.login('pooler', poolerPassword), true);
    const appPassword = await password(client, namespace, 'app_owner', cluster);
    for (const database of ['postgres', 'app', 'reports']) {
      const [row] = (await run(
        database,
        `SELECT p.prosecdef, pg_catalog.has_function_privilege('app_owner', p.oid, 'EXECUTE') AS app_can
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'pooler' AND p.proname = 'user_lookup'`,
      )) as Array<Record<string, unknown>>;
      assert.deepEqual(row, { prosecdef: true, app_can: false }, database);
      // what PgBouncer's auth_query runs, as the pooler role: the verifier of a user it never saw
      const lookedUp = await run(database, "SELECT * FROM pooler.user_lookup('app_owner')", {
        name: 'pooler',
        password: poolerPassword,
      });
      assert.ok(Array.isArray(lookedUp), `${database}: ${String(lookedUp)}`);
      assert.equal(lookedUp[0]!.uname, 'app_owner');
      assert.match(String(lookedUp[0]!.phash), /^SCRAM-SHA-256\$/);
      const refused = await run(database, "SELECT * FROM pooler.user_lookup('postgres')", {
        name: 'app_owner',
        password: appPassword,
      });
      assert.match(String(refused), /permission denied/, database);
    }
  });

  test('a second sync runs no DDL', async () => {
    const before = ddlCount(server);
    const result = await sync();
    assert.equal(result.roles?.statements, 0);
    assert.equal(ddlCount(server), before);
  });

  test('a new database gets the function; a damaged one is repaired; the rest are left alone', async () => {
    assert.deepEqual(await run('postgres', 'CREATE DATABASE extra'), []);
    assert.deepEqual(await run('app', 'GRANT EXECUTE ON FUNCTION pooler.user_lookup(text) TO PUBLIC'), []);
    const result = await sync();
    assert.equal(result.roles?.statements, 2, JSON.stringify(result.roles));
    const lookedUp = await run('extra', "SELECT uname FROM pooler.user_lookup('pooler')", {
      name: 'pooler',
      password: await password(client, namespace, 'pooler', cluster),
    });
    assert.deepEqual(lookedUp, [{ uname: 'pooler' }]);
    const [row] = (await run(
      'app',
      "SELECT pg_catalog.has_function_privilege('app_owner', 'pooler.user_lookup(text)', 'EXECUTE') AS app_can",
    )) as Array<Record<string, unknown>>;
    assert.equal(row!.app_can, false);
  });

  test("Zalando's own lookup function is recognised: no DDL", async () => {
    assert.deepEqual(await run('postgres', 'CREATE DATABASE taken_over'), []);
    const installed = await run('taken_over', ZALANDO_LOOKUP);
    assert.notEqual(typeof installed, 'string', String(installed));
    const before = ddlCount(server);
    const result = await sync();
    assert.equal(result.roles?.statements, 0, JSON.stringify(result.roles));
    assert.equal(ddlCount(server), before);
  });
});
