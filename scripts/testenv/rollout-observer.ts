/**
 * Watches rolling updates from outside, for tests and the rollout benchmark: every `pollMs` it lists the pods of
 * the clusters and asks each cluster's Patroni for `GET /cluster`, and records per cluster
 * - the most pods down at once: expected instances minus the pods that are up, where up means not being deleted,
 *   Ready, and PostgreSQL `running` in the member state Patroni's Kubernetes DCS writes to the pod's own `status`
 *   annotation — kwok marks a new pod Ready before its Patroni runs, and the cluster view can still list the
 *   member of the pod's previous incarnation, so neither alone shows that a replaced pod is back;
 * - each pod replacement (a new uid under a pod name), in order, with the role label the old pod had last: from a
 *   watch of the namespace's pods, which sees every label change in order (a poll can miss a relabel made between
 *   two rounds, e.g. master -> replica just before the pod is deleted, on a busy machine);
 * - the leader changes seen (a member other than the last leader leads).
 *
 * Source: Patroni REST API "Cluster status endpoints"; Kubernetes Pod conditions (Ready).
 */
import { Watch } from '@kubernetes/client-node';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { hasReadyCondition } from '../../lib/k8s/pods';
import { clusterLeader, PatroniClient, patroniUrl, type PatroniCluster } from '../../lib/patroni';

/** What was seen of one cluster. */
export interface ClusterRecord {
  maxDown: number;
  /**
   * the first round with `maxDown` pods down: when (ISO time) and why each pod counted as down (missing, being
   * deleted, not Ready, its Patroni state), so a failure says which step went wrong
   */
  worst?: { at: string; down: string[] };
  /** replacements in order: pod name and the role its old incarnation had (`master`, `replica`) */
  recreated: Array<{ pod: string; role: string }>;
  /** leader names in the order they were seen leading */
  leaders: string[];
  /** rounds in which no Patroni member answered (not counted for `maxDown`) */
  unreadable: number;
  /**
   * the leader's timeline when first seen and the highest seen since: each promotion (switchover or failover) starts
   * a new one, so their difference counts promotions even when two members' views briefly disagree on the leader
   */
  timelines: { first?: number; highest?: number };
}

/** Options of {@link RolloutObserver}. */
export interface RolloutObserverOptions {
  client: KubeClient;
  namespace: string;
  /** cluster name -> expected instances */
  clusters: Map<string, number>;
  /** ms between rounds; default 250 */
  pollMs?: number;
  /** the pod label with the cluster name; default `cluster-name` */
  clusterLabel?: string;
  /** the pod label with the role; default `spilo-role` */
  roleLabel?: string;
}

/** Polls until stopped; `records` holds what it saw. */
export class RolloutObserver {
  readonly records = new Map<string, ClusterRecord>();
  private readonly lastUid = new Map<string, { uid: string; role: string }>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private watch: AbortController | undefined;
  private lastVersion: string | undefined;
  /** how often the pod watch ended and was started again (for a failing test's message) */
  watchRestarts = 0;

  constructor(private readonly options: RolloutObserverOptions) {
    for (const name of options.clusters.keys())
      this.records.set(name, { maxDown: 0, recreated: [], leaders: [], unreadable: 0, timelines: {} });
  }

