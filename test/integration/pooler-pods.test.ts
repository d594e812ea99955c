// testenv: full
// Real PgBouncer in front of real Patroni: the operator syncs a manifest with both connection poolers,
// kube-controller-manager and kwok make the pods, scripts/testenv/patroni-pods.ts runs Patroni + PostgreSQL behind
// the database pods and scripts/testenv/pooler-pods.ts runs Debian's pgbouncer behind the pooler pods, configured
// from their environment as Zalando's pooler image is. A client connects through the master pooler pod as a
// manifest user whose password PgBouncer never saw (auth_query over user_lookup), the replica pooler answers
// read-only, and after a switchover the master pooler reaches the new master.
// Needs pod IPs that are local addresses: run-integration.sh runs this phase in scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { PatroniClient, patroniUrl } from '../../lib/patroni';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { findPatroniTools, removeIfInterrupted, until } from '../../scripts/testenv/patroni-process';
import { PatroniPods, patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { PoolerPods, poolerPodsSkipReason } from '../../scripts/testenv/pooler-pods';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { password } from './roles-helpers';
import { startMembers, syncUntilRolesSynced } from './full-plane-cluster';
import { createNamespace, deleteNamespace } from './testenv';

const name = 'acid-minimal-cluster';
const tools = findPatroniTools();
const skip = (await patroniPodsSkipReason()) || poolerPodsSkipReason();

let client: KubeClient;
let databasePods: PatroniPods | undefined;
let poolerPods: PoolerPods | undefined;
let namespace = '';
const dir = mkdtempSync(join(tmpdir(), 'pooler-pods-'));
const forget = removeIfInterrupted(dir);
const log = (line: string) => {
  if (process.env.PATRONI_PODS_LOG) console.error(line);
};

/** The pods of a label selector, by name: IP and role label. */
async function podsOf(selector: string): Promise<Array<{ name: string; ip: string; role?: string }>> {
  return (await client.list('Pod', namespace, selector))
    .filter((p: KubeObject) => p.status?.podIP && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
    .map((p: KubeObject) => ({
      name: p.metadata!.name!,
      ip: p.status.podIP,
      role: p.metadata!.labels?.['spilo-role'],
    }));
}

/** Runs `sql` through a pooler pod as a manifest user; the error message when it fails. */
async function through(ip: string, sql: string): Promise<Array<Record<string, unknown>> | string> {
  const user = 'foo_user';
  const c = new pg.Client({
    host: ip,
    port: 5432,
    user,
    password: await password(client, namespace, user, name),
    database: 'foo',
    connectionTimeoutMillis: 5_000,
  });
  try {
    await c.connect();
    return (await c.query(sql)).rows as Array<Record<string, unknown>>;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const poolerIp = async (pooler: string) =>
  until(`a Running pod of ${pooler}`, 90_000, async () => (await podsOf(`connection-pooler=${pooler}`))[0]?.ip);

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    // The members and PgBouncers run as `postgres` (when root) under `dir`: they must get through it.
    chmodSync(dir, 0o755);
    await installCrd();
    client = testClient();
    namespace = await createNamespace('pooler-pods');
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    Object.assign(manifest.spec, {
      enableConnectionPooler: true,
      enableReplicaConnectionPooler: true,
      connectionPooler: { numberOfInstances: 1, mode: 'transaction' },
    });
    await applyManifest(manifest, namespace);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    await syncCluster(ctx, namespace, name);
    databasePods = startMembers(namespace, tools, join(dir, 'db'), log);
    // The role step (the pooler role and its lookup function) once the master answers.
    await syncUntilRolesSynced(ctx, client, namespace, name);
    poolerPods = new PoolerPods({
      kubeconfig: process.env.KUBECONFIG!,
      namespace,
      dir: join(dir, 'bouncers'),
      runAs: tools.runAs,
      log,
    });
    poolerPods.start();
  },
  { timeout: 300_000 },
);

after(
  async () => {
    await poolerPods?.stop();
    await databasePods?.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    rmSync(dir, { recursive: true, force: true });
    forget();
  },
  { timeout: 90_000 },
);

test('a manifest user connects through the master pooler: the master, its password looked up', { skip }, async () => {
  const ip = await poolerIp(`${name}-pooler`);
  const rows = await until(
    'a query through the master pooler',
    60_000,
    async () => {
      const r = await through(ip, 'SELECT current_user AS u, pg_is_in_recovery() AS standby');
      return typeof r === 'string' ? undefined : r;
    },
    () => poolerPods!.logOf((poolerPods && Object.keys(poolerPods.targets())[0]) ?? ''),
  );
  assert.deepEqual(rows, [{ u: 'foo_user', standby: false }]);
});

test('the replica pooler answers read-only', { skip }, async () => {
  const ip = await poolerIp(`${name}-pooler-repl`);
  const rows = await until('a query through the replica pooler', 90_000, async () => {
    const r = await through(ip, 'SELECT pg_is_in_recovery() AS standby');
    return typeof r === 'string' ? undefined : r;
  });
  assert.deepEqual(rows, [{ standby: true }]);
  assert.match(String(await through(ip, 'CREATE TABLE t (x int)')), /read-only transaction/);
});

test('after a switchover the master pooler reaches the new master', { skip }, async () => {
  const ip = await poolerIp(`${name}-pooler`);
  const members = await podsOf(`cluster-name=${name},application=spilo`);
  const master = members.find((p) => p.role === 'master')!;
  const replica = members.find((p) => p.role === 'replica')!;
  assert.ok(master && replica, JSON.stringify(members));
  const before = await through(ip, 'SELECT host(inet_server_addr()) AS addr');
  assert.deepEqual(before, [{ addr: master.ip }]);
  const result = await new PatroniClient(patroniUrl(replica.ip)).switchover({
    leader: master.name,
    candidate: replica.name,
  });
  assert.equal(result.newLeader, replica.name);
  const rows = await until('the master pooler on the new master', 60_000, async () => {
    const r = await through(ip, 'SELECT host(inet_server_addr()) AS addr, pg_is_in_recovery() AS standby');
    return Array.isArray(r) && r[0]?.addr === replica.ip ? r : undefined;
  });
  assert.deepEqual(rows, [{ addr: replica.ip, standby: false }]);
});
