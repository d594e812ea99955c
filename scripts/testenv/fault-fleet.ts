/**
 * Fault schedules, the runner: a fleet of Patroni clusters on the full control plane (real Patroni and PostgreSQL
 * behind every pod, scripts/testenv/patroni-pods.ts), the operator deployed locally (six function hosts and the
 * bridge as processes, scripts/deploy/local.ts), and {@link FaultFleet.run} applying one schedule of
 * `fault-schedules.ts`: the change, the faults at their triggers, then the checks against the fault-free outcome.
 *
 * Every schedule starts from a settled fleet and leaves one (the next schedule's baseline). Its row says:
 * - the end state matches a fault-free run: each StatefulSet's spec equals the one recorded after the fault-free
 *   run reaching the same image (replicas aside, checked against the wanted count); every pod on the StatefulSet's
 *   update revision, on the wanted image, Ready and a running Patroni member; one master (by label and by
 *   Patroni); no master left on a cordoned node; status `Running`, `Ready=True`, nothing `Progressing`;
 * - nothing was lost: every password in the credentials Secrets unchanged, every user logs in (and the owner of
 *   each database into it), every PVC of a pod that still exists kept its uid, no password in any function log;
 * - at most one pod of a cluster down at any time (scripts/testenv/rollout-observer.ts, every 250 ms);
 * - the wall time from the change to the settled fleet, beside that of the fault-free run of the same change, and
 *   the time from the pods settling to the status settling.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pRetry from 'p-retry';
import { binaryRequest, toCloudEvent } from '../../lib/bridge/cloudevent';
import type { WatchedResource } from '../../lib/bridge/routing';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { hasReadyCondition } from '../../lib/k8s/pods';
import { clusterLeader, PatroniClient, patroniUrl } from '../../lib/patroni';
import type { FunctionSpec } from '../../lib/registry/functions';
import { startLocal, type LocalDeployment } from '../deploy/local';
import { describeFault, type ChangeKind, type Fault, type Schedule } from './fault-schedules';
import type { PatroniTools } from './patroni-process';
import { PatroniPods } from './patroni-pods';
import { login } from './pg-login';
import { postgresImage } from './rollout-fleet';
import { RolloutObserver, type ClusterRecord } from './rollout-observer';

const run = promisify(execFile);
const testenvScript = fileURLToPath(new URL('./testenv.sh', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FLAG_ANNOTATION = 'zalando-postgres-operator-rolling-update-required';

/**
 * Runs one API call of the harness again while it fails (for ~30 s: another fault may be restarting the API
 * server), so that a fault is injected and, above all, undone.
 */
const retrying = <T>(call: () => Promise<T>): Promise<T> =>
  pRetry(call, { retries: 10, minTimeout: 300, maxTimeout: 5_000, factor: 1.6 });

/** Options of {@link FaultFleet.start}. */
export interface FaultFleetOptions {
  client: KubeClient;
  namespace: string;
  /** cluster names */
  clusters: readonly string[];
  instances: number;
  /** the two images the `image` change flips between; the fleet starts on the first */
  images: readonly [string, string];
  /** `rollout_clusters_at_once` */
  atOnce: number;
  tools: PatroniTools;
  /** Patroni data and logs, and the function logs under `logs/` */
  dir: string;
  /** environment of every operator process (e.g. KUBECONFIG of the bridge's ServiceAccount) */
  env?: Record<string, string | undefined>;
  functionEnv?: (spec: FunctionSpec) => Record<string, string | undefined>;
  /** progress lines */
  log?: (line: string) => void;
  /** ms for a schedule's change to settle before its row fails; default 900000 */
  settleTimeoutMs?: number;
}

/** The outcome of one schedule. */
export interface ScheduleRow {
  seed: number | 'fault-free';
  change: string;
  faults: string;
  /** s from the change to the settled fleet */
  seconds: number;
  /** s of the fault-free run of the same change, when known */
  faultFreeSeconds?: number;
  /** most pods of one cluster down at once */
  maxDown: number;
  /** ms from the pods settling to the status settling (the slowest cluster) */
  statusLagMs: number;
  /** what failed; empty when the schedule passed */
  failures: string[];
}

