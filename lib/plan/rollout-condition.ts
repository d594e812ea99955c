/**
 * The `RollingUpdate` condition on the `postgresql` status: where a cluster's rolling update stands. True while pods
 * are flagged, with reason `InProgress`, `Waiting`, `Stalled`, `WaitingForSlot`, `WaitingForMaintenanceWindow`,
 * `Paused` or `Blocked`; False `Completed` once the last pod is done. `lastUpdateTime` is the time of the last step
 * (as in apps/v1 DeploymentCondition), from which `rollout_progress_deadline` counts: a rollout that waits longer
 * turns `Stalled`, with one Warning Event `RollingUpdateStalled`.
 *
 * Pure: the previous condition and the time come in (`RolloutState`); `lib/sync/rollout/rolling-update.ts` reads
 * them and writes what comes out.
 *
 * Source: Kubernetes API reference, apps/v1 DeploymentCondition (lastUpdateTime, lastTransitionTime) and
 * DeploymentSpec `progressDeadlineSeconds`; Kubernetes API conventions, "Typical status properties" (conditions);
 * one disruptive step per invocation, with the intent kept on the objects (this project's design: a function call
 * is short-lived, so nothing waits inside it and the next call goes on from what the objects say).
 */
import { ROLLING_UPDATE_PAUSED_ANNOTATION } from '../model/annotations';
import type { Condition } from '../model/postgresql';
import type { PlannedEvent } from './event';
import { rolloutStalled } from './rolling-update';

/** Type of the condition the rolling update owns. */
export const ROLLING_UPDATE_CONDITION = 'RollingUpdate';

/** Reasons of a cluster whose step is under way: it holds a rollout slot. */
export const STEPPING_REASONS: ReadonlySet<string> = new Set(['InProgress', 'Waiting', 'Stalled']);

/** Reasons under which a cluster is not expected to take steps: leaving one restarts the progress clock. */
export const NOT_STEPPING_REASONS: ReadonlySet<string> = new Set([
  'WaitingForSlot',
  'WaitingForMaintenanceWindow',
  'Paused',
  'Blocked',
]);

/** What the condition is computed from: the rollout as the status recorded it, and the time now. */
export interface RolloutState {
  /** the `RollingUpdate` condition stored on the status; undefined when no rollout ever ran */
  previous?: Condition;
  /** the `postgresql` object's `metadata.generation` (0 when it has none) */
  generation: number;
  /** the current time */
  now: Date;
  /** `rollout_progress_deadline` in ms; 0 never reports a stall */
  progressDeadlineMs: number;
}

/** What one invocation's share of the rollout reports. */
export interface RolloutReport {
  /** Events to record about the cluster */
  events: PlannedEvent[];
  /** why a later invocation must come back (a step was taken, or a pod or member is on its way back) */
  pending?: string;
  /**
   * seconds after which to look again when no watched object will change to say the wait is over: a member of a
   * Ready pod catching up, the leader moving after a switchover (Patroni's state is not in the StatefulSet)
   */
  lookAgainSeconds?: number;
  /** the `RollingUpdate` condition to write; undefined when no rollout ever ran */
  condition?: Condition;
}

/** @returns the `RollingUpdate` condition among the stored ones, if any */
export function findRolloutCondition(conditions: readonly Condition[] | undefined): Condition | undefined {
  return (conditions ?? []).find((c) => c.type === ROLLING_UPDATE_CONDITION);
}

/**
 * @param active the rollout goes on (status True) or has ended (False)
 * @param progressed a step was just taken (or the rollout ended): `lastUpdateTime` moves to now; it also does when
 *   the status flips or the cluster leaves a reason under which it takes no steps, and otherwise stays
 * @returns the condition; `lastTransitionTime` is kept while the status stays, times are ISO strings
 */
export function rolloutCondition(
  state: RolloutState,
  active: boolean,
  reason: string,
  message: string,
  progressed = false,
): Condition {
  const { previous, now } = state;
  const status = active ? 'True' : 'False';
  const kept = previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : undefined;
  const restarted =
    progressed || !kept || (previous!.reason !== reason && NOT_STEPPING_REASONS.has(previous!.reason ?? ''));
  return {
    type: ROLLING_UPDATE_CONDITION,
    status,
    reason,
    message,
    observedGeneration: state.generation,
    lastTransitionTime: kept ?? now.toISOString(),
    lastUpdateTime: restarted ? now.toISOString() : (previous!.lastUpdateTime ?? kept!),
  };
}

/**
 * The report of a wait: condition `Waiting`, or `Stalled` once the rollout has taken no step for
 * `rollout_progress_deadline` (as a Deployment past its progress deadline), with one Warning Event
 * `RollingUpdateStalled` when it turns so. The rollout goes on waiting either way (and keeps its slot).
 * @param reason what it waits for, e.g. `pod pg-1 not ready (1 flagged pod left)`
 * @returns pending `rolling update: <reason>`
 */
export function rolloutWaiting(state: RolloutState, reason: string): RolloutReport {
  const waitingNow = rolloutCondition(state, true, 'Waiting', reason);
  const deadline = state.progressDeadlineMs;
  const stalled = rolloutStalled(waitingNow.lastUpdateTime, state.now, deadline);
  const pending = `rolling update: ${reason}`;
  if (!stalled) return { events: [], pending, condition: waitingNow };
  // The condition's message does not count the minutes, so repeated calls write nothing; the Event does.
  const within = `no step within rollout_progress_deadline (${Math.round(deadline / 60_000)} min)`;
  const events: PlannedEvent[] =
    state.previous?.reason === 'Stalled'
      ? []
      : [
          {
            type: 'Warning',
            reason: 'RollingUpdateStalled',
            message:
              `Rolling update stalled, ${stalled}: ${reason}. While it waits it keeps its rollout slot, so other ` +
              `clusters' rollouts may wait too; fix what it waits for, or pause it with ${ROLLING_UPDATE_PAUSED_ANNOTATION}: "true"`,
          },
        ];
  return { events, pending, condition: rolloutCondition(state, true, 'Stalled', `${within}: ${reason}`) };
}
