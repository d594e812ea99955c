/**
 * What a cluster's rolling update does in one invocation before and after the step is chosen
 * (`nextRolloutStep`), decided from what was observed and the previous `RollingUpdate` condition:
 *
 * - before Patroni is asked ({@link rolloutGate}): nothing flagged and nothing under way (keep the condition);
 *   the last recreated pod not back yet (keep the slot, wait); the rollout over (free the slot, `Completed`);
 *   paused by annotation, or outside the maintenance windows (hold, freeing the slot once when the hold begins);
 *   else go on, peeking at the slots first when the cluster was in line for one;
 * - once the step is known ({@link planRolloutStep}): report a wait (renewing the slot of a step under way) or a
 *   block (one Warning Event per reason), or act.
 *
 * Pure: `lib/sync/rollout/rolling-update.ts` does what the answers say (slot Leases, pod deletes, switchovers).
 *
 * Source: Zalando postgres-operator rolling update ("Understanding rolling update of Spilo pods",
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/administrator.md); one disruptive step per
 * invocation and fleet operations that honour maintenance windows are this project's design (a function call is
 * short-lived; a disruptive step interrupts clients).
 */
import { ROLLING_UPDATE_PAUSED_ANNOTATION } from '../model/annotations';
import type { MaintenanceWindow } from '../model/maintenance-window';
import type { PlannedEvent } from './event';
import { checkMaintenanceWindows, describeWindowStart } from './maintenance-window';
import { flaggedPods, podsNotBack, type RolloutPod, type RolloutStep } from './rolling-update';
import {
  rolloutCondition,
  rolloutWaiting,
  STEPPING_REASONS,
  type RolloutReport,
  type RolloutState,
} from './rollout-condition';

/** What is observed before Patroni is asked. */
export interface RolloutGateInputs {
  /** the cluster's pods (their nodes are not needed here) */
  pods: readonly RolloutPod[];
  /** the StatefulSet's replicas */
  instances: number;
  /** the cluster carries `acid.zalan.do/rolling-update-paused: "true"` */
  paused: boolean;
  /** the cluster's maintenance windows (`clusterMaintenanceWindows`); empty means any time */
  windows: readonly MaintenanceWindow[];
}

/** What to do before Patroni is asked. */
export type RolloutGate =
  /** no pod flagged and no rollout under way: report the condition as it is (no status write) */
  | { kind: 'idle'; report: RolloutReport }
  /** no pod flagged, but the last recreated pod is not back: keep the rollout slot renewed, then report */
  | { kind: 'finishing'; report: RolloutReport }
  /** the rollout is over: under the cluster's Lease, free the rollout slot, then report `Completed` */
  | { kind: 'completed'; report: RolloutReport }
  /** no step now (paused, outside the windows): free the rollout slot first when `releaseSlot`, then report */
  | { kind: 'hold'; releaseSlot: boolean; report: RolloutReport }
  /** choose the step; when `peekSlot` (the cluster is in line) look at the slots first, before Patroni */
  | { kind: 'proceed'; peekSlot: boolean };

/** What to do once the step is chosen. */
export type RolloutStepPlan =
  /** nothing to act on: renew the rollout slot first when `keepSlot` (a step under way), then report */
  | { kind: 'report'; keepSlot: boolean; report: RolloutReport }
  /** a disruptive step: take it under the cluster's Lease and a rollout slot */
  | { kind: 'act'; step: Extract<RolloutStep, { kind: 'recreate' | 'switchover' }> };

/** @returns the previous condition as it is: a report that writes nothing */
const unchanged = (state: RolloutState): RolloutReport => ({
  events: [],
  ...(state.previous ? { condition: state.previous } : {}),
});

const podNames = (pods: readonly RolloutPod[]) => pods.map((p) => p.name).join(', ');

/**
 * @returns what the rollout does before Patroni is asked; the maintenance windows are checked at `state.now`
 */