  /** Takes a first look (the baseline), then keeps polling in the background. */
  async start(): Promise<void> {
    await this.watchPods();
    await this.round();
    this.loop = (async () => {
      while (!this.stopped) {
        await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 250));
        await this.round().catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<Map<string, ClusterRecord>> {
    this.stopped = true;
    this.watch?.abort();
    await this.loop;
    return this.records;
  }

  /**
   * Follows the namespace's pods (every add, label change and delete, in order), recording replacements; started
   * again after the watch ends until stopped (its first events then list the pods again, which changes nothing for
   * an incarnation already known).
   */
  private async watchPods(): Promise<void> {
    if (this.stopped) return;
    const { client, namespace } = this.options;
    // Resumed from the last version seen, so no relabel or delete between two watches is missed (a role label lost
    // that way would count a demoted master's replacement as a master's). Expired (410): from now on.
    let expired = false;
    this.watch = await new Watch(client.kubeConfig).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      this.lastVersion ? { resourceVersion: this.lastVersion } : {},
      (phase, pod: KubeObject) => {
        if (phase === 'ERROR') {
          expired = true;
          return;
        }
        this.lastVersion = pod.metadata?.resourceVersion ?? this.lastVersion;
        if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') this.seePod(pod);
      },
      () => {
        this.watchRestarts++;
        if (expired) this.lastVersion = undefined;
        setTimeout(() => void this.watchPods().catch(() => undefined), 100);
      },
    );
  }

  /** Records a replacement when the pod is a new incarnation, and the incarnation's last role label. */
  private seePod(pod: KubeObject): void {
    const name = pod.metadata?.labels?.[this.options.clusterLabel ?? 'cluster-name'];
    const record = name === undefined ? undefined : this.records.get(name);
    if (!record) return;
    const key = `${name}/${pod.metadata!.name}`;
    const before = this.lastUid.get(key);
    const role = pod.metadata?.labels?.[this.options.roleLabel ?? 'spilo-role'] ?? 'none';
    if (before && before.uid !== pod.metadata!.uid)
      record.recreated.push({ pod: pod.metadata!.name as string, role: before.role });
    // Keep the last known role of an incarnation: a pod being deleted may have lost its label already.
    this.lastUid.set(key, {
      uid: pod.metadata!.uid as string,
      role: before && before.uid === pod.metadata!.uid && role === 'none' ? before.role : role,
    });
  }

  private async round(): Promise<void> {
    const { client, namespace } = this.options;
    const clusterLabel = this.options.clusterLabel ?? 'cluster-name';
    const pods = await client.list('Pod', namespace);
    await Promise.all(
      [...this.options.clusters].map(async ([name, instances]) => {
        const own = pods.filter((p) => p.metadata?.labels?.[clusterLabel] === name);
        const view = await readView(own);
        const record = this.records.get(name)!;
        if (view) {
          const leader = clusterLeader(view);
          if (leader && record.leaders[record.leaders.length - 1] !== leader.name) record.leaders.push(leader.name);
          if (leader?.timeline !== undefined) {
            record.timelines.first ??= leader.timeline;
            record.timelines.highest = Math.max(record.timelines.highest ?? leader.timeline, leader.timeline);
          }
        }
        // A round where no member answered (e.g. a GET timed out on a busy machine) says nothing about who is up.
        if (!view) {
          record.unreadable++;
          return;
        }
        const down = own.map((pod) => downReason(pod)).filter((why): why is string => why !== undefined);
        const missing = Math.max(0, instances - own.length);
        const count = missing + down.length;
        if (missing > 0) down.push(`${missing} pod(s) missing`);
        if (count > record.maxDown) {
          record.maxDown = count;
          record.worst = { at: new Date().toISOString(), down };
        }
      }),
    );
  }
}

/** @returns why the pod counts as down ("acid-x-1: not Ready, Patroni state starting"), or undefined when it is up */
function downReason(pod: KubeObject): string | undefined {
  const name = pod.metadata?.name as string;
  if (pod.metadata?.deletionTimestamp) return `${name}: being deleted`;
  const ready = hasReadyCondition(pod);
  // Patroni's Kubernetes DCS keeps each member's state in its own pod's `status` annotation: a new incarnation of a
  // pod has none until its Patroni runs (the cluster view may still list the old one).
  let state: string | undefined;
  try {
    state = (JSON.parse(pod.metadata?.annotations?.status ?? '{}') as { state?: string }).state;
  } catch {
    /* not Patroni's */
  }
  if (ready && state === 'running') return undefined;
  return `${name} (uid ${String(pod.metadata?.uid).slice(0, 8)}): ${ready ? 'Ready' : 'not Ready'}, Patroni state ${state ?? 'none'}`;
}

async function readView(pods: readonly KubeObject[]): Promise<PatroniCluster | undefined> {
  for (const pod of pods) {
    if (!pod.status?.podIP || pod.metadata?.deletionTimestamp) continue;
    const view = await new PatroniClient(patroniUrl(pod.status.podIP as string), { timeoutMs: 1_000 })
      .getCluster()
      .catch(() => undefined);
    if (view) return view;
  }
  return undefined;
}
