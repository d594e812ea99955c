/**
 * What node drain answers, per cluster and per Node: how moving one cluster's master ended in this invocation
 * (`MoveMasterResult`, with the Event to record), and whether the caller should call again and when
 * (`DrainResult`). The step itself is chosen by `lib/plan/move-master.ts`; `lib/sync/drain/move-master.ts` observes,
 * takes the step under the cluster's Lease and records the Events these functions ask for.
 *
 * A single-instance master is reported (a Warning Event `NodeDrain`, once per node and pod) and not moved: the only
 * pod cannot move without downtime. Zalando's operator recreates that pod itself (`MigrateMasterPod`); here the
 * master PodDisruptionBudget keeps the drain waiting until an administrator deletes the pod or adds an instance,
 * and the answer stays retryable, slowly.
 *
 * Pure: the observations and the outcomes of the calls come in as data.
 *
 * Source: Zalando postgres-operator v1.15.1 node drain (`moveMasterPodsOffNode` in pkg/controller/node.go,
 * `MigrateMasterPod` in https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/pod.go) and its
 * Patroni calls (pkg/util/patroni/patroni.go); CloudNativePG "Kubernetes upgrade and maintenance"
 * (https://cloudnative-pg.io/documentation/current/kubernetes_upgrade/: switch over before the node is drained);
 * Kubernetes API reference, core/v1 Event.
 */
import type { PlannedEvent } from './event';
import type { DrainPod, MoveMasterStep } from './move-master';

/** s between calls while a cluster is on its way (a replica catching up, Patroni electing a leader). */
export const RETRY_AFTER_SECONDS = 5;
/** s between calls while a single-instance master waits for an administrator. */
export const SINGLE_INSTANCE_RETRY_AFTER_SECONDS = 60;

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

/** The cluster a result is about: its namespace, name and the master pod found on the node. */
export type MovedCluster = Pick<MoveMasterResult, 'namespace' | 'cluster' | 'pod'>;

/** A result, and the Event to record about the cluster with it (once per `onceKey` when that is set). */
export interface MoveMasterReport {
  result: MoveMasterResult;
  event?: PlannedEvent;
  /** record the Event only once for this key (`<node>/<pod uid>`) */
  onceKey?: string;
}

/** What to do with a step decided: report it as it is, or act on it under the cluster's Lease. */
export type MoveMasterPlan =
  | { kind: 'report'; report: MoveMasterReport }
  | { kind: 'act'; step: Extract<MoveMasterStep, { kind: 'switchover' | 'recreate' }> };

const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * @param pods the cluster's pods as observed (the uid of a single-instance pod keys its Event)
 * @param node the node going away
 * @returns a report for a step that needs no Lease (`done`, `wait`, `single-instance`), else the step to take
 */
export function planMoveMaster(
  step: MoveMasterStep,
  base: MovedCluster,
  pods: readonly DrainPod[],
  node: string,
): MoveMasterPlan {
  switch (step.kind) {
    case 'done':
      return { kind: 'report', report: { result: { ...base, outcome: 'done', pending: false, message: step.reason } } };
    case 'wait': {
      // Said once per node and reason (a wait is retried every few seconds; its reason changes as pods progress).
      const message = `Moving master ${base.pod} off node ${node} waits: ${step.reason}`;
      return {
        kind: 'report',
        report: {
          result: { ...base, outcome: 'waiting', pending: true, message: step.reason },
          event: { type: 'Normal', reason: 'NodeDrainWaiting', message },
          onceKey: `${node}/${step.reason}`,
        },
      };
    }
    case 'single-instance': {
      const uid = pods.find((p) => p.name === step.pod)?.uid;
      const message =
        `${step.reason}. The master PodDisruptionBudget keeps a drain from evicting it: delete pod ${step.pod} to ` +
        "move it now (downtime until it runs on another node), or add an instance and it moves by switchover. (Zalando's " +
        'operator recreates the pod itself; this operator leaves that choice to you.)';
      // Pending, slowly: when the pod is deleted or an instance added, the next call finds the move done or possible
      // (the event source delivers a Node once when it starts going away, then only these retries).
      return {
        kind: 'report',
        report: {
          result: {
            ...base,
            outcome: 'single-instance',
            pending: true,
            retryAfterSeconds: SINGLE_INSTANCE_RETRY_AFTER_SECONDS,
            message,
          },
          event: { type: 'Warning', reason: 'NodeDrain', message },
          onceKey: `${node}/${uid || step.pod}`,
        },
      };
    }
    default:
      return { kind: 'act', step };
  }
}