export function rolloutGate(state: RolloutState, inputs: RolloutGateInputs): RolloutGate {
  const { previous } = state;
  const flagged = flaggedPods(inputs.pods);
  if (flagged.length === 0) {
    // A finished rollout's condition stays as it was (no status write).
    if (previous?.status !== 'True') return { kind: 'idle', report: unchanged(state) };
    // The last pod recreated is not flagged, but the rollout is not over until it is back: keep the slot till then.
    const notBack = podsNotBack(inputs.pods, inputs.instances);
    if (notBack) return { kind: 'finishing', report: rolloutWaiting(state, notBack) };
    return {
      kind: 'completed',
      report: {
        events: [
          {
            type: 'Normal',
            reason: 'RollingUpdateCompleted',
            message: 'Rolling update completed: every pod runs the current template',
          },
        ],
        condition: rolloutCondition(state, false, 'Completed', 'every pod runs the current template', true),
      },
    };
  }
  if (inputs.paused) {
    const message = `paused by annotation ${ROLLING_UPDATE_PAUSED_ANNOTATION}: pods ${podNames(flagged)} wait`;
    // Pausing the cluster that holds up the fleet (its new pod does not come back) lets the next one go at once.
    return {
      kind: 'hold',
      releaseSlot: previous?.reason !== 'Paused',
      report: { events: [], condition: rolloutCondition(state, true, 'Paused', message) },
    };
  }

  const window = checkMaintenanceWindows(inputs.windows, state.now);
  if (!window.open) {
    const message =
      `outside the maintenance windows (${window.windows}): the next one starts ` +
      `${describeWindowStart(window.nextStart)}; pods ${podNames(flagged)} wait`;
    // A rollout under way stops between two steps (the cluster is whole then) and frees its slot for a cluster that
    // may roll now. Nothing to retry soon: periodic sync looks again, and goes on once a window has begun.
    const condition = rolloutCondition(state, true, 'WaitingForMaintenanceWindow', message);
    if (previous?.reason === 'WaitingForMaintenanceWindow')
      return { kind: 'hold', releaseSlot: false, report: { events: [], condition } };
    return {
      kind: 'hold',
      releaseSlot: true,
      report: {
        events: [{ type: 'Normal', reason: 'RollingUpdateDeferred', message: `Rolling update deferred: ${message}` }],
        condition,
      },
    };
  }
  // Still in line: one read of the slots instead of Patroni's view and every pod's status.
  return { kind: 'proceed', peekSlot: previous?.status === 'True' && previous.reason === 'WaitingForSlot' };
}

/**
 * @param reason why no slot is free, e.g. `next slot free in 25 s (rollout_cluster_delay)`
 * @returns the report of a cluster in line for a rollout slot: `WaitingForSlot`, pending
 */
export function slotWaitReport(state: RolloutState, reason: string): RolloutReport {
  return {
    events: [],
    pending: `rolling update: waiting for a rollout slot: ${reason}`,
    condition: rolloutCondition(state, true, 'WaitingForSlot', reason),
  };
}

/**
 * @param step the step `nextRolloutStep` chose
 * @returns a report (`done`, `wait`, `blocked`) or the disruptive step to take
 */
export function planRolloutStep(state: RolloutState, step: RolloutStep): RolloutStepPlan {
  const { previous } = state;
  switch (step.kind) {
    case 'done':
      return { kind: 'report', keepSlot: false, report: unchanged(state) };
    case 'wait':
      // A step under way (a recreated replica catching up) may take longer than a slot lasts unrenewed: keep it.
      return {
        kind: 'report',
        keepSlot: previous?.status === 'True' && STEPPING_REASONS.has(previous.reason ?? ''),
        report: rolloutWaiting(state, step.reason),
      };
    case 'blocked': {
      // Not retried at once (nothing will change in seconds); periodic sync looks again. One Event per reason.
      const events: PlannedEvent[] =
        previous?.reason === 'Blocked' && previous.message === step.reason
          ? []
          : [{ type: 'Warning', reason: 'RollingUpdateBlocked', message: step.reason }];
      return {
        kind: 'report',
        keepSlot: false,
        report: { events, condition: rolloutCondition(state, true, 'Blocked', step.reason) },
      };
    }
    default:
      return { kind: 'act', step };
  }
}
