/**
 * The status of a `postgresql` object: conditions (Ready, Progressing, Degraded) carrying `observedGeneration`,
 * and Zalando's `PostgresClusterStatus` string derived from them, so tools written for Zalando's operator keep
 * reading the same field. Pure: the current time is passed in.
 *
 * Source: Zalando postgres-operator docs (status values); Kubernetes API conventions, "Typical status properties"
 * (conditions, observedGeneration).
 */
import { canonicalJson } from '../model/canonical';
import type { Condition, PostgresqlStatus } from '../model/postgresql';

/** Zalando's cluster status values. */
export type ClusterStatus =
  'Creating' | 'Updating' | 'Running' | 'CreateFailed' | 'UpdateFailed' | 'SyncFailed' | 'Invalid';

/** What a sync found, as input to the status. */
export interface SyncObservation {
  generation: number;
  /** the manifest failed validation: the message names the fields */
  invalid?: string;
  /** the sync failed: the error message */
  failed?: string;
  /** objects were written by this sync (a failure after writes is an UpdateFailed, not a SyncFailed) */
  changed: boolean;
  /** the StatefulSet has all its replicas ready (and current) */
  podsReady: boolean;
  /** a short text on what is still progressing (e.g. "1 of 2 pods ready") */
  progress?: string;
  /** warnings about the manifest (fields accepted but not acted on) and refused changes */
  warnings: string[];
  /**
   * changes of the manifest that are not made, and why (a smaller volume, a scale-down that would remove the
   * master): Progressing is False with reason `UpdateBlocked`; the cluster keeps running as it was
   */
  blocked?: string[];
}

const condition = (
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  generation: number,
  previous: Condition[] | undefined,
  now: string,
): Condition => {
  const status = ok ? 'True' : 'False';
  const before = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    reason,
    message,
    observedGeneration: generation,
    lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
  };
};

/** Statuses that mean the cluster once ran: a later change is an update, not a creation. */
const HAS_RUN = new Set(['Running', 'Updating', 'UpdateFailed', 'SyncFailed']);

/**
 * @param previous the status before this sync (a legacy plain string status counts as none)
 * @param now RFC 3339 time for new condition transitions
 * @returns the new status
 */
export function deriveStatus(
  observation: SyncObservation,
  previous: PostgresqlStatus | undefined,
  now: string,
): PostgresqlStatus {
  const prior = previous?.conditions;
  const { generation } = observation;
  const hasRun = HAS_RUN.has(previous?.PostgresClusterStatus ?? '');
  let cluster: ClusterStatus;
  let ready: Condition;
  let progressing: Condition;
  let degraded: Condition;
  if (observation.invalid) {
    cluster = 'Invalid';
    ready = condition('Ready', false, 'InvalidManifest', observation.invalid, generation, prior, now);
    progressing = condition(
      'Progressing',
      false,
      'InvalidManifest',
      'fix the manifest to continue',
      generation,
      prior,
      now,
    );
    degraded = condition('Degraded', true, 'InvalidManifest', observation.invalid, generation, prior, now);
  } else if (observation.failed) {
    // An update is a sync of a newer generation than the status describes, or one that wrote objects before failing.
    const newer = previous?.observedGeneration !== undefined && previous.observedGeneration < generation;
    cluster = !hasRun ? 'CreateFailed' : observation.changed || newer ? 'UpdateFailed' : 'SyncFailed';
    ready = condition(
      'Ready',
      observation.podsReady,
      observation.podsReady ? 'PodsReady' : 'PodsNotReady',
      observation.progress ?? '',
      generation,
      prior,
      now,
    );
    progressing = condition('Progressing', false, 'SyncFailed', observation.failed, generation, prior, now);
    degraded = condition('Degraded', true, 'SyncFailed', observation.failed, generation, prior, now);
  } else {
    cluster = observation.podsReady ? 'Running' : hasRun ? 'Updating' : 'Creating';
    ready = condition(
      'Ready',
      observation.podsReady,
      observation.podsReady ? 'PodsReady' : 'PodsNotReady',
      observation.progress ?? (observation.podsReady ? 'all pods are ready' : 'waiting for pods'),
      generation,
      prior,
      now,
    );
    // Progressing follows the observed state, not what this sync wrote, so an unchanged cluster keeps its status.
    progressing = observation.blocked?.length
      ? condition('Progressing', false, 'UpdateBlocked', observation.blocked.join('; '), generation, prior, now)
      : condition(
          'Progressing',
          !observation.podsReady,
          observation.podsReady ? 'Converged' : 'WaitingForPods',
          observation.podsReady ? 'all objects match the manifest' : 'waiting for pods',
          generation,
          prior,
          now,
        );
    degraded = condition('Degraded', false, 'AsExpected', '', generation, prior, now);
  }
  const status: PostgresqlStatus = {
    PostgresClusterStatus: cluster,
    observedGeneration: generation,
    conditions: [ready, progressing, degraded],
  };
  if (observation.warnings.length > 0) status.warnings = observation.warnings;
  return status;
}

/** @returns whether the status to write differs from the one stored (key order ignored) */
export function statusChanged(before: PostgresqlStatus | string | undefined, after: PostgresqlStatus): boolean {
  return canonicalJson(before) !== canonicalJson(after);
}
