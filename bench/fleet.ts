/**
 * `npm run bench -- fleet [clusters]` (default 1000): `syncFleet` over a fleet on a real API server.
 *
 * - set-up: create the `postgresql` objects and sync each once (16 at a time), timed separately;
 * - in sync: wall time of `syncFleet` when nothing drifted (5 runs: median, max; and the first alone, before the
 *   process remembers any cluster in sync) and its requests by verb
 *   (target: one LIST per kind and namespace scope, no write, under 5 s);
 * - drifted: 10 clusters made to drift in different ways (deleted Service, changed label, scaled StatefulSet,
 *   deleted Secret, edited PDB), then the wall time of the `syncFleet` run that repairs them, checked afterwards;
 * - the bench process's peak RSS while `syncFleet` runs (its LISTs come in pages: `LIST_PAGE_SIZE`);
 * - the operator in the loop (`operatorInTheLoop`): its start on the whole fleet, single manifest changes, then an
 *   operator config change that alters a Service of every cluster.
 *
 * `BENCH_FLEET_NAMESPACE=<namespace>` uses the fleet an earlier run left there (10,000 clusters take about 25 minutes
 * to set up here), making only the clusters it lacks; the set-up time then counts those alone.
 *
 * `BENCH_FLEET_FULL=1` runs it on the full plane (controller-manager, scheduler, kwok: the StatefulSets' pods are
 * created and run, with no database behind them).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KubeClient, type KubeObject } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { silentLogger } from '../lib/log/logger';
import { parseOperatorConfig } from '../lib/model/config';
import { derivedPasswords } from '../lib/sync/operator/passwords';
import type { PostgresqlObject } from '../lib/sync/cluster/read-cluster';
import { syncCluster } from '../lib/sync/cluster/sync-cluster';
import { startLocal } from '../scripts/deploy/local';
import { forgetAllInSync } from '../lib/sync/fleet/in-sync-memo';
import { syncFleet, type FleetResult } from '../lib/sync/fleet/sync-fleet';
import { summarize } from './stats';
import { syncContext, type SyncContext } from '../lib/sync/context';

const crdPath = fileURLToPath(new URL('../manifests/postgresql.crd.yaml', import.meta.url));
const manifestPath = fileURLToPath(new URL('../manifests/minimal-postgres-manifest.yaml', import.meta.url));
const configPath = fileURLToPath(new URL('../manifests/configmap.yaml', import.meta.url));

const WRITE_VERBS = ['create', 'apply', 'patch', 'update', 'delete'];
const writesOf = (requests: Record<string, number>) => WRITE_VERBS.reduce((n, v) => n + (requests[v] ?? 0), 0);
const seconds = (ms: number) => Math.round(ms) / 1000;

async function parallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The 10 ways clusters are made to drift (two of each). */
function drifts(client: KubeClient, namespace: string): Array<[string, (name: string) => Promise<unknown>]> {
  const ref = (kind: string, name: string) => ({ kind, namespace, name });
  return [
    ['deleted replica Service', (n) => client.delete(ref('Service', `${n}-repl`))],
    ['changed Service label', (n) => client.mergePatch(ref('Service', n), { metadata: { labels: { team: 'other' } } })],
    ['scaled StatefulSet', (n) => client.mergePatch(ref('StatefulSet', n), { spec: { replicas: 5 } })],
    ['deleted Secret', (n) => client.delete(ref('Secret', `standby.${n}.credentials.postgresql.acid.zalan.do`))],
    [
      'edited PodDisruptionBudget',
      (n) => client.mergePatch(ref('PodDisruptionBudget', `postgres-${n}-pdb`), { spec: { minAvailable: 0 } }),
    ],
  ];
}

