// testenv: full
// Fault schedules (scripts/testenv/fault-schedules.ts, run by scripts/testenv/fault-fleet.ts) on the full control
// plane with real Patroni behind every pod: two clusters of three, each with a manifest user and a database it owns,
// the six function hosts and the bridge as processes from the bundles under their own ServiceAccounts. After a
// fault-free rolling update (the reference), four schedules each end as the fault-free run did (StatefulSet spec,
// every pod on the update revision and image, one master, passwords unchanged, logins work, PVCs kept, status
// settled) with at most one pod of a cluster down at any time, sampled every 250 ms:
// - the drain-during-rollout schedule: a master's node cordoned while a replica of its cluster is being replaced;
// - a rollout with the function hosts killed, the bridge killed and the API server restarted;
// - a new user with stale, duplicated and reversed events, and a second host of on-update;
// - a numberOfInstances change with an invalid ConfigMap value for a while.
// The longer randomized suite is `npm run bench -- faults`. Pod IPs must be local addresses and Service names
// resolvable: run-integration.sh runs this phase in scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import type { FunctionSpec } from '../../lib/registry/functions';
import { FaultFleet, printRows, type ScheduleRow } from '../../scripts/testenv/fault-fleet';
import { makeSchedule, type Schedule } from '../../scripts/testenv/fault-schedules';
import { findPatroniTools, removeIfInterrupted } from '../../scripts/testenv/patroni-process';
import { patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { installCrd, testClient } from './operator';
import { ensureBundles } from './local-operator';
import { installFunctionCredentials } from './service-accounts';
import { createNamespace, deleteNamespace } from './testenv';

const tools = findPatroniTools();
const CLUSTERS = ['acid-fault-a', 'acid-fault-b'];
const INSTANCES = 3;

async function skipReason(): Promise<string | false> {
  const reason = await patroniPodsSkipReason();
  if (reason) return reason;
  if (process.env.TESTENV_PRIVATE_HOSTS !== '1')
    return 'needs a private /etc/hosts for the Service names (run-integration.sh runs the full phase in netns.sh)';
  return false;
}
const skip = await skipReason();

let client: KubeClient;
let ns = '';
let fleet: FaultFleet | undefined;
const rows: ScheduleRow[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'fault-schedules-'));
const forget = removeIfInterrupted(dir);

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    await installCrd();
    client = testClient();
    ns = await createNamespace('faults');
    ensureBundles();
    const credentials = await installFunctionCredentials(client, ns, dir);
    fleet = await FaultFleet.start({
      client,
      namespace: ns,
      clusters: CLUSTERS,
      instances: INSTANCES,
      images: ['ghcr.io/zalando/spilo-17:4.0-p2', 'ghcr.io/zalando/spilo-17:4.0-p3'],
      atOnce: CLUSTERS.length,
      tools,
      dir,
      env: { KUBECONFIG: credentials.bridge },
      functionEnv: (spec: FunctionSpec) => ({ KUBECONFIG: credentials.functions.get(spec.name) }),
      settleTimeoutMs: 300_000,
      log: (line) => {
        if (process.env.FAULTS_LOG) console.error(line);
      },
    });
  },
  { timeout: 300_000 },
);

after(
  async () => {
    if (rows.length > 0) printRows(rows);
    await fleet?.stop();
    if (ns) await deleteNamespace(ns);
    client?.close();
    if (!process.env.KEEP_TEST_LOGS && rows.every((r) => r.failures.length === 0))
      rmSync(dir, { recursive: true, force: true });
    else console.error(`fault schedules: logs kept in ${dir}`);
    forget();
  },
  { timeout: 120_000 },
);

/** Runs the schedule and asserts that its row has no failure. */
async function runSchedule(schedule: Schedule): Promise<ScheduleRow> {
  const row = await fleet!.run(schedule);
  rows.push(row);
  assert.deepEqual(row.failures, [], `seed ${row.seed}, ${row.change}, faults ${row.faults}`);
  return row;
}

const options = { clusters: CLUSTERS.length, instances: INSTANCES };

test('a fault-free rolling update: the reference', { skip, timeout: 360_000 }, async () => {
  const row = await runSchedule({ seed: 0, change: 'image', cluster: 0, faults: [] });
  assert.ok(row.maxDown <= 1, `one pod down at most: ${row.maxDown}`);
});

test(
  'drain during a rollout: the master node is cordoned while a replica is replaced; one pod down at most',
  { skip, timeout: 360_000 },
  async () => {
    const schedule = makeSchedule(101, { ...options, change: 'image', faults: ['cordon-master'] });
    assert.ok('podsReplaced' in schedule.faults[0]!.trigger, 'the cordon fires while a replica is being replaced');
    await runSchedule(schedule);
  },
);

test(
  'a rollout with function hosts and the bridge killed and the API server restarted',
  { skip, timeout: 360_000 },
  async () => {
    await runSchedule(
      makeSchedule(7, { ...options, change: 'image', faults: ['kill-host', 'kill-bridge', 'restart-apiserver'] }),
    );
  },
);

test(
  'a new user under stale, duplicated and reversed events and a second host of on-update',
  { skip, timeout: 240_000 },
  async () => {
    await runSchedule(makeSchedule(8, { ...options, change: 'user', faults: ['stale-events', 'second-host'] }));
  },
);

test(
  'a numberOfInstances change with an invalid ConfigMap value for a while and a host killed for 15 s or more',
  { skip, timeout: 240_000 },
  async () => {
    await runSchedule(
      makeSchedule(9, { ...options, change: 'instances', faults: ['invalid-config', 'kill-host-long'] }),
    );
  },
);

test(
  'a relist is no work: after a bridge restart and an API server restart, the settled fleet sees no write',
  { skip, timeout: 120_000 },
  async () => {
    assert.deepEqual(await fleet!.restartWhileIdle('bridge'), [], 'objects written after the bridge restarted');
    assert.deepEqual(await fleet!.restartWhileIdle('apiserver'), [], 'objects written after the API server restarted');
  },
);
