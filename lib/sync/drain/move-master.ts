/**
 * Node drain: moves the masters off a Node that is going away, one disruptive step per cluster per invocation (the
 * step is chosen by `lib/plan/move-master.ts`, the results and Events are `lib/plan/drain-outcome.ts`). For each
 * master pod on the node: observe the cluster's pods, the Nodes they run on and Patroni's `GET /cluster`, decide; a
 * step that changes something (a switchover, or recreating a replica that sits on a node going away too) is taken
 * while holding the cluster's Lease, after observing and deciding again. Nothing waits for a pod to come back: the
 * cluster is `pending`, the answer retryable, and the next invocation goes on from what it observes. A cluster
 * whose master has moved costs no write at all.
 *
 * The old master pod is not deleted: the drain evicts it once the master PodDisruptionBudget (which selects the
 * master label) is satisfied by the new master. A single-instance cluster is not touched: the only pod cannot move
 * without downtime. Zalando's operator recreates that pod itself (`MigrateMasterPod`); here a Warning Event
 * `NodeDrain` says so instead, once per node and pod, and the master PDB keeps the drain waiting until an
 * administrator deletes the pod or adds an instance. The answer stays retryable (every 60 s), so the call after
 * that finds the master gone or moves it by switchover.
 *
 * Source: Zalando postgres-operator v1.15.1 node drain (`moveMasterPodsOffNode` in pkg/controller/node.go,
 * `MigrateMasterPod` in https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/pod.go) and its
 * Patroni calls (pkg/util/patroni/patroni.go); CloudNativePG "Kubernetes upgrade and maintenance"
 * (https://cloudnative-pg.io/documentation/current/kubernetes_upgrade/: switch over before the node is drained);
 * Kubernetes API reference, meta/v1 DeleteOptions (preconditions), core/v1 Event.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { selectorLabels } from '../../builders/labels';
import { numberOfInstances } from '../../builders/instances';
import { isRetryable, isStatus } from '../../k8s/errors';
import { POSTGRESQL, type Postgresql } from '../../model/postgresql';
import {
  drainResult,
  mastersOnNode,
  planMoveMaster,
  podChanged,
  recreatedReplica,
  switchedOver,
  switchoverFailed,
  type DrainResult,
  type MovedCluster,
  type MoveMasterReport,
  type MoveMasterResult,
} from '../../plan/drain-outcome';
import { goingAwayReasons } from '../../plan/node-drain';
import { nodeGoingAwayReason, type NodeReasons } from '../pods/nodes';
import { isPodReady } from '../../k8s/pods';
import { nextMoveMasterStep, type DrainPod, type MoveMasterStep } from '../../plan/move-master';
import { HeldLease } from '../../k8s/lease';
import { acquireClusterLease } from '../cluster/cluster-lease';
import { readOwnStatuses, readPatroniView, switchover } from '../pods/patroni';
import type { SyncContext } from '../context';
import { labelSelector } from '../../builders/labels';

/** What one observation of a cluster found. */
interface Observation {
  step: MoveMasterStep;
  pods: V1Pod[];
  drainPods: DrainPod[];
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function observe(
  ctx: SyncContext,
  cluster: Postgresql,
  namespace: string,
  nodeName: string,
  nodeReasonText: string,
): Promise<Observation> {
  const pods = (
    await ctx.client.list<V1Pod>('Pod', namespace, labelSelector(selectorLabels(cluster, ctx.config)), ctx.signal)
  ).sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  const nodes: NodeReasons = new Map([[nodeName, Promise.resolve(nodeReasonText)]]);
  const drainPods: DrainPod[] = await Promise.all(
    pods.map(async (pod) => {
      const node = pod.spec?.nodeName;
      const away = node ? await nodeGoingAwayReason(ctx, nodes, node) : '';
      return {
        name: pod.metadata?.name ?? '',
        uid: pod.metadata?.uid ?? '',
        nodeName: node,
        deleting: Boolean(pod.metadata?.deletionTimestamp),
        ready: isPodReady(pod),
        ...(away ? { nodeGoingAway: away } : {}),
      };
    }),
  );
  const instances = numberOfInstances(cluster, ctx.config).instances;
  const inputs = {
    node: nodeName,
    nodeReason: nodeReasonText,
    pods: drainPods,
    instances,
    maxLagBytes: cluster.spec?.patroni?.maximum_lag_on_failover,
  };
  const first = nextMoveMasterStep(inputs);
  // Patroni is asked only when the answer depends on it.
  if (first.kind === 'done' || first.kind === 'single-instance') return { step: first, pods, drainPods };
  const view = await readPatroniView(ctx, pods);
  const step =
    'cluster' in view
      ? nextMoveMasterStep({
          ...inputs,
          members: view.cluster.members,
          own: await readOwnStatuses(ctx, pods, cluster.metadata.name),
        })
      : nextMoveMasterStep({ ...inputs, patroniError: view.error });
  return { step, pods, drainPods };
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

/** Records the report's Event about the cluster (once per key when it has one). @returns the result */
async function recordReport(ctx: SyncContext, raw: Postgresql, report: MoveMasterReport): Promise<MoveMasterResult> {
  const { event, onceKey } = report;
  if (event && onceKey) await ctx.events.once(onceKey, raw, event.type, event.reason, event.message);
  else if (event) await ctx.events.record(raw, event.type, event.reason, event.message);
  return report.result;
}

/** Takes the step decided under the Lease. */
async function act(
  ctx: SyncContext,
  raw: Postgresql,
  pods: readonly V1Pod[],
  step: Extract<MoveMasterStep, { kind: 'switchover' | 'recreate' }>,
  base: MovedCluster,
): Promise<MoveMasterResult> {
  const log = ctx.log.with({ namespace: base.namespace, cluster: base.cluster });
  if (step.kind === 'recreate') {
    if (!(await deletePodIncarnation(ctx, base.namespace, step.pod, step.uid))) return podChanged(base, step.pod);
    log.info('Deleted replica pod on a node going away', { pod: step.pod });
    return recordReport(ctx, raw, recreatedReplica(base, step));
  }
  const candidatePod = pods.find((p) => p.metadata?.name === step.candidate)!;
  try {
    const result = await switchover(ctx, candidatePod, step.leader, step.candidate);
    log.info('Switched over', { from: step.leader, to: result.newLeader ?? step.candidate });
    return recordReport(ctx, raw, switchedOver(base, step, result.newLeader));
  } catch (error) {
    // Patroni refused (e.g. 412: the leader changed, 503: the candidate is not healthy) or did not answer in time.
    log.warn('Switchover failed', { from: step.leader, to: step.candidate, error: messageOf(error) });
    return recordReport(ctx, raw, switchoverFailed(base, step, messageOf(error)));
  }
}

/**
 * One invocation's share of moving one cluster's master off the node.
 * @param masterPod the pod labelled master found on the node
 * @param nodeReasonText why the node is going away
 * @returns what was done; never throws (API failures end as `failed`, pending when retryable)
 */
export async function moveMaster(
  ctx: SyncContext,
  masterPod: V1Pod,
  nodeName: string,
  nodeReasonText: string,
): Promise<MoveMasterResult> {
  // A listed pod always has a name and a namespace; a master found by the drain carries the cluster name label.
  const { namespace = '', name: pod = '', labels = {} } = masterPod.metadata ?? {};
  const cluster = labels[ctx.config.cluster_name_label] ?? '';
  const base = { namespace, cluster, pod };
  try {
    // Read as is: the step needs only the selector labels, the instances and the lag limit.
    const raw = await ctx.client.get<Postgresql>({ kind: POSTGRESQL.kind, namespace, name: cluster }, ctx.signal);
    if (!raw)
      return {
        ...base,
        outcome: 'done',
        pending: false,
        message: `no postgresql ${cluster}: not a cluster of this operator`,
      };
    const first = await settle(ctx, raw, await observe(ctx, raw, namespace, nodeName, nodeReasonText), base, nodeName);
    if ('result' in first) return first.result;

    const { lease, name } = await acquireClusterLease(ctx, {
      name: raw.metadata.name,
      namespace,
      uid: raw.metadata.uid,
    });
    if (!(lease instanceof HeldLease)) {
      return {
        ...base,
        outcome: 'busy',
        pending: true,
        message: `Lease ${name} is held by ${lease.heldBy} until ${lease.until.toISOString()}`,
      };
    }
    try {
      // Decide again under the Lease: another invocation may have just taken the step.
      const observed = await observe(ctx, raw, namespace, nodeName, nodeReasonText);
      const again = await settle(ctx, raw, observed, base, nodeName);
      if ('result' in again) return again.result;
      await lease.renewIfDue();
      return await act(ctx, raw, observed.pods, again.step, base);
    } finally {
      await lease.release();
    }
  } catch (error) {
    return {
      ...base,
      outcome: 'failed',
      pending: isRetryable(error) || Boolean(ctx.signal?.aborted),
      message: messageOf(error),
    };
  }
}

/**
 * @returns the result of a step that needs no Lease (its Event recorded: a single-instance master is reported once
 *   per node and pod), or the step to take under the Lease
 */
async function settle(
  ctx: SyncContext,
  raw: Postgresql,
  { step, drainPods }: Observation,
  base: MovedCluster,
  nodeName: string,
): Promise<{ result: MoveMasterResult } | { step: Extract<MoveMasterStep, { kind: 'switchover' | 'recreate' }> }> {
  const plan = planMoveMaster(step, base, drainPods, nodeName);
  if (plan.kind === 'act') return { step: plan.step };
  if (step.kind === 'single-instance') {
    ctx.log.warn('Single-instance master on a node going away', {
      namespace: base.namespace,
      cluster: base.cluster,
      pod: step.pod,
      node: nodeName,
    });
  }
  return { result: await recordReport(ctx, raw, plan.report) };
}

/**
 * Node drain for one Node: when it is going away, moves the master pods of the watched clusters off it.
 * @param namespaces the watched namespaces, or `*`
 * @returns per cluster what was done; throws KubeApiError when the Node or the pods cannot be read
 */
export async function drainNode(
  ctx: SyncContext,
  nodeName: string,
  namespaces: readonly string[] | '*',
): Promise<DrainResult> {
  const node = await ctx.client.get<V1Node>({ kind: 'Node', name: nodeName }, ctx.signal);
  if (!node)
    return { node: nodeName, goingAway: false, reason: 'the node no longer exists', clusters: [], retryable: false };
  const reasons = goingAwayReasons(node, ctx.config.node_readiness_label);
  if (reasons.length === 0) return { node: nodeName, goingAway: false, clusters: [], retryable: false };
  const reason = reasons.join(', ');

  const selector = labelSelector({ ...ctx.config.cluster_labels, [ctx.config.pod_role_label]: 'master' });
  const pods =
    namespaces === '*'
      ? await ctx.client.list<V1Pod>('Pod', undefined, selector, ctx.signal)
      : (await Promise.all(namespaces.map((ns) => ctx.client.list<V1Pod>('Pod', ns, selector, ctx.signal)))).flat();
  const clusters: MoveMasterResult[] = [];
  // One cluster after the other: each may wait for a switchover, and the machine's API and Patroni are shared.
  for (const pod of mastersOnNode(pods, nodeName, ctx.config.cluster_name_label))
    clusters.push(await moveMaster(ctx, pod, nodeName, reason));
  return drainResult(nodeName, reason, clusters);
}
