/**
 * Carries out the rolling update one disruptive step per invocation (the plan is `lib/plan/rolling-update.ts`):
 * observe the cluster's pods, Patroni's `GET /cluster` and, before a switchover, the Nodes of the pods; decide the
 * next step; then, holding the cluster's Lease and a fleet-wide rollout slot (`rollout-slots.ts`: a cluster in line
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
 * Source: Zalando postgres-operator research/zalando.md §4.5 (rolling update) and §4.12 (Patroni calls);
 * Kubernetes API reference, meta/v1 DeleteOptions (preconditions); research/anchors.md §3f rules 5 and 9.
 */
import { ROLLING_UPDATE_ANNOTATION } from '../../builders';
import type { KubeObject } from '../../k8s/client';
import { isStatus } from '../../k8s/errors';
import { hasReadyCondition } from '../../k8s/pods';
import { ROLLING_UPDATE_PAUSED_ANNOTATION } from '../../model/annotations';
import type { Condition, Postgresql } from '../../model/postgresql';
import { checkMaintenanceWindows, clusterMaintenanceWindows, describeWindowStart } from '../../plan/maintenance-window';
import { flaggedPods, nextRolloutStep, podsNotBack, rolloutStalled, type RolloutPod, type RolloutStep } from '../../plan/rolling-update';
import type { HeldLease } from '../../k8s/lease';
import { nodeGoingAwayReason, type NodeReasons } from '../pods/nodes';
import { readOwnStatuses, readPatroniView, switchover } from '../pods/patroni';
import { keepRolloutSlot, peekRolloutSlot, releaseRolloutSlot, takeRolloutSlot } from './slots';
import type { SyncContext } from '../context';
import type { StepEvent } from '../context';

/** Type of the condition this step owns. */
export const ROLLING_UPDATE_CONDITION = 'RollingUpdate';

/** What the step did or found. */
export interface RolloutOutcome {
  /** the next step needs the cluster's Lease, and the caller does not hold it */
  needsLease?: boolean;
  events: StepEvent[];
  /** why a later invocation must come back (a step was taken, or a pod or member is on its way back) */
  pending?: string;
  /** the `RollingUpdate` condition to write; undefined when no rollout ever ran */
  condition?: Condition;
}

const isReady = (pod: KubeObject) => pod.status?.phase === 'Running' && hasReadyCondition(pod);

function rolloutPods(ctx: SyncContext, pods: readonly KubeObject[], nodesGoingAway: Map<string, string>): RolloutPod[] {
  return pods.map((pod) => ({
    name: pod.metadata!.name as string,
    uid: pod.metadata!.uid as string,
    flagged: pod.metadata?.annotations?.[ROLLING_UPDATE_ANNOTATION] === 'true',
    ready: isReady(pod),
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    role: pod.metadata?.labels?.[ctx.config.pod_role_label],
    nodeGoingAway: nodesGoingAway.get(pod.spec?.nodeName as string),
  }));
}

/** @returns node name -> why it is going away, for the nodes of the pods that are (one GET per node) */
async function nodesGoingAway(ctx: SyncContext, pods: readonly KubeObject[]): Promise<Map<string, string>> {
  const cache: NodeReasons = new Map();
  const names = [...new Set(pods.map((p) => p.spec?.nodeName as string | undefined).filter((n): n is string => Boolean(n)))];
  const reasons = await Promise.all(names.map((name) => nodeGoingAwayReason(ctx, cache, name)));
  return new Map(names.map((name, i) => [name, reasons[i]!] as const).filter(([, reason]) => reason !== ''));
}

/** Reasons of a cluster whose step is under way: it holds a rollout slot. */
const STEPPING = new Set(['InProgress', 'Waiting', 'Stalled']);
/** Reasons under which a cluster is not expected to take steps: leaving one restarts the progress clock. */
const NOT_STEPPING = new Set(['WaitingForSlot', 'WaitingForMaintenanceWindow', 'Paused', 'Blocked']);

/**
 * @param progressed a step was just taken (or the rollout ended): `lastUpdateTime` moves to now; it also does when
 *   the status flips or the cluster leaves a reason under which it takes no steps, and otherwise stays
 */
function condition(raw: KubeObject, active: boolean, reason: string, message: string, now: Date, progressed = false): Condition {
  const previous = previousCondition(raw);
  const status = active ? 'True' : 'False';
  const kept = previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : undefined;
  const restarted = progressed || !kept || (previous!.reason !== reason && NOT_STEPPING.has(previous!.reason ?? ''));
  return {
    type: ROLLING_UPDATE_CONDITION, status, reason, message,
    observedGeneration: (raw.metadata?.generation as number | undefined) ?? 0,
    lastTransitionTime: kept ?? now.toISOString(),
    lastUpdateTime: restarted ? now.toISOString() : previous!.lastUpdateTime ?? kept!,
  };
}

