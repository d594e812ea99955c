/**
 * `npm run bench -- peer`: Zalando's postgres-operator v1.15.1 (the reference peer, `scripts/testenv/peer.ts`) and
 * this operator (as `npm start` runs it: every function and the bridge in one process; `BENCH_PEER_MODE=per-function`
 * runs six function hosts and the bridge as processes) side by side on one API server, each watching its own
 * namespace with the same operator ConfigMap (Zalando's shipped `configmap.yaml`).
 *
 * - interleaved creates: one cluster for Zalando, then one for us, `BENCH_PEER_GAP_MS` (2500) apart,
 *   `BENCH_PEER_N` (20) each; apply → first child, apply → all children (StatefulSet, master and replica
 *   Services, master Endpoints, a Secret per role, both PDBs), and from the first sight of the `postgresql` object
 *   on a watch (when the operator's own watch can see the add) to the first child;
 * - burst: `BENCH_PEER_BURST` (`BENCH_PEER_N`) creates at once, one operator at a time; apply → every child of every
 *   cluster, the operator's peak RSS meanwhile (sampled every 100 ms) and the clusters' statuses after;
 * - update: `numberOfInstances` 1 → 2 on the interleaved clusters, interleaved again; apply → the StatefulSet's
 *   `spec.replicas` is 2;
 * - idle: both operators with `BENCH_PEER_CLUSTERS` (100) clusters each, for `BENCH_PEER_IDLE_SECONDS` (60):
 *   CPU seconds (utime + stime from /proc/<pid>/stat), wake-ups a minute (voluntary context switches of every thread,
 *   /proc/<pid>/task/<tid>/status) and RSS, summed over each operator's processes.
 *
 * Times come from watches of the child kinds (first sight of each object), started before anything is applied.
 *
 * Two deviations from the shipped ConfigMap, the same for both operators, because the plane has no pods and no
 * database (`overrides` below). Zalando's operator handles a cluster's events on one of its 8 workers (assigned
 * round robin) and waits there: a create for the StatefulSet's pods (`resource_check_timeout`, shipped 10m), an
 * update for a database connection to sync roles (2 minutes, not configurable). Either would hold every later
 * cluster of that worker for minutes. `resource_check_timeout` equal to `resource_check_interval` (3s;
 * `BENCH_PEER_RESOURCE_CHECK_TIMEOUT`) makes each such wait check once and give up: a create ends `CreateFailed`
 * right after its last child (the StatefulSet), and a deleted PDB that is already gone still counts as deleted
 * (below the interval every wait is refused outright). Zalando replaces a PDB by deleting it with orphan
 * propagation, which no garbage collector completes on this plane: its scale-up ends `UpdateFailed` at the PDB
 * step, after the StatefulSet step that is timed here.
 * `enable_database_access: false` skips the role sync. Zalando's Kubernetes client keeps its shipped rate limit:
 * the `-kubeqps` / `-kubeburst` flags (10 / 20; command-line flags of its cmd/main.go, not ConfigMap keys), which
 * `startPeer` leaves unset.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Watch } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { KubeClient, type KubeObject } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { freePort, startLocal, type LocalDeployment } from '../scripts/deploy/local';
import { peerFile, startPeer, type PeerProcess } from '../scripts/testenv/peer';

const root = fileURLToPath(new URL('../', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

/** Kinds whose objects are children of a cluster, with their cluster-wide watch paths. */
const WATCHED: Record<string, string> = {
  // Not a child: its first sight here is when a watch of it (the bridge's, Zalando's informer's) can see the add.
  postgresql: '/apis/acid.zalan.do/v1/postgresqls',
  StatefulSet: '/apis/apps/v1/statefulsets',
  Service: '/api/v1/services',
  Endpoints: '/api/v1/endpoints',
  Secret: '/api/v1/secrets',
  PodDisruptionBudget: '/apis/policy/v1/poddisruptionbudgets',
};

/** The manifest's one user: with the superuser and the replication user, three role Secrets per cluster. */
const USERS = ['postgres', 'standby', 'app'];

