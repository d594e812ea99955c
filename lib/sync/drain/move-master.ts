/**
 * Node drain: moves the masters off a Node that is going away, one disruptive step per cluster per invocation (the
 * decision is `lib/plan/move-master.ts`). For each master pod on the node: observe the cluster's pods, the Nodes
 * they run on and Patroni's `GET /cluster`, decide; a step that changes something (a switchover, or recreating a
 * replica that sits on a node going away too) is taken while holding the cluster's Lease, after observing and
 * deciding again. Nothing waits for a pod to come back: the cluster is `pending`, the answer retryable, and the
 * next invocation goes on from what it observes. A cluster whose master has moved costs no write at all.
 *
 * The old master pod is not deleted: the drain evicts it once the master PodDisruptionBudget (which selects the
 * master label) is satisfied by the new master. A single-instance cluster is not touched: the only pod cannot move
 * without downtime. Zalando's operator recreates that pod itself (research/zalando.md §4.9); here a Warning Event
 * `NodeDrain` says so instead, once per node and pod, and the master PDB keeps the drain waiting until an
 * administrator deletes the pod or adds an instance. The answer stays retryable (every 60 s), so the call after
 * that finds the master gone or moves it by switchover.
 *
 * Source: research/zalando.md §4.9 (node drain) and §4.12 (Patroni calls); research/anchors.md §1 "Drain has two
 * designs"; Kubernetes API reference, meta/v1 DeleteOptions (preconditions), core/v1 Event.
 */
import { selectorLabels } from '../../builders/labels';
import { numberOfInstances } from '../../builders/instances';
import type { KubeObject } from '../../k8s/client';
import { isRetryable, isStatus } from '../../k8s/errors';
import { POSTGRESQL, type Postgresql } from '../../model/postgresql';
import { goingAwayReasons } from '../../plan/node-drain';
import { nodeGoingAwayReason, type NodeReasons } from '../pods/nodes';
import { nextMoveMasterStep, type DrainPod, type MoveMasterStep } from '../../plan/move-master';
import { labelSelector } from '../cluster/observe';
import { acquireLease, DEFAULT_LEASE_TIMING, HeldLease, newHolderIdentity } from '../../k8s/lease';
import { readOwnStatuses, readPatroniView, switchover } from '../pods/patroni';
import type { SyncContext } from '../context';
import { clusterLeaseTarget, leaseName } from '../../builders/lease';

/** How moving one cluster's master ended in this invocation. */
export interface MoveMasterResult {
  namespace: string;
  cluster: string;
  /** the master pod found on the node */
  pod: string;
  /**
   * `done`: the master is not on the node (any more); `switched-over`: Patroni moved it now; `recreated`: a replica
   * on a node going away was deleted to come back elsewhere; `waiting`: something must happen first; `busy`: another
   * invocation holds the cluster's Lease; `single-instance`: cannot move without downtime (reported, retried slowly);
   * `failed`: an API error
   */
  outcome: 'done' | 'switched-over' | 'recreated' | 'waiting' | 'busy' | 'single-instance' | 'failed';
  message: string;
  /** whether a later invocation has work left (the answer should be retryable) */
  pending: boolean;
  /** for pending work that changes only when someone acts (a single-instance master): call again after this many s */
  retryAfterSeconds?: number;
}

/** How a drain invocation ended. */
export interface DrainResult {
  node: string;
  goingAway: boolean;
  /** why the node is going away (or why nothing is done) */
  reason?: string;
  clusters: MoveMasterResult[];
  /** some cluster has work left: call again */
  retryable: boolean;
  /** seconds to wait before calling again: the shortest of the pending clusters' waits */
  retryAfterSeconds?: number;
}

/** s between calls while a cluster is on its way (a replica catching up, Patroni electing a leader). */
export const RETRY_AFTER_SECONDS = 5;
/** s between calls while a single-instance master waits for an administrator. */
export const SINGLE_INSTANCE_RETRY_AFTER_SECONDS = 60;

/** What one observation of a cluster found. */
interface Observation { step: MoveMasterStep; pods: KubeObject[] }