/** Runs the benchmark; @returns the results object (also printed) */
export async function benchFleet(clusters: number) {
  const client = KubeClient.fromDefault({ timeoutMs: 60_000 });
  await installCrd(client, parse(readFileSync(crdPath, 'utf8')));
  // A fleet set up by an earlier run (of $KUBECONFIG's cluster) is used again: only its missing clusters are made.
  const reused = process.env.BENCH_FLEET_NAMESPACE;
  const namespace = reused || `bench-fleet-${Date.now().toString(36)}`;
  if (!reused || !(await client.get({ kind: 'Namespace', name: namespace })))
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const parsedConfig = parseOperatorConfig({
    ...parse(readFileSync(configPath, 'utf8')).data,
    watched_namespace: namespace,
  });
  if (!parsedConfig.ok) throw new Error('manifests/configmap.yaml is invalid');
  const ctx: SyncContext = syncContext({
    client,
    config: parsedConfig.config,
    log: silentLogger,
    now: () => new Date(),
    newPassword: derivedPasswords(Buffer.from('benchmark-password-key-0123456789')),
  });
  const manifest = parse(readFileSync(manifestPath, 'utf8')) as KubeObject;
  const names = Array.from({ length: clusters }, (_, i) => `acid-fleet-${String(i).padStart(4, '0')}`);

  const present = new Set((await client.list('postgresql', namespace)).map((c) => c.metadata?.name));
  const missing = names.filter((name) => !present.has(name));
  console.error(`bench fleet: creating and syncing ${missing.length} of ${clusters} clusters in ${namespace}...`);
  const setupStart = performance.now();
  await parallel(missing, 16, async (name) => {
    const added = await client.create<PostgresqlObject>({ ...manifest, metadata: { name, namespace } });
    const result = await syncCluster(ctx, namespace, name, { added });
    if (result.outcome !== 'synced') throw new Error(`sync of ${name} ended ${result.outcome}: ${result.error}`);
  });
  const setupMs = performance.now() - setupStart;

  const options = { operatorNamespace: namespace, deadlineMs: 600_000, parallelism: 4 };
  // On the full plane pods start (and go) after a sync: their readiness is a status change until it settles.
  const settle = async () => {
    for (let round = 0; process.env.BENCH_FLEET_FULL === '1' && round < 60; round++) {
      if ((await syncFleet(ctx, options)).inSync === clusters) break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };
  await settle();
  // A reused fleet may carry what the operator part of an earlier run changed: brought back first, then forgotten,
  // so the first timed run diffs every cluster as a cold process does.
  if (reused) await syncFleet(ctx, options);
  forgetAllInSync();
  const inSyncRuns: Array<{ ms: number; result: FleetResult }> = [];
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const result = await syncFleet(ctx, options);
    inSyncRuns.push({ ms: performance.now() - start, result });
  }
  clearInterval(sampler);
  const steady = inSyncRuns.at(-1)!.result;
  if (steady.inSync !== clusters)
    throw new Error(
      `expected ${clusters} clusters in sync, got ${steady.inSync}: ${JSON.stringify(steady.items.slice(0, 3))}`,
    );

  const ways = drifts(client, namespace);
  const drifted = Array.from({ length: 10 }, (_, i) => names[Math.floor(((i + 0.5) * clusters) / 10)]!);
  await Promise.all(drifted.map((name, i) => ways[i % ways.length]![1](name)));
  const repairStart = performance.now();
  const repair = await syncFleet(ctx, options);
  const repairMs = performance.now() - repairStart;
  const repaired = repair.items
    .filter((i) => i.outcome === 'synced')
    .map((i) => i.cluster.split('/')[1])
    .sort();
  if (repaired.join() !== [...drifted].sort().join())
    throw new Error(`repaired ${repaired.join()} instead of ${drifted.join()}`);
  await settle();
  const after = await syncFleet(ctx, options);
  if (after.inSync !== clusters || writesOf(after.requests) !== 0)
    throw new Error(`not in sync after the repair: ${JSON.stringify(after.items)}`);

  const inSync = summarize(inSyncRuns.map((r) => r.ms));
  const report = {
    benchmark: 'syncFleet',
    clusters,
    namespace,
    server: client.kubeConfig.getCurrentCluster()?.server,
    setup: {
      clusters,
      parallelism: 16,
      seconds: seconds(setupMs),
      perClusterMs: Math.round((setupMs / clusters) * 100) / 100,
    },
    inSync: {
      ...inSync,
      // The first run in this process diffs every cluster; later ones skip those found in sync with unchanged
      // inputs (lib/sync/fleet/in-sync-memo.ts), as a warm function does.
      firstRunMs: Math.round(inSyncRuns[0]!.ms * 100) / 100,
      requests: steady.requests,
      writes: writesOf(steady.requests),
      listsPerKindAndScope: (steady.requests.list ?? 0) / steady.scopes.length,
      scopes: steady.scopes,
      rssBeforeMiB: mib(rssBefore),
      peakRssMiB: mib(peakRss),
    },
    operator: undefined as Awaited<ReturnType<typeof operatorInTheLoop>>,
    operatorError: undefined as string | undefined,
    drifted: {
      clusters: drifted.length,
      kinds: ways.map(([what]) => what),
      repairMs: Math.round(repairMs * 100) / 100,
      requests: repair.requests,
      writes: writesOf(repair.requests),
      synced: repair.synced,
      failed: repair.failed,
      perCluster: repair.items.map((i) => ({ cluster: i.cluster.split('/')[1], why: i.why, writes: i.writes })),
    },
  };
  console.table({
    'set-up (create + first sync)': { clusters, 'wall ms': Math.round(setupMs), requests: '', writes: '' },
    'syncFleet, all in sync: peak RSS MiB (before)': {
      clusters,
      'wall ms': '',
      requests: `${report.inSync.peakRssMiB} (${report.inSync.rssBeforeMiB})`,
      writes: '',
    },
    'syncFleet, all in sync: first run (nothing remembered)': {
      clusters,
      'wall ms': report.inSync.firstRunMs,
      requests: JSON.stringify(inSyncRuns[0]!.result.requests),
      writes: writesOf(inSyncRuns[0]!.result.requests),
    },
    'syncFleet, all in sync (median of 5)': {
      clusters,
      'wall ms': inSync.medianMs,
      requests: JSON.stringify(steady.requests),
      writes: writesOf(steady.requests),
    },
    'syncFleet, 10 drifted: until repaired': {
      clusters,
      'wall ms': report.drifted.repairMs,
      requests: JSON.stringify(repair.requests),
      writes: writesOf(repair.requests),
    },
  });
  try {
    report.operator = await operatorInTheLoop(client, namespace, names);
  } catch (error) {
    report.operatorError = (error as Error).message;
    console.error(`bench fleet: the operator part failed: ${report.operatorError}`);
  }
  if (report.operator) {
    console.table({
      'operator start: initial list delivered, every cluster synced': {
        clusters,
        'wall ms': report.operator.startMs,
        requests: '',
        writes: '',
      },
      'one manifest change → its StatefulSet (p50 of 5)': {
        clusters,
        'wall ms': report.operator.changeP50Ms,
        requests: JSON.stringify(report.operator.changeMs),
        writes: '',
      },
      'operator config change → a Service of every cluster': {
        clusters,
        'wall ms':
          report.operator.configChange.allMs ?? `not all in 120 s (${report.operator.configChange.doneAfter120s})`,
        requests: '',
        writes: '',
      },
    });
  }
  client.close();
  return report;
}

