/**
 * `npm run bench -- roles [count] [databases]`: a cluster with `count` manifest roles (default 500) and `databases`
 * databases (default 10; CREATE DATABASE copies a template and dominates the first run), synced by
 * `syncCluster` against a real PostgreSQL (initdb in a temp dir) for each password encryption (SCRAM-SHA-256,
 * md5): the statements and time of the first run (every role created) and of the second run (nothing to do: the
 * target is 0 statements and 0 Kubernetes writes), once as a fresh instance (every SCRAM verifier recomputed) and
 * once as a warm one (matches remembered). The run before them creates the Secrets and waits for the master (not
 * counted); then the bench plays Patroni: superuser password from its Secret, master Endpoints.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KubeClient } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { silentLogger } from '../lib/log/logger';
import { parseOperatorConfig } from '../lib/model/config';
import { forgetScramMatches, md5Verifier, scramVerifier } from '../lib/roles/password';
import { derivedPasswords } from '../lib/sync/operator/passwords';
import { syncCluster } from '../lib/sync/cluster/sync-cluster';
import { startPostgres } from '../test/integration/postgres';
import { syncContext, type SyncContext } from '../lib/sync/context';

const crdPath = fileURLToPath(new URL('../manifests/postgresql.crd.yaml', import.meta.url));
const configPath = fileURLToPath(new URL('../manifests/configmap.yaml', import.meta.url));

const ms = (start: bigint) => Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;
const ddl = (log: string) => log.split('\n').filter((l) => /LOG:\s+statement: (CREATE|ALTER|GRANT)/.test(l)).length;

/** Runs the benchmark; @returns the results object (the table is printed here) */
export async function benchRoles(count: number, databaseCount = 10) {
  const client = KubeClient.fromDefault();
  await installCrd(client, parse(readFileSync(crdPath, 'utf8')));
  const parsed = parseOperatorConfig(parse(readFileSync(configPath, 'utf8')).data);
  if (!parsed.ok) throw new Error('manifests/configmap.yaml is invalid');
  const namespace = `bench-roles-${Date.now().toString(36)}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const ctx: SyncContext = syncContext({
    client,
    config: parsed.config,
    log: silentLogger,
    now: () => new Date(),
    newPassword: derivedPasswords(Buffer.from('benchmark-password-key-0123456789')),
  });
  // a mix of flags; one role in ten is NOLOGIN (no Secret, no password)
  const flagSets = [
    [],
    ['createdb'],
    ['inherit', 'createrole'],
    ['noinherit'],
    ['replication'],
    ['bypassrls'],
    ['createdb', 'createrole'],
    [],
    [],
    ['nologin'],
  ];
  const users = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`app_role_${i}`, flagSets[i % flagSets.length]]),
  );
  const databases = Object.fromEntries(
    Array.from({ length: databaseCount }, (_, i) => [`app_db_${i}`, `app_role_${i * 10 + 1}`]),
  );

  const rows: Record<string, Record<string, number | string>> = {};
  let version = '';
  for (const encryption of ['scram-sha-256', 'md5'] as const) {
    const server = await startPostgres(encryption);
    const name = `acid-roles-${encryption === 'md5' ? 'md5' : 'scram'}`;
    try {
      Object.assign(process.env, { POSTGRES_HOST_TEMPLATE: `127.0.0.1:${server.port}`, POSTGRES_SSLMODE: 'disable' });
      await client.create({
        apiVersion: 'acid.zalan.do/v1',
        kind: 'postgresql',
        metadata: { name, namespace },
        spec: {
          teamId: 'acid',
          numberOfInstances: 1,
          volume: { size: '1Gi' },
          postgresql: { version: '17' },
          users,
          databases,
        },
      });
      const prepare = await syncCluster(ctx, namespace, name);
      if (!prepare.pending)
        throw new Error(`expected the first sync to wait for the master: ${JSON.stringify(prepare)}`);
      // Patroni's part: the superuser password from its Secret, the master address in the Endpoints
      const secret = await client.get({
        kind: 'Secret',
        namespace,
        name: `postgres.${name}.credentials.postgresql.acid.zalan.do`,
      });
      const password = Buffer.from(secret!.data.password, 'base64').toString();
      const admin = await server.admin();
      version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
      const verifier =
        encryption === 'md5'
          ? md5Verifier('postgres', password)
          : scramVerifier(password, Buffer.from('bench-fixed-salt'));
      await admin.query(`ALTER ROLE postgres PASSWORD '${verifier}'`);
      server.password = password;
      await client.mergePatch(
        { kind: 'Endpoints', namespace, name },
        {
          subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'postgresql', port: 5432, protocol: 'TCP' }] }],
        },
      );
      for (const run of ['first run', 'second run', 'second run, warm instance']) {
        // the second run as a fresh function instance would do it: no SCRAM match remembered from the first
        if (run === 'second run') forgetScramMatches();
        const before = ddl(server.log());
        client.counter.reset();
        const start = process.hrtime.bigint();
        const result = await syncCluster(ctx, namespace, name);
        const elapsed = ms(start);
        if (result.outcome !== 'synced' || result.pending || result.roles?.failed)
          throw new Error(`sync ended ${JSON.stringify({ ...result, actions: result.actions.length })}`);
        rows[`${encryption}, ${run}`] = {
          roles: count + 2,
          statements: result.roles!.statements,
          'DDL in server log': ddl(server.log()) - before,
          ms: elapsed,
          'kubernetes writes': client.counter.writes(),
          'kubernetes reads': client.counter.total() - client.counter.writes(),
        };
      }
      await admin.end();
    } finally {
      await server.stop();
    }
  }
  console.table(rows);
  const report = {
    benchmark: 'roles',
    roles: count,
    databases: databaseCount,
    namespace,
    server: client.kubeConfig.getCurrentCluster()?.server,
    postgres: `PostgreSQL ${version} (initdb in a temp dir, loopback)`,
    results: rows,
  };
  client.close();
  return report;
}
