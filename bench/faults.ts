/**
 * `npm run bench -- faults [SEED] [COUNT]`: randomized fault schedules (scripts/testenv/fault-schedules.ts) on the
 * full control plane with real Patroni behind every pod, run one after another on one fleet (default 3 clusters of
 * 3 instances, each with a manifest user and a database it owns; BENCH_FAULTS_CLUSTERS, BENCH_FAULTS_INSTANCES).
 * Schedules SEED .. SEED+COUNT-1 (default 1 and 20) follow three fault-free runs, one per change (a fleet-wide
 * `docker_image` rollout, a `numberOfInstances` change, a new user), whose end states and times the faulty runs
 * are compared with.
 *
 * `npm run bench -- faults drain [SEED] [COUNT]`: the drain-during-rollout schedule only (a rollout, and a cluster's
 * master node cordoned while one of its replicas is being replaced), COUNT times with seeds SEED.. (default 1, 20).
 *
 * Then the bridge and the API server are restarted on the settled fleet, and what the operator wrote after each is
 * printed (a relist of converged objects is no work: nothing).
 *
 * Prints the table of scripts/testenv/fault-fleet.ts (seed, change, faults, wall time beside the fault-free one,
 * most pods of a cluster down at once, status lag, ok/FAIL) and each failure; a failing seed replays with
 * `npm run bench -- faults <seed> 1` (timing aside). Logs are kept when a schedule fails. Needs root for the network
 * namespace (bench/run.ts re-runs itself in scripts/testenv/netns.sh) and Debian's patroni and postgresql packages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KubeClient } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { FaultFleet, printRows, type ScheduleRow } from '../scripts/testenv/fault-fleet';
import { makeSchedule, type ChangeKind, type Schedule } from '../scripts/testenv/fault-schedules';
import { findPatroniTools } from '../scripts/testenv/patroni-process';

const root = fileURLToPath(new URL('../', import.meta.url));
const IMAGES = ['ghcr.io/zalando/spilo-17:4.0-p2', 'ghcr.io/zalando/spilo-17:4.0-p3'] as const;

/** @returns the report: every row, and how many schedules failed */
export async function benchFaults(args: string[]): Promise<Record<string, unknown>> {
  const drainOnly = args[0] === 'drain';
  const [seedArg, countArg] = drainOnly ? args.slice(1) : args;
  const firstSeed = Number(seedArg ?? 1);
  const count = Number(countArg ?? 20);
  const clusters = Number(process.env.BENCH_FAULTS_CLUSTERS ?? 3);
  const instances = Number(process.env.BENCH_FAULTS_INSTANCES ?? 3);
  const tools = findPatroniTools();
  if (typeof tools === 'string') throw new Error(tools);
  // Always from the working tree: the schedules test what is checked out.
  execFileSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, `${root}scripts/build.ts`, '--quiet'], {
    stdio: 'inherit',
  });
  const client = KubeClient.fromDefault({ fieldManager: 'bench-faults' });
  await installCrd(client, parse(readFileSync(`${root}manifests/postgresql.crd.yaml`, 'utf8')));
  const namespace = `bench-faults-${Date.now().toString(36)}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-faults-'));
  const names = Array.from({ length: clusters }, (_, i) => `acid-fault-${i}`);
  const log = (line: string) => console.error(`bench: ${line}`);
  const rows: ScheduleRow[] = [];
  /** what the operator wrote after each restart on the settled fleet */
  const relists: Record<string, string[]> = {};
  let fleet: FaultFleet | undefined;
  try {
    log(`${clusters} clusters of ${instances}; starting Patroni pods and the operator...`);
    fleet = await FaultFleet.start({
      client,
      namespace,
      clusters: names,
      instances,
      images: IMAGES,
      atOnce: clusters,
      tools,
      dir,
      log,
    });
    const options = { clusters, instances };
    const faultFree: ChangeKind[] = drainOnly ? ['image'] : ['image', 'instances', 'user'];
    const schedules: Schedule[] = [
      ...faultFree.map((change) => ({ seed: 0, change, cluster: 0, faults: [] })),
      ...Array.from({ length: count }, (_, i) =>
        makeSchedule(firstSeed + i, drainOnly ? { ...options, change: 'image', faults: ['cordon-master'] } : options),
      ),
    ];
    for (const schedule of schedules) {
      log(`schedule ${rows.length + 1}/${schedules.length}, seed ${schedule.seed}: ${schedule.change}`);
      const row = await fleet.run(schedule);
      rows.push(row);
      log(`  ${row.failures.length === 0 ? 'ok' : `FAIL: ${row.failures.join('; ')}`} in ${row.seconds.toFixed(1)} s`);
    }
    for (const what of ['bridge', 'apiserver'] as const) {
      const written = await fleet.restartWhileIdle(what);
      relists[what] = written;
      log(
        `${what} restarted on the settled fleet: ${written.length} objects written${written.length ? `: ${written.join(', ')}` : ''}`,
      );
    }
  } finally {
    await fleet?.stop();
    await client.delete({ kind: 'Namespace', name: namespace }).catch(() => undefined);
    client.close();
    if (rows.every((r) => r.failures.length === 0)) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${dir}`);
  }
  printRows(rows);
  return {
    benchmark: 'faults',
    mode: drainOnly ? 'drain-during-rollout' : 'random',
    clusters,
    instances,
    schedules: rows.length,
    failed: rows.filter((r) => r.failures.length > 0).length,
    maxPodsDown: Math.max(...rows.map((r) => r.maxDown)),
    writesAfterRestartWhileIdle: relists,
    rows,
  };
}