const mib = (bytes: number) => Math.round(bytes / 1048576);

/**
 * An operator config change that alters an object of every cluster and no pod: `custom_service_annotations` gets a
 * new annotation, which the master and replica Services carry once applied.
 * @returns ms from the ConfigMap's update until every cluster's master Service has the annotation (polled with a LIST
 *   every 100 ms, every `clusters / 10` ms above 1,000 clusters), and how many had it after 120 s when not all did
 */
async function configChangeToAll(client: KubeClient, namespace: string, config: KubeObject, names: string[]) {
  const clusters = names.length;
  const value = `v${Date.now().toString(36)}`;
  const data = (config as { data: Record<string, string> }).data;
  const t0 = performance.now();
  await client.apply({
    ...config,
    metadata: { name: 'postgres-operator', namespace },
    data: { ...data, custom_service_annotations: `bench/config-change:${value}` },
  });
  let done = 0;
  while (performance.now() - t0 < 120_000) {
    const services = await client.list<KubeObject>('Service', namespace);
    done = services.filter(
      (s) =>
        s.metadata?.annotations?.['bench/config-change'] === value && s.metadata?.labels?.['spilo-role'] === 'master',
    ).length;
    if (done >= clusters) return { clusters, allMs: Math.round(performance.now() - t0) };
    // Every 100 ms, slower for a large fleet: a LIST of every Service is itself load on the API server.
    await new Promise((resolve) => setTimeout(resolve, Math.max(100, clusters / 10)));
  }
  return { clusters, allMs: undefined, doneAfter120s: done };
}

