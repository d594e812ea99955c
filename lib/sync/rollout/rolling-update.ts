/**
 * Carries out the rolling update one disruptive step per invocation (the step is chosen by
 * `lib/plan/rolling-update.ts`; the condition, holds and reports are `lib/plan/rollout-condition.ts`,
 * `rollout-gate.ts` and `rollout-action.ts`; this module does their I/O):
 * observe the cluster's pods, Patroni's `GET /cluster` and, before a switchover, the Nodes of the pods; decide the
 * next step; then, holding the cluster's Lease and a fleet-wide rollout slot (`slots.ts`: a cluster in line
 * only peeks at the slots until one is free, and one whose step is under way keeps its slot renewed), recreate one pod
 * (a delete with a `uid` precondition: the StatefulSet, `OnDelete`, creates it again from the current template) or
 * ask Patroni for one switchover. Nothing waits for the pod to come back: the outcome is `pending`, so the event
 * source calls again, and the next invocation goes on from what it observes.
 *
 * The progress is the `RollingUpdate` condition on the `postgresql` status (True while pods are flagged, reason
 * `InProgress`, `Waiting`, `Stalled`, `WaitingForSlot`, `WaitingForMaintenanceWindow`, `Paused` or `Blocked`;
 * False `Completed` once the last pod is done; `lastUpdateTime` is the last step's time), plus an Event per step.
 * A rollout that waits longer than `rollout_progress_deadline` after its last step turns `Stalled`, with a Warning
 * Event `RollingUpdateStalled`. `acid.zalan.do/rolling-update-paused: "true"` holds the rollout of one cluster, and
 * so does being outside its maintenance windows (`lib/plan/maintenance-window.ts`): no disruptive step then.
 *
 * Source: Zalando postgres-operator v1.15.1 rolling update (`recreatePods` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/pod.go) and its Patroni calls
 * (pkg/util/patroni/patroni.go); Kubernetes API reference, meta/v1 DeleteOptions (preconditions). One disruptive
 * step per invocation, and none outside the maintenance windows, is this project's design (a function call is
 * short-lived; a disruptive step interrupts clients).
 */