/** @returns the report of a replica pod deleted to come back on a ready node: Event `NodeDrain`, pending */
export function recreatedReplica(
  base: MovedCluster,
  step: Extract<MoveMasterStep, { kind: 'recreate' }>,
): MoveMasterReport {
  return {
    result: { ...base, outcome: 'recreated', pending: true, message: step.reason },
    event: { type: 'Normal', reason: 'NodeDrain', message: `Deleted pod ${step.pod}: ${step.reason}` },
  };
}

/** @returns the result of a delete refused by its uid precondition (the pod was replaced meanwhile): waiting */
export const podChanged = (base: MovedCluster, pod: string): MoveMasterResult => ({
  ...base,
  outcome: 'waiting',
  pending: true,
  message: `pod ${pod} changed meanwhile`,
});

/**
 * @param newLeader the leader Patroni reports after the switchover, when it says
 * @returns the report of a switchover done: the step's reason in the past tense, naming the new leader; Event
 *   `Switchover`; nothing pending
 */
export function switchedOver(
  base: MovedCluster,
  step: Extract<MoveMasterStep, { kind: 'switchover' }>,
  newLeader: string | undefined,
): MoveMasterReport {
  const message = step.reason
    .replace(/^switching over/, 'switched over')
    .replace(` to ${step.candidate} `, ` to ${newLeader ?? step.candidate} `);
  return {
    result: { ...base, outcome: 'switched-over', pending: false, message },
    event: { type: 'Normal', reason: 'Switchover', message: sentence(message) },
  };
}

/**
 * @param error why Patroni refused (e.g. 412: the leader changed, 503: the candidate is not healthy) or did not answer
 * @returns the report of a failed switchover: Warning Event `SwitchoverFailed`, waiting
 */
export function switchoverFailed(
  base: MovedCluster,
  step: Extract<MoveMasterStep, { kind: 'switchover' }>,
  error: string,
): MoveMasterReport {
  const message = `switchover from ${step.leader} to ${step.candidate} failed: ${error}`;
  return {
    result: { ...base, outcome: 'waiting', pending: true, message },
    event: { type: 'Warning', reason: 'SwitchoverFailed', message: sentence(message) },
  };
}

/**
 * @param clusters per cluster what this invocation did
 * @returns the answer for a node going away: retryable while any cluster has work left, after the shortest wait
 */
export function drainResult(node: string, reason: string, clusters: MoveMasterResult[]): DrainResult {
  const pending = clusters.filter((c) => c.pending);
  return {
    node,
    goingAway: true,
    reason,
    clusters,
    retryable: pending.length > 0,
    ...(pending.length > 0
      ? { retryAfterSeconds: Math.min(...pending.map((c) => c.retryAfterSeconds ?? RETRY_AFTER_SECONDS)) }
      : {}),
  };
}

/** The pod fields read to find the masters on a node. */
export interface PodOnNode {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { nodeName?: string };
}

/**
 * @param masters pods labelled master
 * @param clusterNameLabel the operator's `cluster_name_label`: pods without it belong to no cluster of the operator
 * @returns the masters on the node, by `namespace/name`
 */
export function mastersOnNode<P extends PodOnNode>(masters: readonly P[], node: string, clusterNameLabel: string): P[] {
  const key = (pod: P) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  return masters
    .filter((pod) => pod.spec?.nodeName === node && pod.metadata?.labels?.[clusterNameLabel])
    .sort((a, b) => key(a).localeCompare(key(b)));
}
