// testenv: full
// A real logical backup: the operator syncs a manifest with enableLogicalBackup, scripts/testenv/patroni-pods.ts runs
// Patroni + PostgreSQL behind the database pod, the test creates a Job from the CronJob's jobTemplate (as
// `kubectl create job --from=cronjob/...` does: the cronjob controller only fires on the minute),
// kube-controller-manager and kwok make its pod, and scripts/testenv/logical-backup-jobs.ts runs pg_dumpall from that
// pod's environment against the cluster's master into a directory that stands in for the S3 bucket, at the key
// Zalando's image uploads to. The dump is restored into a fresh PostgreSQL and the data is read back.
// Needs pod IPs that are local addresses: run-integration.sh runs this phase in scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { LogicalBackupJobs } from '../../scripts/testenv/logical-backup-jobs';
import { findPatroniTools, removeIfInterrupted, until } from '../../scripts/testenv/patroni-process';
import { PatroniPods, patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { startPostgres, type TestPostgres } from './postgres';
import { password } from './roles-helpers';
import { startMembers, syncUntilRolesSynced } from './full-plane-cluster';
import { createNamespace, deleteNamespace } from './testenv';

const name = 'acid-minimal-cluster';
const cronJobName = `logical-backup-${name}`;
const bucket = 'test-bucket';
const tools = findPatroniTools();
const skip = await patroniPodsSkipReason();

let client: KubeClient;
let databasePods: PatroniPods | undefined;
let backups: LogicalBackupJobs | undefined;
let restored: TestPostgres | undefined;
let namespace = '';
const dir = mkdtempSync(join(tmpdir(), 'logical-backup-'));
const forget = removeIfInterrupted(dir);
const log = (line: string) => {
  if (process.env.PATRONI_PODS_LOG) console.error(line);
};

/** A client on the cluster's master pod as the superuser (the password of its Secret). */
async function master(database: string): Promise<pg.Client> {
  const pods = await client.list('Pod', namespace, `cluster-name=${name},spilo-role=master`);
  const ip = pods.find((p: KubeObject) => p.status?.podIP)?.status.podIP;
  assert.ok(ip, 'a master pod with an IP');
  const c = new pg.Client({
    host: ip,
    port: 5432,
    user: 'postgres',
    password: await password(client, namespace, 'postgres', name),
    database,
    ssl: { rejectUnauthorized: false },
    connectionTimeoutMillis: 5_000,
  });
  await c.connect();
  return c;
}

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    chmodSync(dir, 0o755);
    await installCrd();
    client = testClient();
    namespace = await createNamespace('logical-backup-pods');
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    Object.assign(manifest.spec, { numberOfInstances: 1, enableLogicalBackup: true });
    await applyManifest(manifest, namespace);
    const ctx = syncContext(client, { ...referenceConfig('v2.0.1'), logical_backup_s3_bucket: bucket });
    await syncCluster(ctx, namespace, name);
    databasePods = startMembers(namespace, tools, join(dir, 'db'), log);
    await syncUntilRolesSynced(ctx, client, namespace, name);
  },
  { timeout: 300_000 },
);

after(
  async () => {
    await backups?.stop();
    await restored?.stop();
    await databasePods?.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    rmSync(dir, { recursive: true, force: true });
    forget();
  },
  { timeout: 90_000 },
);

test('a Job from the CronJob dumps the master into the bucket; the dump restores the data', { skip }, async () => {
  // Data in a manifest database, written on the master.
  const foo = await master('foo');
  try {
    await foo.query('CREATE TABLE orders (id int PRIMARY KEY, item text)');
    await foo.query("INSERT INTO orders VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')");
  } finally {
    await foo.end();
  }

  // kubectl create job --from=cronjob/<name>: the jobTemplate, owned by the CronJob, marked as a manual run.
  const cronJob = (await client.get<KubeObject>({ kind: 'CronJob', namespace, name: cronJobName }))!;
  assert.ok(cronJob, `CronJob ${cronJobName}`);
  const template = cronJob.spec.jobTemplate;
  await client.create({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `${cronJobName}-manual`,
      namespace,
      labels: template.metadata?.labels,
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cronJobName,
          uid: cronJob.metadata!.uid,
          controller: true,
        },
      ],
    },
    spec: template.spec,
  });

  backups = new LogicalBackupJobs({
    kubeconfig: process.env.KUBECONFIG!,
    namespace,
    pgBin: (tools as { pgBin: string }).pgBin,
    dir: join(dir, 'bucket'),
    log,
  });
  backups.start();
  const run = await until('the backup pod ran', 120_000, async () => [...backups!.runs.values()][0]);
  assert.equal(run.error, undefined, run.error);
  assert.equal(run.exitCode, 0);
  const masterPod = (await client.list('Pod', namespace, `cluster-name=${name},spilo-role=master`))[0]!;
  assert.equal(run.host, masterPod.status.podIP, 'dumped from the master (no replica runs)');
  const uid = (await client.get({ kind: 'postgresql', namespace, name }))!.metadata!.uid;
  assert.match(
    run.file!,
    new RegExp(`/bucket/${bucket}/spilo/${name}/${uid}/logical_backups/\\d+\\.sql\\.gz$`),
    'at the key the image uploads to',
  );

  // Restore into a fresh server: pg_dumpall's output is a psql script (it recreates roles and databases).
  restored = await startPostgres();
  // The dump sets the superuser's password to the cluster's, and psql reconnects for each database: use it from
  // the start.
  const admin = await restored.admin();
  const superuserPassword = await password(client, namespace, 'postgres', name);
  await admin.query(`ALTER ROLE postgres PASSWORD '${superuserPassword.replaceAll("'", "''")}'`);
  restored.password = superuserPassword;
  const sql = gunzipSync(readFileSync(run.file!)).toString('utf8');
  assert.match(sql, /CREATE DATABASE foo/);
  const psql = spawnSync(
    join((tools as { pgBin: string }).pgBin, 'psql'),
    ['-h', restored.host, '-p', String(restored.port), '-U', 'postgres', '-d', 'postgres', '-q'],
    { input: sql, env: { PATH: process.env.PATH, PGPASSWORD: restored.password }, encoding: 'utf8' },
  );
  assert.equal(psql.status, 0, psql.stderr);
  const check = new pg.Client({
    host: restored.host,
    port: restored.port,
    user: 'postgres',
    password: restored.password,
    database: 'foo',
  });
  await check.connect();
  try {
    const rows = (await check.query('SELECT id, item FROM orders ORDER BY id')).rows;
    assert.deepEqual(rows, [
      { id: 1, item: 'apple' },
      { id: 2, item: 'pear' },
      { id: 3, item: 'plum' },
    ]);
    const owner = (await check.query("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'foo'"))
      .rows[0];
    assert.deepEqual(owner, { owner: 'zalando' }, 'the database keeps the owner the manifest gives it');
  } finally {
    await check.end();
  }
});
