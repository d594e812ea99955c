/**
 * What a disruptive rolling-update step reports once it was taken (or refused): its Event, why the next invocation
 * must come back, and the `RollingUpdate` condition. A step taken moves `lastUpdateTime` (the progress clock);
 * one that did not happen is a wait.
 *
 * Pure: `lib/sync/rollout/rolling-update.ts` deletes the pod or asks Patroni, then reports with these.
 *
 * Source: Zalando postgres-operator v1.15.1 `syncStatefulSet` (rolling update Events, pkg/cluster/sync.go) and
 * `Switchover` (https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/cluster.go);
 * Kubernetes API reference, meta/v1 DeleteOptions (a uid precondition refused: 409).
 */
import type { RolloutStep } from './rolling-update';
import { rolloutCondition, type RolloutReport, type RolloutState } from './rollout-condition';

type Recreate = Extract<RolloutStep, { kind: 'recreate' }>;
type Switchover = Extract<RolloutStep, { kind: 'switchover' }>;

/**
 * @returns the report of a pod recreated (deleted, for the StatefulSet to create it again): Event `RollingUpdate`,
 *   a Warning when the cluster is down until the pod is back; condition `InProgress`
 */
export function recreatedReport(state: RolloutState, step: Recreate): RolloutReport {
  const message = `Recreating pod ${step.pod}${step.downtime ? ' (the cluster is down until it is back)' : ''}: ${step.reason}`;
  return {
    events: [{ type: step.downtime ? 'Warning' : 'Normal', reason: 'RollingUpdate', message }],
    pending: `rolling update: recreating pod ${step.pod}`,
    condition: rolloutCondition(state, true, 'InProgress', message, true),
  };
}

/** @returns the report of a delete refused by its uid precondition (the pod was replaced meanwhile): a wait */
export function podChangedReport(state: RolloutState, pod: string): RolloutReport {
  return {
    events: [],
    pending: `rolling update: pod ${pod} changed meanwhile`,
    condition: rolloutCondition(state, true, 'Waiting', `pod ${pod} changed meanwhile`),
  };
}

/**
 * @param newLeader the leader Patroni reports after the switchover, when it says
 * @returns the report of a switchover done: Event `Switchover`, condition `InProgress`
 */
export function switchedOverReport(
  state: RolloutState,
  step: Switchover,
  newLeader: string | undefined,
): RolloutReport {
  const message = `Switched over from ${step.leader} to ${newLeader ?? step.candidate}: ${step.reason}`;
  return {
    events: [{ type: 'Normal', reason: 'Switchover', message }],
    pending: `rolling update: switched over to ${step.candidate}`,
    condition: rolloutCondition(state, true, 'InProgress', message, true),
  };
}

/**
 * @param error why Patroni refused or did not answer (e.g. 412: the leader changed)
 * @returns the report of a failed switchover: Warning Event `SwitchoverFailed`, condition `Waiting`
 */
export function switchoverFailedReport(state: RolloutState, step: Switchover, error: string): RolloutReport {
  const message = `Switchover from ${step.leader} to ${step.candidate} failed: ${error}`;
  return {
    events: [{ type: 'Warning', reason: 'SwitchoverFailed', message }],
    pending: `rolling update: ${message}`,
    condition: rolloutCondition(state, true, 'Waiting', message),
  };
}