import type { V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { ROLLING_UPDATE_ANNOTATION } from '../../builders';
import { isStatus } from '../../k8s/errors';
import { isPodReady } from '../../k8s/pods';
import { ROLLING_UPDATE_PAUSED_ANNOTATION } from '../../model/annotations';
import type { Postgresql } from '../../model/postgresql';
import { clusterMaintenanceWindows } from '../../plan/maintenance-window';
import { flaggedPods, nextRolloutStep, type RolloutPod, type RolloutStep } from '../../plan/rolling-update';
import {
  podChangedReport,
  recreatedReport,
  switchedOverReport,
  switchoverFailedReport,
} from '../../plan/rollout-action';
import { findRolloutCondition, type RolloutReport, type RolloutState } from '../../plan/rollout-condition';
import { planRolloutStep, rolloutGate, slotWaitReport } from '../../plan/rollout-gate';
import type { HeldLease } from '../../k8s/lease';
import { nodeGoingAwayReason, type NodeReasons } from '../pods/nodes';
import { readOwnStatuses, readPatroniView, switchover } from '../pods/patroni';
import { keepRolloutSlot, peekRolloutSlot, releaseRolloutSlot, takeRolloutSlot } from './slots';
import type { SyncContext } from '../context';
import { storedStatus } from '../../plan/cluster-status';

/**
 * Seconds until the next look when the rollout waits for Patroni (a member of a Ready pod, a switchover's new
 * leader): a few reads of one cluster, for the seconds such a wait takes.
 */
export const ROLLOUT_LOOK_AGAIN_SECONDS = 1;

/** What the step did or found: the report (Events, pending, condition), or that it needs the cluster's Lease. */
export interface RolloutOutcome extends RolloutReport {
  /** the next step needs the cluster's Lease, and the caller does not hold it */
  needsLease?: boolean;
}

/** The `postgresql` object as read: its generation, its annotations (the pause) and its status (the previous condition). */
export interface RolloutSubject {
  metadata?: V1ObjectMeta;
  status?: unknown;
}

function rolloutPods(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  nodesGoingAway: ReadonlyMap<string, string>,
): RolloutPod[] {
  return pods.map((pod) => ({
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    flagged: pod.metadata?.annotations?.[ROLLING_UPDATE_ANNOTATION] === 'true',
    ready: isPodReady(pod),
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    role: pod.metadata?.labels?.[ctx.config.pod_role_label],
    nodeGoingAway: pod.spec?.nodeName ? nodesGoingAway.get(pod.spec.nodeName) : undefined,
  }));
}

/** @returns node name -> why it is going away, for the nodes of the pods that are (one GET per node) */
async function nodesGoingAway(ctx: SyncContext, pods: readonly V1Pod[]): Promise<Map<string, string>> {
  const cache: NodeReasons = new Map();
  const names = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
  const reasons = await Promise.all(names.map((name) => nodeGoingAwayReason(ctx, cache, name)));
  return new Map(names.map((name, i) => [name, reasons[i]!] as const).filter(([, reason]) => reason !== ''));
}

/**
 * Decides the next step from what is observed now.
 * @param pods the cluster's pods, as just listed
 */
async function decide(
  ctx: SyncContext,
  cluster: Postgresql,
  pods: readonly V1Pod[],
  instances: number,
): Promise<RolloutStep> {
  const base = rolloutPods(ctx, pods, new Map());
  const inputs = { pods: base, instances, maxLagBytes: cluster.spec.patroni?.maximum_lag_on_failover };
  // Patroni is asked only when a pod is flagged, there are several and none is being deleted: the plan needs it
  // for nothing else.
  const needsView = flaggedPods(base).length > 0 && base.length > 1 && base.every((p) => !p.deleting);
  const view = needsView ? await readPatroniView(ctx, pods) : undefined;
  const members = view && 'cluster' in view ? view.cluster.members : undefined;
  const patroniError = view && 'error' in view ? view.error : undefined;
  const own = members ? await readOwnStatuses(ctx, pods, cluster.metadata.name) : undefined;
  const step = nextRolloutStep({ ...inputs, members, patroniError, own });
  if (step.kind !== 'switchover' && step.kind !== 'blocked') return step;
  // A switchover candidate must not sit on a node going away: read the Nodes, then decide again.
  return nextRolloutStep({
    ...inputs,
    pods: rolloutPods(ctx, pods, await nodesGoingAway(ctx, pods)),
    members,
    patroniError,
    own,
  });
}

/** @returns the previous `RollingUpdate` condition, the generation, the time now and the progress deadline */
function rolloutState(ctx: SyncContext, raw: RolloutSubject): RolloutState {
  return {
    previous: findRolloutCondition(storedStatus(raw)?.conditions),
    generation: raw.metadata?.generation ?? 0,
    now: ctx.now(),
    progressDeadlineMs: ctx.config.rollout_progress_deadline,
  };
}

/**
 * One invocation's share of the rolling update: the I/O around the decisions of `lib/plan/rollout-gate.ts`.
 * @param raw the `postgresql` object as read (its status holds the previous condition, its annotations the pause)
 * @param pods the cluster's pods, as just listed
 * @param instances the StatefulSet's replicas
 * @param lease the cluster's Lease when the caller holds it; without it a disruptive step is not taken
 *   (`needsLease`), and the caller comes back holding it
 * @returns what was done; throws KubeApiError when the API fails (a refused precondition is not a failure)
 */
export async function rollingUpdateStep(
  ctx: SyncContext,
  raw: RolloutSubject,
  cluster: Postgresql,
  pods: readonly V1Pod[],
  instances: number,
  lease: HeldLease | undefined,
): Promise<RolloutOutcome> {
  const state = rolloutState(ctx, raw);
  const key = { namespace: cluster.metadata.namespace!, name: cluster.metadata.name };
  const gate = rolloutGate(state, {
    pods: rolloutPods(ctx, pods, new Map()),
    instances,
    paused: raw.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION] === 'true',
    windows: clusterMaintenanceWindows(cluster.spec.maintenanceWindows, ctx.config),
  });
  switch (gate.kind) {
    case 'idle':
      return gate.report;
    case 'finishing':
      await keepRolloutSlot(ctx, key);
      return gate.report;
    case 'completed':
      // The rollout just ended: free its slot for the next cluster (no write when it held none).
      if (!lease) return { events: [], needsLease: true };
      await releaseRolloutSlot(ctx, key);
      return gate.report;
    case 'hold':
      if (gate.releaseSlot) await releaseRolloutSlot(ctx, key);
      return gate.report;
    default:
      break;
  }
  if (gate.peekSlot) {
    const peek = await peekRolloutSlot(ctx, key);
    if (!peek.granted) return slotWaitReport(state, peek.reason);
  }

  const decided = await decide(ctx, cluster, pods, instances);
  const plan = planRolloutStep(state, decided);
  if (plan.kind === 'report') {
    if (plan.keepSlot) await keepRolloutSlot(ctx, key);
    // Every pod is Ready, yet a member is not there (Patroni starting, catching up): no readiness change will say
    // when it is, so look again soon rather than after the default Retry-After.
    const memberWait = decided.kind === 'wait' && pods.every(isPodReady);
    return memberWait ? { ...plan.report, lookAgainSeconds: ROLLOUT_LOOK_AGAIN_SECONDS } : plan.report;
  }
  if (!lease) return { events: [], needsLease: true };
  const slot = await takeRolloutSlot(ctx, key);
  if (!slot.granted) return slotWaitReport(state, slot.reason);
  await lease.renewIfDue();
  const { step } = plan;
  if (step.kind === 'recreate') return recreatePod(ctx, key.namespace, step, state);
  return switchOver(ctx, pods, step, state);
}

async function recreatePod(
  ctx: SyncContext,
  namespace: string,
  step: Extract<RolloutStep, { kind: 'recreate' }>,
  state: RolloutState,
): Promise<RolloutOutcome> {
  try {
    await ctx.client.delete({ kind: 'Pod', namespace, name: step.pod }, undefined, ctx.signal, { uid: step.uid });
  } catch (error) {
    // 409: the pod was replaced meanwhile; the next invocation looks again.
    if (!isStatus(error, 409)) throw error;
    return podChangedReport(state, step.pod);
  }
  return recreatedReport(state, step);
}

async function switchOver(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  step: Extract<RolloutStep, { kind: 'switchover' }>,
  state: RolloutState,
): Promise<RolloutOutcome> {
  const candidatePod = pods.find((p) => p.metadata?.name === step.candidate)!;
  try {
    const result = await switchover(ctx, candidatePod, step.leader, step.candidate);
    // The next step (recreating the old leader) waits for Patroni's view, which no watched object reflects.
    return { ...switchedOverReport(state, step, result.newLeader), lookAgainSeconds: ROLLOUT_LOOK_AGAIN_SECONDS };
  } catch (error) {
    return switchoverFailedReport(state, step, error instanceof Error ? error.message : String(error));
  }
}