interface ClusterState {
  instances: number;
  /** user -> the database it owns, if any */
  users: Map<string, string | undefined>;
}

const secretName = (user: string, cluster: string) =>
  `${user.replace(/_/g, '-')}.${cluster}.credentials.postgresql.acid.zalan.do`;

/** @returns the StatefulSet's spec without `replicas`, as JSON: what a fault-free run is compared on */
function specShape(sts: KubeObject): string {
  const { replicas: _replicas, ...spec } = sts.spec ?? {};
  return JSON.stringify(spec);
}

export class FaultFleet {
  private image: string;
  private readonly state = new Map<string, ClusterState>();
  /** `<cluster>|<image>` -> the StatefulSet spec a fault-free run reached */
  private readonly reference = new Map<string, string>();
  /** seconds of the fault-free run of each change */
  private readonly faultFree = new Map<ChangeKind, number>();
  private cordoned = new Set<string>();
  private userSerial = 0;

  private constructor(
    private readonly options: FaultFleetOptions,
    private readonly pods: PatroniPods,
    readonly deployment: LocalDeployment,
  ) {
    this.image = options.images[0];
    for (const name of options.clusters)
      this.state.set(name, { instances: options.instances, users: new Map([['app_owner', 'app']]) });
  }

  /** Starts the Patroni pods and the operator, creates the clusters and waits until they are up. */
  static async start(options: FaultFleetOptions): Promise<FaultFleet> {
    const { client, namespace } = options;
    const pods = new PatroniPods({
      kubeconfig: process.env.KUBECONFIG!,
      namespace,
      tools: options.tools,
      dir: options.dir,
      // Roles are synced through the master Service's name: a private /etc/hosts resolves it (netns.sh).
      ...(process.env.TESTENV_PRIVATE_HOSTS === '1' ? { hostsFile: '/etc/hosts' } : {}),
      log: (line) => {
        if (process.env.PATRONI_PODS_LOG) console.error(line);
      },
    });
    pods.start();
    let deployment: LocalDeployment | undefined;
    try {
      deployment = await startLocal({
        logDir: path.join(options.dir, 'logs'),
        env: {
          OPERATOR_NAMESPACE: namespace,
          WATCHED_NAMESPACE: namespace,
          PERIODIC_SYNC_SCHEDULE: 'off',
          LOG_LEVEL: 'info',
          ...options.env,
        },
        functionEnv: options.functionEnv,
      });
      const fleet = new FaultFleet(options, pods, deployment);
      await client.apply(fleet.configMap());
      for (const name of options.clusters) await client.apply(fleet.manifest(name));
      await fleet.settle('the fleet up', 'image', Date.now());
      for (const name of options.clusters) {
        const sts = (await client.get({ kind: 'StatefulSet', namespace, name }))!;
        fleet.reference.set(`${name}|${fleet.image}`, specShape(sts));
      }
      return fleet;
    } catch (error) {
      await deployment?.stop();
      await pods.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.deployment.stop();
    await this.pods.stop();
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private configMap(extra: Record<string, string> = {}): KubeObject {
    const { namespace } = this.options;
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postgres-operator', namespace },
      data: {
        watched_namespace: namespace,
        docker_image: this.image,
        rollout_clusters_at_once: String(this.options.atOnce),
        rollout_cluster_delay: '0s',
        // A leader whose Kubernetes DCS (the API server) is unreachable for longer than retry_timeout demotes
        // itself unless failsafe mode is on and every member answers: the API server restart fault is about the
        // operator, not about that rule of Patroni's.
        enable_patroni_failsafe_mode: 'true',
        ...extra,
      },
    };
  }

  /** PostgreSQL 15 behind the pods is Debian's; the version only names the binaries Spilo would pick. */
  private manifest(name: string): KubeObject {
    const state = this.state.get(name)!;
    const users = Object.fromEntries([...state.users.keys()].map((u) => [u, [] as string[]]));
    const databases = Object.fromEntries(
      [...state.users].filter(([, db]) => db !== undefined).map(([user, db]) => [db!, user]),
    );
    return {
      apiVersion: 'acid.zalan.do/v1',
      kind: 'postgresql',
      metadata: { name, namespace: this.options.namespace },
      spec: {
        teamId: 'acid',
        numberOfInstances: state.instances,
        volume: { size: '1Gi' },
        postgresql: { version: '15' },
        // Patroni's default ttl and retry_timeout (the harness shortens them): a leader rides out an API server
        // restart of a few seconds (with failsafe mode, see configMap) as it would in production.
        patroni: { ttl: 30, loop_wait: 1, retry_timeout: 10 },
        users,
        databases,
      },
    };
  }

  /** Runs one schedule (a fault-free one when it has no faults) and returns its row. */
  async run(schedule: Schedule): Promise<ScheduleRow> {
    const { client, namespace, clusters } = this.options;
    const failures: string[] = [];
    const target = clusters[schedule.cluster]!;
    const baseline = await this.snapshot();
    const stale = new Map<string, KubeObject>();
    for (const name of clusters) stale.set(name, (await client.get({ kind: 'postgresql', namespace, name }))!);
    const staleConfig = (await client.get({ kind: 'ConfigMap', namespace, name: 'postgres-operator' }))!;

    // The observer counts pods down against the smaller of the old and new instance counts (a pod removed by a
    // scale-down is not down).
    const observer = new RolloutObserver({
      client,
      namespace,
      clusters: new Map(clusters.map((c) => [c, this.state.get(c)!.instances])),
    });
    await observer.start();
    const started = Date.now();
    const what = this.applyChange(schedule, target);
    await what.apply();
    const injected = schedule.faults.map((fault) =>
      this.inject(fault, observer, started, stale, staleConfig).catch((error: unknown) => {
        failures.push(`fault ${describeFault(fault)} could not be injected: ${String(error)}`);
      }),
    );
    let statusLagMs = 0;
    try {
      statusLagMs = await this.settle(what.description, schedule.change, started, what.extraCheck);
    } catch (error) {
      failures.push(String(error).split('\n').slice(0, 12).join('\n'));
    }
    const seconds = (Date.now() - started) / 1000;
    await Promise.all(injected);
    const records = await observer.stop();
    if (failures.length === 0) failures.push(...(await this.check(baseline, records)));
    await this.uncordonAll();
    if (schedule.faults.length === 0) {
      this.faultFree.set(schedule.change, seconds);
      for (const name of clusters) {
        const sts = (await client.get({ kind: 'StatefulSet', namespace, name }))!;
        this.reference.set(`${name}|${this.image}`, specShape(sts));
      }
    }
    return {
      seed: schedule.faults.length === 0 ? 'fault-free' : schedule.seed,
      change: what.description,
      faults: schedule.faults.map(describeFault).join('; ') || '-',
      seconds,
      faultFreeSeconds: this.faultFree.get(schedule.change),
      maxDown: Math.max(...[...records.values()].map((r) => r.maxDown)),
      statusLagMs,
      failures,
    };
  }

  /**
   * Restarts the bridge (its initial lists deliver every object again) or the API server (every watch of the
   * bridge breaks and resumes) on the settled fleet, waits `quietMs` for the deliveries, and lists every object the
   * operator writes whose resourceVersion moved meanwhile, and the Events it added: on a converged fleet a relist is
   * no work, so the list is empty.
   * @returns `<Kind>/<name>` of each object written, and `Event <reason>: <message>` of each new Event
   */
  async restartWhileIdle(what: 'bridge' | 'apiserver', quietMs = 15_000): Promise<string[]> {
    const before = await this.operatorObjects();
    if (what === 'bridge') {
      await this.deployment.stopBridge(true);
      await this.deployment.startBridge();
    } else await restartApiServer(0);
    await sleep(quietMs);
    const after = await this.operatorObjects();
    return [...after].filter(([key, version]) => before.get(key) !== version).map(([key]) => key);
  }

  /** @returns `<Kind>/<name>` (or `Event <reason>: <message>`) -> resourceVersion of what the operator writes */
  private async operatorObjects(): Promise<Map<string, string>> {
    const { client, namespace } = this.options;
    const out = new Map<string, string>();
    // Patroni writes the Endpoints, the pods and its config objects itself; the rest is the operator's.
    const kinds = ['postgresql', 'StatefulSet', 'Service', 'Secret', 'PodDisruptionBudget', 'ServiceAccount', 'Lease'];
    for (const kind of kinds)
      for (const o of await client.list(kind, namespace))
        out.set(`${kind}/${o.metadata!.name}`, o.metadata!.resourceVersion as string);
    for (const e of await client.list('Event', namespace))
      if (e.source?.component !== 'patroni')
        out.set(`Event ${e.reason}: ${e.message}`, `${e.count ?? 1}/${e.metadata!.resourceVersion}`);
    return out;
  }

  /** The change of a schedule: how to apply it and what else the settled fleet must show. */
  private applyChange(
    schedule: Schedule,
    target: string,
  ): { description: string; apply: () => Promise<void>; extraCheck?: () => Promise<string | undefined> } {
    const { client } = this.options;
    const state = this.state.get(target)!;
    switch (schedule.change) {
      case 'image': {
        this.image = this.image === this.options.images[0] ? this.options.images[1] : this.options.images[0];
        return {
          description: `docker_image → ${this.image.split(':').pop()}`,
          apply: async () => void (await retrying(() => client.apply(this.configMap()))),
        };
      }
      case 'instances': {
        state.instances =
          state.instances === this.options.instances ? this.options.instances + 1 : this.options.instances;
        return {
          description: `${target} numberOfInstances → ${state.instances}`,
          apply: async () => void (await retrying(() => client.apply(this.manifest(target)))),
        };
      }
      case 'user': {
        const user = `app_${schedule.seed}_${++this.userSerial}`;
        state.users.set(user, `db_${schedule.seed}_${this.userSerial}`);
        return {
          description: `${target} + user ${user}`,
          apply: async () => void (await retrying(() => client.apply(this.manifest(target)))),
          extraCheck: async () => {
            const secret = await client.get({
              kind: 'Secret',
              namespace: this.options.namespace,
              name: secretName(user, target),
            });
            return secret ? undefined : `no Secret for ${user} yet`;
          },
        };
      }
    }
  }

  /** Waits until the trigger, then injects the fault; returns when the fault is over (restored). */
  private async inject(
    fault: Fault,
    observer: RolloutObserver,
    started: number,
    stale: Map<string, KubeObject>,
    staleConfig: KubeObject,
  ): Promise<void> {
    const { trigger } = fault;
    if ('afterMs' in trigger) await sleep(Math.max(0, started + trigger.afterMs - Date.now()));
    else {
      const name = this.options.clusters[trigger.cluster]!;
      // A trigger that never comes (the change is over first) fires when the fleet has settled instead: by then
      // the rollout of that cluster is done, which the row shows.
      const deadline = Date.now() + (this.options.settleTimeoutMs ?? 900_000);
      while ((observer.records.get(name)?.recreated.length ?? 0) < trigger.podsReplaced && Date.now() < deadline)
        await sleep(100);
    }
    const { deployment } = this;
    this.log(`  fault: ${describeFault(fault)} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
    switch (fault.kind) {
      case 'kill-host':
        await deployment.killAndRestart(fault.target!);
        return;
      case 'kill-host-long':
        await deployment.killAndRestart(fault.target!, fault.holdMs);
        return;
      case 'kill-bridge':
        await deployment.stopBridge(true);
        await sleep(fault.holdMs ?? 0);
        await deployment.startBridge();
        return;
      case 'restart-apiserver':
        await restartApiServer(fault.holdMs ?? 0);
        return;
      case 'stale-events':
        await this.sendStaleEvents(this.options.clusters[fault.cluster!]!, stale, staleConfig);
        return;
      case 'second-host':
        await this.secondHost(fault.target!, this.options.clusters[fault.cluster ?? 0]!);
        return;
      case 'invalid-config':
        await retrying(() => this.options.client.apply(this.configMap({ rollout_clusters_at_once: 'zero' })));
        await sleep(fault.holdMs ?? 0);
        await retrying(() => this.options.client.apply(this.configMap()));
        return;
      case 'cordon-master':
        await this.cordonMaster(this.options.clusters[fault.cluster!]!);
        return;
    }
  }

  /**
   * POSTs an event as the bridge would, to the function host itself.
   * @returns the HTTP status, or 0 when the host did not answer (another fault may have killed it: the event is
   *   lost, as a platform's delivery to a dead host would be)
   */
  private async deliver(url: string, resource: WatchedResource, object: KubeObject): Promise<number> {
    const request = binaryRequest(toCloudEvent({ resource, action: 'update', object }));
    try {
      const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
      await response.text();
      return response.status;
    } catch {
      return 0;
    }
  }

  private functionUrl(name: string): string {
    return this.deployment.functions.find((f) => f.name === name)!.url;
  }

  /**
   * The cluster's object as it was before the change (stale), the current one twice at once (duplicated), and the
   * current then the stale one (reversed), to on-update; the ConfigMap before the change to
   * on-operator-config-change. A 500 answer is a failure of the function.
   */
  private async sendStaleEvents(cluster: string, stale: Map<string, KubeObject>, staleConfig: KubeObject) {
    const { client, namespace } = this.options;
    const current = (await retrying(() => client.get({ kind: 'postgresql', namespace, name: cluster })))!;
    const onUpdate = this.functionUrl('on-update');
    const codes = [
      await this.deliver(onUpdate, 'postgresql', stale.get(cluster)!),
      ...(await Promise.all([
        this.deliver(onUpdate, 'postgresql', current),
        this.deliver(onUpdate, 'postgresql', current),
      ])),
      await this.deliver(onUpdate, 'postgresql', current),
      await this.deliver(onUpdate, 'postgresql', stale.get(cluster)!),
      await this.deliver(this.functionUrl('on-operator-config-change'), 'operator-configmap', staleConfig),
    ];
    if (codes.some((c) => c >= 500 && c !== 503)) throw new Error(`a function answered ${codes.join(', ')}`);
  }

  /** A second host of `name`; both get the same current event three times at once, then the second one stops. */
  private async secondHost(name: string, cluster: string): Promise<void> {
    const { client, namespace } = this.options;
    const another = await this.deployment.startAnother(name);
    try {
      const [resource, object]: [WatchedResource, KubeObject] =
        name === 'on-operator-config-change'
          ? [
              'operator-configmap',
              (await retrying(() => client.get({ kind: 'ConfigMap', namespace, name: 'postgres-operator' })))!,
            ]
          : name === 'on-node-drain'
            ? ['node', (await retrying(() => client.list('Node')))[0]!]
            : ['postgresql', (await retrying(() => client.get({ kind: 'postgresql', namespace, name: cluster })))!];
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        codes.push(
          ...(await Promise.all([
            this.deliver(this.functionUrl(name), resource, object),
            this.deliver(another.url, resource, object),
          ])),
        );
        await sleep(500);
      }
      if (codes.some((c) => c >= 500 && c !== 503)) throw new Error(`${name} answered ${codes.join(', ')}`);
    } finally {
      another.child.kill('SIGTERM');
    }
  }

  private async cordonMaster(cluster: string): Promise<void> {
    const { client, namespace } = this.options;
    const master = (await retrying(() => client.list('Pod', namespace, `cluster-name=${cluster}`))).find(
      (p) => p.metadata?.labels?.['spilo-role'] === 'master' && !p.metadata.deletionTimestamp,
    );
    const node = master?.spec?.nodeName as string | undefined;
    if (!node) throw new Error(`${cluster} has no master on a node`);
    this.cordoned.add(node);
    await retrying(() => client.mergePatch({ kind: 'Node', name: node }, { spec: { unschedulable: true } }));
  }

  private async uncordonAll(): Promise<void> {
    for (const node of this.cordoned)
      await retrying(() =>
        this.options.client.mergePatch({ kind: 'Node', name: node }, { spec: { unschedulable: null } }),
      );
    this.cordoned = new Set();
  }

  /** What must not change: pod uids, PVC uids, passwords. */
  private async snapshot() {
    const { client, namespace } = this.options;
    const pvcs = new Map(
      (await client.list('PersistentVolumeClaim', namespace)).map((c) => [c.metadata!.name!, c.metadata!.uid!]),
    );
    const passwords = new Map<string, string>();
    for (const [cluster, state] of this.state)
      for (const user of ['postgres', 'standby', ...state.users.keys()]) {
        const secret = await client.get({ kind: 'Secret', namespace, name: secretName(user, cluster) });
        const data = secret?.data?.password as string | undefined;
        if (data) passwords.set(`${cluster}/${user}`, Buffer.from(data, 'base64').toString('utf8'));
      }
    return { pvcs, passwords };
  }

  /**
   * Waits until every cluster is settled: its pods as wanted and then its status. Throws after the timeout with
   * what is still off.
   * @returns ms from the pods settling to the status settling, for the slowest cluster
   */
  private async settle(
    what: string,
    change: ChangeKind,
    started: number,
    extraCheck?: () => Promise<string | undefined>,
  ): Promise<number> {
    const deadline = started + (this.options.settleTimeoutMs ?? 900_000);
    const podsSettledAt = new Map<string, number>();
    const lags = new Map<string, number>();
    let off = '';
    let lastLog = Date.now();
    for (;;) {
      try {
        off = (await this.unsettled(podsSettledAt, lags)) ?? (extraCheck ? ((await extraCheck()) ?? '') : '');
      } catch (error) {
        off = `reading the fleet: ${String(error)}`;
      }
      if (off === '') return Math.max(0, ...lags.values());
      if (Date.now() > deadline) throw new Error(`${what} (${change}) not settled in time: ${off}`);
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        this.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${off}`);
      }
      await sleep(250);
    }
  }

  /** @returns what is not settled yet, or undefined; records when each cluster's pods and status settled */
  private async unsettled(podsSettledAt: Map<string, number>, lags: Map<string, number>): Promise<string | undefined> {
    const { client, namespace } = this.options;
    const pods = await client.list('Pod', namespace, 'application=spilo');
    const objects = new Map((await client.list('postgresql', namespace)).map((o) => [o.metadata!.name!, o]));
    const statefulSets = new Map((await client.list('StatefulSet', namespace)).map((s) => [s.metadata!.name!, s]));
    for (const [name, state] of this.state) {
      if (lags.has(name)) continue;
      const own = pods.filter((p) => p.metadata?.labels?.['cluster-name'] === name);
      const sts = statefulSets.get(name);
      const revision = sts?.status?.updateRevision as string | undefined;
      const podsOff =
        own.length !== state.instances
          ? `${own.length} of ${state.instances} pods`
          : (own
              .map((p) => {
                const podName = p.metadata!.name!;
                if (p.metadata!.deletionTimestamp) return `${podName} being deleted`;
                if (!hasReadyCondition(p)) return `${podName} not Ready`;
                if (patroniState(p) !== 'running') return `${podName} Patroni ${patroniState(p) ?? 'not started'}`;
                if (postgresImage(p) !== this.image) return `${podName} on ${postgresImage(p)}`;
                if (p.metadata!.annotations?.[FLAG_ANNOTATION] !== undefined) return `${podName} flagged`;
                if (p.metadata!.labels?.['controller-revision-hash'] !== revision) return `${podName} old revision`;
                if (this.cordoned.has(p.spec?.nodeName) && p.metadata!.labels?.['spilo-role'] === 'master')
                  return `${podName}: master on cordoned ${p.spec?.nodeName}`;
                return undefined;
              })
              .find((x) => x !== undefined) ??
            (own.filter((p) => p.metadata!.labels?.['spilo-role'] === 'master').length !== 1
              ? 'not one master by label'
              : undefined));
      if (podsOff) {
        podsSettledAt.delete(name);
        return `${name}: ${podsOff}`;
      }
      if (!podsSettledAt.has(name)) podsSettledAt.set(name, Date.now());
      const status = objects.get(name)?.status as
        { PostgresClusterStatus?: string; conditions?: Array<{ type: string; status: string }> } | undefined;
      const conditions = new Map((status?.conditions ?? []).map((c) => [c.type, c.status]));
      if (
        status?.PostgresClusterStatus !== 'Running' ||
        conditions.get('Ready') !== 'True' ||
        conditions.get('Progressing') === 'True' ||
        conditions.get('RollingUpdate') === 'True'
      )
        return `${name}: status ${status?.PostgresClusterStatus}, conditions ${JSON.stringify(Object.fromEntries(conditions))}`;
      lags.set(name, Date.now() - podsSettledAt.get(name)!);
    }
    return undefined;
  }

  /** @returns what differs from a fault-free outcome, one line each */
  private async check(
    baseline: { pvcs: Map<string, string>; passwords: Map<string, string> },
    records: Map<string, ClusterRecord>,
  ): Promise<string[]> {
    const { client, namespace } = this.options;
    const failures: string[] = [];
    const now = await this.snapshot();
    for (const [key, password] of baseline.passwords)
      if (now.passwords.get(key) !== password) failures.push(`password of ${key} changed`);
    const pods = await client.list('Pod', namespace, 'application=spilo');
    for (const pod of pods) {
      const claim = `pgdata-${pod.metadata!.name}`;
      const before = baseline.pvcs.get(claim);
      if (before && now.pvcs.get(claim) !== before) failures.push(`PVC ${claim} replaced`);
    }
    const logs = path.join(this.options.dir, 'logs');
    const logText = readdirSync(logs)
      .map((f) => readFileSync(path.join(logs, f), 'utf8'))
      .join('\n');
    for (const [key, password] of now.passwords)
      if (logText.includes(password)) failures.push(`the password of ${key} is in a function log`);
    for (const [name, state] of this.state) {
      const record = records.get(name)!;
      if (record.maxDown > 1) failures.push(`${name}: ${record.maxDown} pods down at ${JSON.stringify(record.worst)}`);
      const sts = (await client.get({ kind: 'StatefulSet', namespace, name }))!;
      const reference = this.reference.get(`${name}|${this.image}`);
      if (reference !== undefined && specShape(sts) !== reference)
        failures.push(`${name}: StatefulSet spec differs from the fault-free run's`);
      if (sts.spec?.replicas !== state.instances) failures.push(`${name}: replicas ${sts.spec?.replicas}`);
      const own = pods.filter((p) => p.metadata?.labels?.['cluster-name'] === name);
      const leaders = new Set<string>();
      for (const pod of own) {
        const view = await new PatroniClient(patroniUrl(pod.status!.podIP as string), { timeoutMs: 2_000 })
          .getCluster()
          .catch(() => undefined);
        const leader = view && clusterLeader(view);
        if (leader) leaders.add(leader.name);
      }
      const master = own.find((p) => p.metadata!.labels?.['spilo-role'] === 'master');
      if (leaders.size !== 1 || !master || !leaders.has(master.metadata!.name!))
        failures.push(
          `${name}: leaders ${[...leaders].join(',') || 'none'}, master label on ${master?.metadata?.name}`,
        );
      if (!master) continue;
      for (const [user, database] of [['postgres', undefined] as const, ...state.users]) {
        const password = now.passwords.get(`${name}/${user}`);
        const result = password
          ? await login(master.status!.podIP as string, user, password, database ?? 'postgres')
          : 'no Secret';
        if (result !== true) failures.push(`${name}: ${user} cannot log in to ${database ?? 'postgres'}: ${result}`);
      }
    }
    return failures;
  }
}