async function observe(ctx: SyncContext, raw: KubeObject, nodeName: string, nodeReasonText: string): Promise<Observation> {
  const cluster = raw as Postgresql;
  const namespace = raw.metadata!.namespace as string;
  const pods = (await ctx.client.list('Pod', namespace, labelSelector(selectorLabels(cluster, ctx.config)), ctx.signal))
    .sort((a, b) => (a.metadata!.name < b.metadata!.name ? -1 : 1));
  const nodes: NodeReasons = new Map([[nodeName, Promise.resolve(nodeReasonText)]]);
  const drainPods: DrainPod[] = await Promise.all(pods.map(async (pod) => {
    const node = pod.spec?.nodeName as string | undefined;
    const away = node ? await nodeGoingAwayReason(ctx, nodes, node) : '';
    return { name: pod.metadata!.name as string, uid: pod.metadata!.uid as string, nodeName: node,
      deleting: Boolean(pod.metadata?.deletionTimestamp), ...(away ? { nodeGoingAway: away } : {}) };
  }));
  const instances = numberOfInstances(cluster, ctx.config).instances;
  const inputs = { node: nodeName, nodeReason: nodeReasonText, pods: drainPods, instances,
    maxLagBytes: cluster.spec?.patroni?.maximum_lag_on_failover };
  const first = nextMoveMasterStep(inputs);
  // Patroni is asked only when the answer depends on it.
  if (first.kind === 'done' || first.kind === 'single-instance') return { step: first, pods };
  const view = await readPatroniView(ctx, pods);
  const step = 'cluster' in view
    ? nextMoveMasterStep({ ...inputs, members: view.cluster.members, own: await readOwnStatuses(ctx, pods, cluster.metadata.name) })
    : nextMoveMasterStep({ ...inputs, patroniError: view.error });
  return { step, pods };
}

/**
 * Deletes this incarnation of a pod only (precondition on its uid).
 * @returns false when the pod was already replaced or gone; throws KubeApiError otherwise
 */
async function deletePodIncarnation(ctx: SyncContext, namespace: string, name: string, uid: string): Promise<boolean> {
  try {
    return await ctx.client.delete({ kind: 'Pod', namespace, name }, undefined, ctx.signal, { uid });
  } catch (error) {
    if (isStatus(error, 409)) return false;
    throw error;
  }
}

/** Takes the step decided under the Lease. */
async function act(ctx: SyncContext, raw: KubeObject, pods: readonly KubeObject[], step: Extract<MoveMasterStep, { kind: 'switchover' | 'recreate' }>,
  base: Pick<MoveMasterResult, 'namespace' | 'cluster' | 'pod'>): Promise<MoveMasterResult> {
  const log = ctx.log.with({ namespace: base.namespace, cluster: base.cluster });
  if (step.kind === 'recreate') {
    if (!(await deletePodIncarnation(ctx, base.namespace, step.pod, step.uid))) {
      return { ...base, outcome: 'waiting', pending: true, message: `pod ${step.pod} changed meanwhile` };
    }
    log.info('Deleted replica pod on a node going away', { pod: step.pod });
    await ctx.events.record(raw, 'Normal', 'NodeDrain', `Deleted pod ${step.pod}: ${step.reason}`);
    return { ...base, outcome: 'recreated', pending: true, message: step.reason };
  }
  const candidatePod = pods.find((p) => p.metadata!.name === step.candidate)!;
  try {
    const result = await switchover(ctx, candidatePod, step.leader, step.candidate);
    const message = step.reason.replace(/^switching over/, 'switched over')
      .replace(` to ${step.candidate} `, ` to ${result.newLeader ?? step.candidate} `);
    log.info('Switched over', { from: step.leader, to: result.newLeader ?? step.candidate });
    await ctx.events.record(raw, 'Normal', 'Switchover', message.charAt(0).toUpperCase() + message.slice(1));
    return { ...base, outcome: 'switched-over', pending: false, message };
  } catch (error) {
    // Patroni refused (e.g. 412: the leader changed, 503: the candidate is not healthy) or did not answer in time.
    const message = `switchover from ${step.leader} to ${step.candidate} failed: ${(error as Error).message}`;
    log.warn('Switchover failed', { from: step.leader, to: step.candidate, error: (error as Error).message });
    await ctx.events.record(raw, 'Warning', 'SwitchoverFailed', message.charAt(0).toUpperCase() + message.slice(1));
    return { ...base, outcome: 'waiting', pending: true, message };
  }
}

/**
 * One invocation's share of moving one cluster's master off the node.
 * @param masterPod the pod labelled master found on the node
 * @param nodeReasonText why the node is going away
 * @returns what was done; never throws (API failures end as `failed`, pending when retryable)
 */