/**
 * The outcome of a wait: condition `Waiting`, or `Stalled` once the rollout has taken no step for
 * `rollout_progress_deadline` (as a Deployment past its progress deadline), with one Warning Event
 * `RollingUpdateStalled` when it turns so. The rollout goes on waiting either way (and keeps its slot).
 */
function waiting(ctx: SyncContext, raw: KubeObject, reason: string, now: Date): RolloutOutcome {
  const previous = previousCondition(raw);
  const waitingNow = condition(raw, true, 'Waiting', reason, now);
  const deadline = ctx.config.rollout_progress_deadline;
  const stalled = rolloutStalled(waitingNow.lastUpdateTime, now, deadline);
  const pending = `rolling update: ${reason}`;
  if (!stalled) return { events: [], pending, condition: waitingNow };
  // The condition's message does not count the minutes, so repeated calls write nothing; the Event does.
  const within = `no step within rollout_progress_deadline (${Math.round(deadline / 60_000)} min)`;
  const events: StepEvent[] = previous?.reason === 'Stalled' ? [] : [{ type: 'Warning', reason: 'RollingUpdateStalled',
    message: `Rolling update stalled, ${stalled}: ${reason}. While it waits it keeps its rollout slot, so other `
      + `clusters' rollouts may wait too; fix what it waits for, or pause it with ${ROLLING_UPDATE_PAUSED_ANNOTATION}: "true"` }];
  return { events, pending, condition: condition(raw, true, 'Stalled', `${within}: ${reason}`, now) };
}

const previousCondition = (raw: KubeObject) =>
  ((raw.status?.conditions ?? []) as Condition[]).find((c) => c.type === ROLLING_UPDATE_CONDITION);

/**
 * Decides the next step from what is observed now.
 * @param pods the cluster's pods, as just listed
 */
async function decide(ctx: SyncContext, cluster: Postgresql, pods: readonly KubeObject[], instances: number): Promise<RolloutStep> {
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
  return nextRolloutStep({ ...inputs, pods: rolloutPods(ctx, pods, await nodesGoingAway(ctx, pods)), members, patroniError, own });
}

/**
 * One invocation's share of the rolling update.
 * @param raw the `postgresql` object as read (its status holds the previous condition, its annotations the pause)
 * @param pods the cluster's pods, as just listed
 * @param instances the StatefulSet's replicas
 * @param lease the cluster's Lease when the caller holds it; without it a disruptive step is not taken
 *   (`needsLease`), and the caller comes back holding it
 * @returns what was done; throws KubeApiError when the API fails (a refused precondition is not a failure)
 */