/** `kind/name` of every child both operators make for cluster `name` under the shipped ConfigMap's templates. */
function expectedChildren(name: string): string[] {
  return [
    `StatefulSet/${name}`,
    `Service/${name}`,
    `Service/${name}-repl`,
    `Endpoints/${name}`,
    ...USERS.map((user) => `Secret/${user}.${name}.credentials.postgresql.acid.zalan.do`),
    `PodDisruptionBudget/postgres-${name}-pdb`,
    `PodDisruptionBudget/postgres-${name}-critical-op-pdb`,
  ];
}

function manifest(namespace: string, name: string, instances: number): KubeObject {
  return {
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    metadata: { name, namespace },
    spec: {
      teamId: 'acid',
      numberOfInstances: instances,
      volume: { size: '1Gi' },
      postgresql: { version: '17' },
      users: { app: [] },
    },
  };
}

/**
 * Records when each child object is first seen and when each StatefulSet is first seen with a given
 * `spec.replicas`, from cluster-wide watches (restarted from the last resourceVersion when the server ends one).
 */
class Recorder {
  /** `namespace/kind/name` → first sight, ms (performance.now) */
  readonly seen = new Map<string, number>();
  /** `namespace/name/replicas` → first sight of that StatefulSet with those replicas */
  readonly replicas = new Map<string, number>();
  private readonly controllers = new Set<AbortController>();
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly namespaces: ReadonlySet<string>,
  ) {}

  async start(): Promise<void> {
    await Promise.all(Object.entries(WATCHED).map(([kind, url]) => this.watch(kind, url, undefined)));
  }

  private async watch(kind: string, url: string, resourceVersion: string | undefined): Promise<void> {
    if (this.stopped) return;
    let last = resourceVersion;
    let gone = false;
    // Unset when the watch ends at once (a kind the API server does not serve yet, as right after a CRD is made).
    let controller: AbortController | undefined;
    let ended = false;
    const again = () => {
      if (ended) return;
      ended = true;
      setTimeout(() => void this.watch(kind, url, gone ? undefined : last), 100);
    };
    controller = await new Watch(this.client.kubeConfig)
      .watch(
        url,
        { resourceVersion: last, allowWatchBookmarks: true },
        (phase, object: KubeObject) => {
          const t = now();
          if (phase === 'ERROR') {
            gone = true; // 410 Gone: watch again from now; first sights already recorded are kept
            return;
          }
          last = object.metadata?.resourceVersion ?? last;
          const namespace = object.metadata?.namespace ?? '';
          if (phase === 'BOOKMARK' || phase === 'DELETED' || !this.namespaces.has(namespace)) return;
          const key = `${namespace}/${kind}/${object.metadata!.name}`;
          if (!this.seen.has(key)) this.seen.set(key, t);
          if (kind === 'StatefulSet') {
            const replicasKey = `${namespace}/${object.metadata!.name}/${object.spec?.replicas}`;
            if (!this.replicas.has(replicasKey)) this.replicas.set(replicasKey, t);
          }
        },
        () => {
          if (controller) this.controllers.delete(controller);
          controller = undefined;
          again();
        },
      )
      .catch(() => {
        again();
        return undefined;
      });
    if (controller && !ended) this.controllers.add(controller);
  }

  stop(): void {
    this.stopped = true;
    for (const controller of this.controllers) controller.abort();
  }

  /** @returns ms from `started` to the first and to the last child of the cluster, or undefined while one is missing */
  children(namespace: string, name: string, started: number): { first: number; all: number } | undefined {
    const times = expectedChildren(name).map((child) => this.seen.get(`${namespace}/${child}`));
    if (times.some((t) => t === undefined)) return undefined;
    return { first: Math.min(...(times as number[])) - started, all: Math.max(...(times as number[])) - started };
  }

  /** @returns ms from the first sight of the `postgresql` object (its add, as a watch sees it) to its first child */
  afterAddSeen(namespace: string, name: string, first: number, started: number): number | undefined {
    const seen = this.seen.get(`${namespace}/postgresql/${name}`);
    return seen === undefined ? undefined : started + first - seen;
  }

  missing(namespace: string, name: string): string[] {
    return expectedChildren(name).filter((child) => !this.seen.has(`${namespace}/${child}`));
  }
}

/** Nearest-rank percentile of the samples (ms), rounded to 0.1 ms. */
function percentile(samples: readonly number[], q: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! * 10) / 10;
}

interface Percentiles {
  runs: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  /** clusters that did not get there within the wait */
  timedOut: number;
}