export async function moveMaster(ctx: SyncContext, masterPod: KubeObject, nodeName: string, nodeReasonText: string): Promise<MoveMasterResult> {
  const namespace = masterPod.metadata!.namespace as string;
  const cluster = masterPod.metadata!.labels?.[ctx.config.cluster_name_label] as string;
  const base = { namespace, cluster, pod: masterPod.metadata!.name as string };
  try {
    const raw = await ctx.client.get({ kind: POSTGRESQL.kind, namespace, name: cluster }, ctx.signal);
    if (!raw) return { ...base, outcome: 'done', pending: false, message: `no postgresql ${cluster}: not a cluster of this operator` };
    const first = await observe(ctx, raw, nodeName, nodeReasonText);
    const decided = await settle(ctx, raw, first, base, nodeName);
    if (decided) return decided;

    const timing = { ...DEFAULT_LEASE_TIMING, ...ctx.timing };
    const lease = await acquireLease(ctx.client, clusterLeaseTarget(raw.metadata as { name: string; namespace: string; uid?: string }, ctx.config), ctx.holder ?? newHolderIdentity(), timing, ctx.now, ctx.signal, ctx.deadline);
    if (!(lease instanceof HeldLease)) {
      return { ...base, outcome: 'busy', pending: true, message: `Lease ${leaseName(cluster)} is held by ${lease.heldBy} until ${lease.until.toISOString()}` };
    }
    try {
      // Decide again under the Lease: another invocation may have just taken the step.
      const again = await observe(ctx, raw, nodeName, nodeReasonText);
      const settled = await settle(ctx, raw, again, base, nodeName);
      if (settled) return settled;
      await lease.renewIfDue();
      return await act(ctx, raw, again.pods, again.step as Extract<MoveMasterStep, { kind: 'switchover' | 'recreate' }>, base);
    } finally {
      await lease.release();
    }
  } catch (error) {
    return { ...base, outcome: 'failed', pending: isRetryable(error) || Boolean(ctx.signal?.aborted), message: (error as Error).message };
  }
}

/** @returns the result for a step that needs no Lease, or undefined for a step to take under it */
async function settle(ctx: SyncContext, raw: KubeObject, { step, pods }: Observation,
  base: Pick<MoveMasterResult, 'namespace' | 'cluster' | 'pod'>, nodeName: string): Promise<MoveMasterResult | undefined> {
  switch (step.kind) {
    case 'done':
      return { ...base, outcome: 'done', pending: false, message: step.reason };
    case 'wait':
      return { ...base, outcome: 'waiting', pending: true, message: step.reason };
    case 'single-instance': {
      const uid = pods.find((p) => p.metadata!.name === step.pod)?.metadata!.uid as string | undefined;
      const message = `${step.reason}. The master PodDisruptionBudget keeps a drain from evicting it: delete pod ${step.pod} to `
        + 'move it now (downtime until it runs on another node), or add an instance and it moves by switchover. (Zalando\'s '
        + 'operator recreates the pod itself; this operator leaves that choice to you.)';
      ctx.log.warn('Single-instance master on a node going away', { namespace: base.namespace, cluster: base.cluster, pod: step.pod, node: nodeName });
      await ctx.events.once(`${nodeName}/${uid ?? step.pod}`, raw, 'Warning', 'NodeDrain', message);
      // Pending, slowly: when the pod is deleted or an instance added, the next call finds the move done or possible
      // (the event source delivers a Node once when it starts going away, then only these retries).
      return { ...base, outcome: 'single-instance', pending: true, retryAfterSeconds: SINGLE_INSTANCE_RETRY_AFTER_SECONDS, message };
    }
    default:
      return undefined;
  }
}

/**
 * Node drain for one Node: when it is going away, moves the master pods of the watched clusters off it.
 * @param namespaces the watched namespaces, or `*`
 * @returns per cluster what was done; throws KubeApiError when the Node or the pods cannot be read
 */
export async function drainNode(ctx: SyncContext, nodeName: string, namespaces: readonly string[] | '*'): Promise<DrainResult> {
  const node = await ctx.client.get({ kind: 'Node', name: nodeName }, ctx.signal);
  if (!node) return { node: nodeName, goingAway: false, reason: 'the node no longer exists', clusters: [], retryable: false };
  const reasons = goingAwayReasons(node, ctx.config.node_readiness_label);
  if (reasons.length === 0) return { node: nodeName, goingAway: false, clusters: [], retryable: false };
  const reason = reasons.join(', ');

  const selector = labelSelector({ ...ctx.config.cluster_labels, [ctx.config.pod_role_label]: 'master' });
  const pods = namespaces === '*'
    ? await ctx.client.list('Pod', undefined, selector, ctx.signal)
    : (await Promise.all(namespaces.map((ns) => ctx.client.list('Pod', ns, selector, ctx.signal)))).flat();
  const masters = pods.filter((pod) => pod.spec?.nodeName === nodeName && pod.metadata?.labels?.[ctx.config.cluster_name_label])
    .sort((a, b) => `${a.metadata!.namespace}/${a.metadata!.name}`.localeCompare(`${b.metadata!.namespace}/${b.metadata!.name}`));
  const clusters: MoveMasterResult[] = [];
  // One cluster after the other: each may wait for a switchover, and the machine's API and Patroni are shared.
  for (const pod of masters) clusters.push(await moveMaster(ctx, pod, nodeName, reason));
  const pending = clusters.filter((c) => c.pending);
  return { node: nodeName, goingAway: true, reason, clusters, retryable: pending.length > 0,
    ...(pending.length > 0 ? { retryAfterSeconds: Math.min(...pending.map((c) => c.retryAfterSeconds ?? RETRY_AFTER_SECONDS)) } : {}) };
}