export async function rollingUpdateStep(ctx: SyncContext, raw: KubeObject, cluster: Postgresql, pods: readonly KubeObject[],
  instances: number, lease: HeldLease | undefined): Promise<RolloutOutcome> {
  const now = ctx.now();
  const previous = previousCondition(raw);
  const key = { namespace: cluster.metadata.namespace!, name: cluster.metadata.name };
  const observed = rolloutPods(ctx, pods, new Map());
  const flagged = flaggedPods(observed);
  if (flagged.length === 0) {
    // A finished rollout's condition stays as it was (no status write).
    if (previous?.status !== 'True') return { events: [], ...(previous ? { condition: previous } : {}) };
    // The last pod recreated is not flagged, but the rollout is not over until it is back: keep the slot till then.
    const back = podsNotBack(observed, instances);
    if (back) {
      await keepRolloutSlot(ctx, key);
      return waiting(ctx, raw, back, now);
    }
    // The rollout just ended: free its slot for the next cluster (no write when it held none).
    if (!lease) return { events: [], needsLease: true };
    await releaseRolloutSlot(ctx, key);
    return { events: [{ type: 'Normal', reason: 'RollingUpdateCompleted', message: 'Rolling update completed: every pod runs the current template' }],
      condition: condition(raw, false, 'Completed', 'every pod runs the current template', now, true) };
  }
  if (raw.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION] === 'true') {
    const message = `paused by annotation ${ROLLING_UPDATE_PAUSED_ANNOTATION}: pods ${flagged.map((p) => p.name).join(', ')} wait`;
    // Pausing the cluster that holds up the fleet (its new pod does not come back) lets the next one go at once.
    if (previous?.reason !== 'Paused') await releaseRolloutSlot(ctx, key);
    return { events: [], condition: condition(raw, true, 'Paused', message, now) };
  }

  const window = checkMaintenanceWindows(clusterMaintenanceWindows(cluster.spec.maintenanceWindows, ctx.config), now);
  if (!window.open) {
    const message = `outside the maintenance windows (${window.windows}): the next one starts `
      + `${describeWindowStart(window.nextStart)}; pods ${flagged.map((p) => p.name).join(', ')} wait`;
    // A rollout under way stops between two steps (the cluster is whole then) and frees its slot for a cluster that
    // may roll now. Nothing to retry soon: periodic sync looks again, and goes on once a window has begun.
    if (previous?.reason === 'WaitingForMaintenanceWindow') return { events: [], condition: condition(raw, true, previous.reason, message, now) };
    await releaseRolloutSlot(ctx, key);
    return { events: [{ type: 'Normal', reason: 'RollingUpdateDeferred', message: `Rolling update deferred: ${message}` }],
      condition: condition(raw, true, 'WaitingForMaintenanceWindow', message, now) };
  }

  if (previous?.status === 'True' && previous.reason === 'WaitingForSlot') {
    // Still in line: one read of the slots instead of Patroni's view and every pod's status.
    const peek = await peekRolloutSlot(ctx, key);
    if (!peek.granted) {
      return { events: [], pending: `rolling update: waiting for a rollout slot: ${peek.reason}`,
        condition: condition(raw, true, 'WaitingForSlot', peek.reason, now) };
    }
  }

  const step = await decide(ctx, cluster, pods, instances);
  switch (step.kind) {
    case 'done':
      return { events: [], ...(previous ? { condition: previous } : {}) };
    case 'wait':
      // A step under way (a recreated replica catching up) may take longer than a slot lasts unrenewed: keep it.
      if (previous?.status === 'True' && STEPPING.has(previous.reason ?? '')) await keepRolloutSlot(ctx, key);
      return waiting(ctx, raw, step.reason, now);
    case 'blocked': {
      // Not retried at once (nothing will change in seconds); periodic sync looks again.
      const events: StepEvent[] = previous?.reason === 'Blocked' && previous.message === step.reason ? []
        : [{ type: 'Warning', reason: 'RollingUpdateBlocked', message: step.reason }];
      return { events, condition: condition(raw, true, 'Blocked', step.reason, now) };
    }
    default:
      break;
  }
  if (!lease) return { events: [], needsLease: true };
  const slot = await takeRolloutSlot(ctx, key);
  if (!slot.granted) {
    return { events: [], pending: `rolling update: waiting for a rollout slot: ${slot.reason}`,
      condition: condition(raw, true, 'WaitingForSlot', slot.reason, now) };
  }
  await lease.renewIfDue();
  if (step.kind === 'recreate') return recreatePod(ctx, raw, step, now);
  return switchOver(ctx, raw, pods, step, now);
}

async function recreatePod(ctx: SyncContext, raw: KubeObject, step: Extract<RolloutStep, { kind: 'recreate' }>, now: Date): Promise<RolloutOutcome> {
  try {
    await ctx.client.delete({ kind: 'Pod', namespace: raw.metadata!.namespace, name: step.pod }, undefined, ctx.signal, { uid: step.uid });
  } catch (error) {
    // 409: the pod was replaced meanwhile; the next invocation looks again.
    if (!isStatus(error, 409)) throw error;
    return { events: [], pending: `rolling update: pod ${step.pod} changed meanwhile`, condition: condition(raw, true, 'Waiting', `pod ${step.pod} changed meanwhile`, now) };
  }
  const message = `Recreating pod ${step.pod}${step.downtime ? ' (the cluster is down until it is back)' : ''}: ${step.reason}`;
  return { events: [{ type: step.downtime ? 'Warning' : 'Normal', reason: 'RollingUpdate', message }],
    pending: `rolling update: recreating pod ${step.pod}`, condition: condition(raw, true, 'InProgress', message, now, true) };
}

async function switchOver(ctx: SyncContext, raw: KubeObject, pods: readonly KubeObject[], step: Extract<RolloutStep, { kind: 'switchover' }>,
  now: Date): Promise<RolloutOutcome> {
  const candidatePod = pods.find((p) => p.metadata!.name === step.candidate)!;
  try {
    const result = await switchover(ctx, candidatePod, step.leader, step.candidate);
    const message = `Switched over from ${step.leader} to ${result.newLeader ?? step.candidate}: ${step.reason}`;
    return { events: [{ type: 'Normal', reason: 'Switchover', message }], pending: `rolling update: switched over to ${step.candidate}`,
      condition: condition(raw, true, 'InProgress', message, now, true) };
  } catch (error) {
    const message = `Switchover from ${step.leader} to ${step.candidate} failed: ${(error as Error).message}`;
    return { events: [{ type: 'Warning', reason: 'SwitchoverFailed', message }], pending: `rolling update: ${message}`,
      condition: condition(raw, true, 'Waiting', message, now) };
  }
}