function percentiles(samples: readonly number[], timedOut: number): Percentiles {
  return {
    runs: samples.length,
    p50Ms: percentile(samples, 0.5),
    p95Ms: percentile(samples, 0.95),
    maxMs: percentile(samples, 1),
    timedOut,
  };
}

/** Waits until `done()` or `timeoutMs`; @returns whether it got there */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = now() + timeoutMs; now() < deadline; await sleep(20)) if (done()) return true;
  return done();
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** @returns user + system CPU seconds the process has used so far */
function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields of the line.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * @returns the voluntary context switches of all the process's threads so far: a thread that sleeps until a timer
 *   or a socket wakes it switches once per wake-up (proc(5), `voluntary_ctxt_switches`)
 */
function wakeUps(pid: number): number {
  let sum = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(
        /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'))![1],
      );
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

/** What the burst of creates measured of one operator. */
interface BurstFigures {
  /** from the first apply to the last child of the last cluster; null when not all came within the wait */
  allChildrenMs: number | null;
  /** clusters with all their children */
  complete: number;
  clusters: number;
  /** the operator's RSS (summed over its processes) just before the burst and its highest sample (every 100 ms) */
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** `PostgresClusterStatus` → clusters, once all children came (or the wait ended) */
  statuses: Record<string, number>;
}

/** @returns how many of the named `postgresql` objects have each `status.PostgresClusterStatus` (`none`: no status) */
async function statusCounts(client: KubeClient, namespace: string, names: string[]): Promise<Record<string, number>> {
  const wanted = new Set(names);
  const counts: Record<string, number> = {};
  for (const item of await client.list('postgresql', namespace)) {
    if (!wanted.has(item.metadata?.name ?? '')) continue;
    const status = String(item.status?.PostgresClusterStatus ?? 'none');
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

const sumRss = (pids: number[]) => pids.map(rssMiB).reduce((a, b) => a + b, 0);

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

const envNumber = (name: string, fallback: number) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${value} is not a non-negative number`);
  return n;
};

/** The two operators under test. */
type Side = 'zalando' | 'ours';
const SIDES: readonly Side[] = ['zalando', 'ours'];

/**
 * Runs the comparison on the cluster of $KUBECONFIG (it installs Zalando's CRD there, replacing this project's).
 * Settings from the environment: BENCH_PEER_N, BENCH_PEER_BURST, BENCH_PEER_CLUSTERS, BENCH_PEER_IDLE_SECONDS, BENCH_PEER_GAP_MS,
 * BENCH_PEER_MODE (`single`, the default, or `per-function`), BENCH_PEER_WAIT_SECONDS (how long a phase waits for
 * children), BENCH_PEER_RESOURCE_CHECK_TIMEOUT,
 * BENCH_PEER_KUBE_QPS and BENCH_PEER_KUBE_BURST (Zalando's client rate limit; default 10 and 20, its own).
 * @returns the figures, also printed as a table
 */
export async function benchPeer(): Promise<Record<string, unknown>> {
  const n = Math.floor(envNumber('BENCH_PEER_N', 20));
  const burstSize = Math.floor(envNumber('BENCH_PEER_BURST', n));
  const clusters = Math.max(Math.floor(envNumber('BENCH_PEER_CLUSTERS', 100)), n + burstSize);
  const idleSeconds = envNumber('BENCH_PEER_IDLE_SECONDS', 60);
  const mode = process.env.BENCH_PEER_MODE === 'per-function' ? 'per-function' : 'single';
  const gapMs = envNumber('BENCH_PEER_GAP_MS', 2500);
  const waitMs = envNumber('BENCH_PEER_WAIT_SECONDS', 180) * 1000;
  const resourceCheckTimeout = process.env.BENCH_PEER_RESOURCE_CHECK_TIMEOUT ?? '3s';
  // Zalando's client rate limit (its -kubeqps/-kubeburst flags, 10 and 20 by default): issue 14 compares the
  // burst with Zalando at 100 requests a second too.
  const kubeQps = Math.floor(envNumber('BENCH_PEER_KUBE_QPS', 10));
  const kubeBurst = Math.floor(envNumber('BENCH_PEER_KUBE_BURST', 20));
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('KUBECONFIG is not set');

  const client = KubeClient.fromDefault();
  const ns: Record<Side, string> = { zalando: `bench-peer-z-${process.pid}`, ours: `bench-peer-o-${process.pid}` };
  const logDir = mkdtempSync(path.join(tmpdir(), 'bench-peer-logs-'));
  const began = now();
  const progress = (message: string) =>
    console.error(`bench peer: [${((now() - began) / 1000).toFixed(0)} s] ${message}`);
  progress(`logs in ${logDir}`);
  execFileSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, `${root}scripts/build.ts`, '--quiet'], {
    stdio: 'ignore',
  });
  // Zalando's v1.15.1 stops at start when it cannot register its CRD on a server that has none: install its own.
  await installCrd(client, parse(peerFile('manifests/postgresql.crd.yaml')));
  const shipped = (parse(peerFile('manifests/configmap.yaml')) as { data: Record<string, string> }).data;
  const overrides = {
    resource_check_timeout: resourceCheckTimeout,
    enable_database_access: 'false',
    // Zalando's REST API listens here: a free port rather than 8080, which something else may hold.
    api_port: String(await freePort()),
  };
  const data = { ...shipped, ...overrides };
  for (const side of SIDES) {
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns[side] } });
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postgres-operator', namespace: ns[side] },
      data,
    });
  }
  const recorder = new Recorder(client, new Set(Object.values(ns)));
  await recorder.start();

  let peer: PeerProcess | undefined;
  let deployment: LocalDeployment | undefined;
  /** apply → status code of each failed apply, so a refusal shows in the report */
  const applyFailures: string[] = [];
  const apply = async (side: Side, name: string, instances: number): Promise<number> => {
    const started = now();
    try {
      await client.apply(manifest(ns[side], name, instances));
    } catch (error) {
      applyFailures.push(`${side} ${name}: ${(error as Error).message}`);
    }
    return started;
  };
  try {
    peer = await startPeer({
      kubeconfig,
      watchedNamespace: ns.zalando,
      configMap: `${ns.zalando}/postgres-operator`,
      logFile: path.join(logDir, 'zalando.log'),
      args: ['-kubeqps', String(kubeQps), '-kubeburst', String(kubeBurst)],
    });
    deployment = await startLocal({
      logDir,
      env: { OPERATOR_NAMESPACE: ns.ours, WATCHED_NAMESPACE: ns.ours, LOG_LEVEL: 'warn' },
      mode,
    });
    const pids: Record<Side, number[]> = {
      zalando: [peer.pid],
      // In single mode every function and the bridge share one process: count it once.
      ours: [...new Set([...deployment.functions, deployment.bridge!].map((p) => p.child.pid!))],
    };

    // 1. Interleaved creates.
    progress(`${n} interleaved creates each, ${gapMs} ms apart`);
    const createdAt: Record<Side, Map<string, number>> = { zalando: new Map(), ours: new Map() };
    const name = (i: number) => `peer-${i}`;
    for (let i = 0; i < n; i++)
      for (const side of SIDES) {
        createdAt[side].set(name(i), await apply(side, name(i), 1));
        await sleep(gapMs);
      }
    const complete = (side: Side, names: Iterable<string>) =>
      [...names].every((c) => recorder.children(ns[side], c, 0) !== undefined);
    await until(() => SIDES.every((side) => complete(side, createdAt[side].keys())), waitMs);
    const interleaved = Object.fromEntries(
      SIDES.map((side) => {
        const times = [...createdAt[side]].map(([c, t]) => recorder.children(ns[side], c, t));
        const done = times.filter((t) => t !== undefined);
        const afterAdd = [...createdAt[side]]
          .map(([c, t]) => {
            const child = recorder.children(ns[side], c, t);
            return child && recorder.afterAddSeen(ns[side], c, child.first, t);
          })
          .filter((t) => t !== undefined);
        const missing = [...createdAt[side].keys()]
          .map((c) => recorder.missing(ns[side], c).map((child) => `${c}: ${child}`))
          .flat();
        return [
          side,
          {
            allChildren: percentiles(
              done.map((t) => t.all),
              times.length - done.length,
            ),
            firstChild: percentiles(
              done.map((t) => t.first),
              times.length - done.length,
            ),
            firstChildAfterAddSeen: percentiles(afterAdd, times.length - afterAdd.length),
            missing: missing.slice(0, 10),
          },
        ];
      }),
    ) as Record<
      Side,
      { allChildren: Percentiles; firstChild: Percentiles; firstChildAfterAddSeen: Percentiles; missing: string[] }
    >;

    // 2. Burst: every create at once, one operator after the other.
    const burst = {} as Record<Side, BurstFigures>;
    for (const side of SIDES) {
      progress(`burst of ${burstSize} creates for ${side}`);
      const names = Array.from({ length: burstSize }, (_, i) => `peer-burst-${i}`);
      const rss = { before: sumRss(pids[side]), peak: 0 };
      const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, sumRss(pids[side]))), 100);
      const started = now();
      await Promise.all(names.map((c) => apply(side, c, 1)));
      const ok = await until(() => complete(side, names), waitMs);
      clearInterval(sampler);
      const times = names.map((c) => recorder.children(ns[side], c, started));
      burst[side] = {
        allChildrenMs: ok ? Math.round(Math.max(...times.map((t) => t!.all)) * 10) / 10 : null,
        complete: times.filter((t) => t !== undefined).length,
        clusters: burstSize,
        rssBeforeMiB: Math.round(rss.before * 10) / 10,
        rssPeakMiB: Math.round(Math.max(rss.peak, sumRss(pids[side])) * 10) / 10,
        statuses: await statusCounts(client, ns[side], names),
      };
      await sleep(gapMs);
    }

    // 3. Updates reaching the StatefulSet, interleaved like the creates.
    progress(`${n} interleaved updates each (numberOfInstances 1 → 2)`);
    const updatedAt: Record<Side, Map<string, number>> = { zalando: new Map(), ours: new Map() };
    for (let i = 0; i < n; i++)
      for (const side of SIDES) {
        updatedAt[side].set(name(i), await apply(side, name(i), 2));
        await sleep(gapMs);
      }
    const scaled = (side: Side, c: string) => recorder.replicas.get(`${ns[side]}/${c}/2`);
    await until(() => SIDES.every((side) => [...updatedAt[side].keys()].every((c) => scaled(side, c))), waitMs);
    const update = Object.fromEntries(
      SIDES.map((side) => {
        const times = [...updatedAt[side]].map(([c, t]) => (scaled(side, c) ?? NaN) - t).filter((t) => t >= 0);
        return [side, percentiles(times, n - times.length)];
      }),
    ) as Record<Side, Percentiles>;

    // 4. Idle with `clusters` clusters each: top up, wait for their children, then measure.
    progress(`up to ${clusters} clusters each, then ${idleSeconds} s idle`);
    const fleet = Array.from({ length: clusters - n - burstSize }, (_, i) => `peer-idle-${i}`);
    for (let i = 0; i < fleet.length; i += 10)
      await Promise.all(fleet.slice(i, i + 10).flatMap((c) => SIDES.map((side) => apply(side, c, 1))));
    const fleetComplete = await until(() => SIDES.every((side) => complete(side, fleet)), waitMs * 2);
    await sleep(5000); // let the last syncs finish before the window opens
    const before = Object.fromEntries(SIDES.map((side) => [side, pids[side].map(cpuSeconds)]));
    const wokenBefore = Object.fromEntries(SIDES.map((side) => [side, pids[side].map(wakeUps)]));
    await sleep(idleSeconds * 1000);
    const idle = Object.fromEntries(
      SIDES.map((side) => {
        const cpu = pids[side].map((pid, i) => cpuSeconds(pid) - before[side]![i]!);
        return [
          side,
          {
            processes: pids[side].length,
            cpuSeconds: Math.round(cpu.reduce((a, b) => a + b, 0) * 100) / 100,
            wakeUpsPerMinute: Math.round(
              (pids[side].map((pid, i) => wakeUps(pid) - wokenBefore[side]![i]!).reduce((a, b) => a + b, 0) * 60) /
                idleSeconds,
            ),
            rssMiB: Math.round(pids[side].map(rssMiB).reduce((a, b) => a + b, 0) * 10) / 10,
          },
        ];
      }),
    ) as Record<Side, { processes: number; cpuSeconds: number; wakeUpsPerMinute: number; rssMiB: number }>;

    const ratio = (ours: number | null, zalando: number | null) =>
      ours === null || zalando === null || zalando === 0 ? null : Math.round((ours / zalando) * 100) / 100;
    const row = (metric: string, z: number | null, o: number | null) => ({
      metric,
      zalando: z,
      ours: o,
      'ours/zalando': ratio(o, z),
    });
    console.table([
      row('create → all children p50 ms', interleaved.zalando.allChildren.p50Ms, interleaved.ours.allChildren.p50Ms),
      row('create → all children p95 ms', interleaved.zalando.allChildren.p95Ms, interleaved.ours.allChildren.p95Ms),
      row('create → first child p50 ms', interleaved.zalando.firstChild.p50Ms, interleaved.ours.firstChild.p50Ms),
      row('create → first child p95 ms', interleaved.zalando.firstChild.p95Ms, interleaved.ours.firstChild.p95Ms),
      row(
        'add seen by a watch → first child p50 ms',
        interleaved.zalando.firstChildAfterAddSeen.p50Ms,
        interleaved.ours.firstChildAfterAddSeen.p50Ms,
      ),
      row(
        'add seen by a watch → first child p95 ms',
        interleaved.zalando.firstChildAfterAddSeen.p95Ms,
        interleaved.ours.firstChildAfterAddSeen.p95Ms,
      ),
      row(`burst of ${burstSize} → all children ms`, burst.zalando.allChildrenMs, burst.ours.allChildrenMs),
      row(`burst of ${burstSize}: peak RSS MiB`, burst.zalando.rssPeakMiB, burst.ours.rssPeakMiB),
      row('update → StatefulSet replicas p50 ms', update.zalando.p50Ms, update.ours.p50Ms),
      row('update → StatefulSet replicas p95 ms', update.zalando.p95Ms, update.ours.p95Ms),
      row(`idle ${idleSeconds} s, ${clusters} clusters: CPU s`, idle.zalando.cpuSeconds, idle.ours.cpuSeconds),
      row(`idle ${clusters} clusters: wake-ups a minute`, idle.zalando.wakeUpsPerMinute, idle.ours.wakeUpsPerMinute),
      row(`idle ${clusters} clusters: RSS MiB`, idle.zalando.rssMiB, idle.ours.rssMiB),
      row('processes', idle.zalando.processes, idle.ours.processes),
    ]);
    const statusRefusals = countStatusRefusals(logDir);
    // What each operator wrote into `status` under Zalando's CRD (a map of strings), for the report.
    const statusOf = async (side: Side) =>
      (await client.get({ kind: 'postgresql', namespace: ns[side], name: name(0) }))?.status as unknown;
    const statusSample = { zalando: await statusOf('zalando'), ours: await statusOf('ours') };
    if (applyFailures.length) console.error(`bench peer: failed applies:\n${applyFailures.join('\n')}`);
    return {
      zalandoVersion: 'v1.15.1',
      mode,
      zalandoKubeClient: {
        qps: kubeQps,
        burst: kubeBurst,
        source: 'the -kubeqps/-kubeburst flags (shipped defaults 10/20; BENCH_PEER_KUBE_QPS, BENCH_PEER_KUBE_BURST)',
      },
      configMap: { source: "Zalando's manifests/configmap.yaml", overrides },
      n,
      gapMs,
      interleaved,
      burst,
      update,
      idle: { clusters, seconds: idleSeconds, allChildrenPresent: fleetComplete, ...idle },
      ourStatusWritesRefused: statusRefusals,
      statusSample,
      applyFailures: applyFailures.slice(0, 10),
      logDir,
    };
  } finally {
    recorder.stop();
    await Promise.all([peer?.stop(), deployment?.stop()]);
    for (const side of SIDES) await client.delete({ kind: 'Namespace', name: ns[side] }).catch(() => undefined);
    client.close();
  }
}

/** @returns how many log lines of our processes report a 422 (Zalando's CRD refuses our status) */
function countStatusRefusals(logDir: string): number {
  let count = 0;
  for (const file of ['operator', 'on-create', 'on-update', 'on-delete', 'periodic-sync', 'on-operator-config-change'])
    try {
      count += readFileSync(path.join(logDir, `${file}.log`), 'utf8')
        .split('\n')
        .filter((line) => / 422 Invalid/.test(line)).length;
    } catch {
      /* no log: the function never ran */
    }
  return count;
}