/**
 * With `BENCH_FLEET_OPERATOR` unset or 1: the one-process operator (`npm start`'s) started on the fleet's namespace.
 * Times its start (the bridge's initial list delivers every cluster as an add: until its queue is empty), then
 * five manifest changes (`numberOfInstances` 2 → 3 of clusters spread over the fleet), each from the patch until the
 * StatefulSet has the new replicas. Its process's peak RSS (VmHWM) once started and at the end.
 */
async function operatorInTheLoop(client: KubeClient, namespace: string, names: string[]) {
  if (process.env.BENCH_FLEET_OPERATOR === '0') return undefined;
  const config = parse(readFileSync(configPath, 'utf8')) as KubeObject;
  // No database on this plane: without pods the role step would wait for a master (answering 503) forever.
  const data = { ...(config as { data: Record<string, string> }).data, enable_database_access: 'false' };
  await client.apply({ ...config, metadata: { name: 'postgres-operator', namespace }, data });
  execFileSync(
    process.execPath,
    [
      fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url)),
      fileURLToPath(new URL('../scripts/build.ts', import.meta.url)),
      '--quiet',
    ],
    { stdio: 'ignore' },
  );
  const logDir = mkdtempSync(path.join(tmpdir(), 'bench-fleet-logs-'));
  const started = performance.now();
  const deployment = await startLocal({
    logDir,
    env: { OPERATOR_NAMESPACE: namespace, WATCHED_NAMESPACE: namespace, LOG_LEVEL: 'warn' },
    mode: 'single',
    readyTimeoutMs: 600_000,
  });
  try {
    const bridge = deployment.bridge!;
    // A scrape refused or cut while the process is busy counts as "not idle yet".
    const gauge = async (name: string) => {
      try {
        const text = await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text();
        return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      } catch {
        return 1;
      }
    };
    while ((await gauge('bridge_queue_depth')) + (await gauge('bridge_deliveries_in_flight')) > 0)
      await new Promise((resolve) => setTimeout(resolve, 200));
    const startMs = Math.round(performance.now() - started);
    const operatorStatus = () => readFileSync(`/proc/${bridge.child.pid}/status`, 'utf8');
    const vmHwmMiB = () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(operatorStatus())![1]) / 1024);
    // Which phase makes the peak: the start (informer lists, the fleet sync of the listed clusters and of the config)
    // or the config change's syncs below.
    const peakRssAfterStartMiB = vmHwmMiB();
    const changeMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const name = names[Math.floor(((i + 0.5) * names.length) / 5)]!;
      const ref = { kind: 'postgresql', namespace, name };
      const t0 = performance.now();
      await client.mergePatch(ref, { spec: { numberOfInstances: 3 } });
      for (;;) {
        const sts = await client.get<{ spec: { replicas: number } }>({ kind: 'StatefulSet', namespace, name });
        if (sts?.spec.replicas === 3) break;
        if (performance.now() - t0 > 60_000) throw new Error(`${name}: StatefulSet not scaled within 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      changeMs.push(Math.round(performance.now() - t0));
    }
    const configChange = await configChangeToAll(client, namespace, { ...config, data }, names);
    const peakRssMiB = vmHwmMiB();
    return {
      startMs,
      peakRssAfterStartMiB,
      changeMs,
      changeP50Ms: [...changeMs].sort((a, b) => a - b)[2]!,
      configChange,
      peakRssMiB,
      logDir,
    };
  } finally {
    await deployment.stop();
  }
}