/** Kills the plane's kube-apiserver and starts it again after `downMs` (scripts/testenv/testenv.sh). */
async function restartApiServer(downMs: number): Promise<void> {
  await run('bash', [testenvScript, 'restart-apiserver', String(downMs / 1000)], {
    env: { ...process.env, KUBEBUILDER_ASSETS: process.env.KUBEBUILDER_ASSETS ?? process.env.TESTENV_BIN },
  });
}

/** @returns the PostgreSQL state Patroni's Kubernetes DCS wrote into the pod's `status` annotation */
function patroniState(pod: KubeObject): string | undefined {
  try {
    return (JSON.parse(pod.metadata?.annotations?.status ?? '{}') as { state?: string }).state;
  } catch {
    return undefined;
  }
}

/** @returns the rows as a table (console.table) with the verdict; failures printed below it */
export function printRows(rows: readonly ScheduleRow[]): void {
  console.table(
    rows.map((r) => ({
      seed: r.seed,
      change: r.change,
      faults: r.faults,
      s: r.seconds.toFixed(1),
      'fault-free s': r.faultFreeSeconds?.toFixed(1) ?? '-',
      'max down': r.maxDown,
      'status lag ms': r.statusLagMs,
      result: r.failures.length === 0 ? 'ok' : 'FAIL',
    })),
  );
  for (const r of rows.filter((x) => x.failures.length > 0))
    console.log(`seed ${r.seed} (${r.change}; ${r.faults}):\n  ${r.failures.join('\n  ')}`);
}
