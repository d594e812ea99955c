/**
 * The record phase of `syncCluster`: the status (written only when it changed) and the Events of what the sync
 * did, refused or found wrong, then the `sync-now` annotation cleared. Warnings already in the stored status are not
 * reported again (`lib/plan/cluster-events.ts`).
 */
import type { Logger } from '../../log/logger';
import type { ClusterPlanResult } from '../../plan/cluster';
import { childWritesEvent, manifestWarningsEvent, newRefusals } from '../../plan/cluster-events';
import {
  invalidAlreadyReported,
  podsReady,
  storedStatus,
  storedWarnings,
  syncObservation,
} from '../../plan/cluster-status';
import { storedUpgradeCondition } from '../upgrade/step';
import type { PodStepsOutcome } from './pod-steps';
import type { RolesStepResult } from '../roles/step';
import type { StepEvent, SyncContext } from '../context';
import type { Applied } from './apply-children';
import type { ObservedChildren } from './observe';
import type { PostgresqlObject } from './read-cluster';
import { isRetryable } from '../../k8s/errors';
import { failedBeforeWrites, messageOf, type SyncResult } from './result';
import { writeStatus } from './status';
import { podWaitRetryAfter } from '../../plan/pod-wait';
import { clearSyncNow } from './sync-now';

/** Everything a pass did and found, for its status and Events. */
export interface PassFacts {
  /** the validation's warnings (fields accepted but not acted on) */
  manifestWarnings: readonly string[];
  /** the plan, with every refused change (a held scale-down first) */
  plan: ClusterPlanResult;
  /** the children as read and written by this pass */
  observed: ObservedChildren;
  applied: Applied;
  /** the Patroni-config, rolling-update and major-version-upgrade steps */
  rollout: PodStepsOutcome;
  roles: RolesStepResult;
}

/** @returns the generation the status will be for */
const generationOf = (raw: PostgresqlObject): number => raw.metadata.generation ?? 0;

/** Records a step's Event and logs it. */
async function recordStep(ctx: SyncContext, raw: PostgresqlObject, log: Logger, step: StepEvent): Promise<void> {
  await ctx.events.record(raw, step.type, step.reason, step.message);
  log.info(step.message, { reason: step.reason });
}

/** @returns whether this pass wrote the StatefulSet with a change that replaces, adds or removes no pod */
function statefulSetWriteKeepsPods(facts: PassFacts): boolean {
  const change = facts.plan.statefulSet;
  const wrote = facts.applied.actions.some((a) => a.kind === 'StatefulSet');
  return wrote && !change.rollingUpdate && !change.recreate && !change.scaleDown && !change.volumeResize;
}

/**
 * Writes the status and the Events of a pass that ended, and clears the `sync-now` annotation.
 * @returns the `synced` result; throws KubeApiError when a write fails
 */
export async function recordSynced(
  ctx: SyncContext,
  raw: PostgresqlObject,
  log: Logger,
  facts: PassFacts,
): Promise<SyncResult> {
  const { plan, applied, rollout, roles } = facts;
  const previousWarnings = storedWarnings(raw);
  const observation = syncObservation({
    generation: generationOf(raw),
    manifestWarnings: facts.manifestWarnings,
    notes: plan.state.notes,
    refusals: plan.refusals,
    pods: podsReady(facts.observed, raw.metadata.name, plan.instances, statefulSetWriteKeepsPods(facts)),
    changed: applied.actions.length > 0 || applied.steps.length > 0,
  });
  const status = await writeStatus(
    ctx,
    raw,
    observation,
    // The upgrade's condition as stored when the step did not look this time (pods not settled).
    [roles.condition, rollout.condition, rollout.upgrade?.condition ?? storedUpgradeCondition(raw)].filter(
      (c) => c !== undefined,
    ),
  );

  const writes = childWritesEvent(applied.actions);
  if (writes) await ctx.events.record(raw, 'Normal', writes.reason, writes.message);
  for (const step of [...applied.steps, ...rollout.events]) await recordStep(ctx, raw, log, step);
  for (const refusal of newRefusals(plan.refusals, previousWarnings)) {
    await ctx.events.record(raw, 'Warning', refusal.reason, refusal.message);
    log.warn('Change refused', { reason: refusal.message });
  }
  const manifestWarnings = [...facts.manifestWarnings, ...plan.state.notes];
  const warnings = manifestWarningsEvent(manifestWarnings, previousWarnings);
  if (warnings) {
    await ctx.events.record(raw, 'Warning', warnings.reason, warnings.message);
    for (const warning of manifestWarnings) log.warn('Manifest warning', { reason: warning });
  }
  if (await clearSyncNow(ctx.client, raw, ctx.signal)) log.info('Honoured the sync-now annotation');

  // Pods not all Ready yet: look again soon, so the status follows them (not only at the next periodic sync).
  const notReady = status.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
  const podWait =
    !observation.podsReady && notReady && !observation.invalid
      ? podWaitRetryAfter(notReady.lastTransitionTime, ctx.now())
      : undefined;
  const later = [applied.pending, rollout.pending, rollout.upgrade?.pending, roles.pending].filter(Boolean).join('; ');
  const lookAgainSeconds = rollout.pending ? rollout.lookAgainSeconds : rollout.upgrade?.lookAgainSeconds;
  return {
    outcome: 'synced',
    actions: applied.actions,
    status: status.PostgresClusterStatus,
    ...(later ? { retryable: true, pending: later } : {}),
    ...(podWait !== undefined
      ? { waitingForPods: { progress: observation.progress ?? 'not ready', retryAfterSeconds: podWait } }
      : {}),
    ...(rollout.pending ? { rollingUpdate: rollout.pending } : {}),
    ...(later && lookAgainSeconds !== undefined ? { lookAgainSeconds } : {}),
    ...(roles.summary ? { roles: roles.summary } : {}),
  };
}

/**
 * Status `Invalid` and a Warning Event (once per problem and generation); no child is touched.
 * @param message the problems, as `describeProblems` words them
 * @returns the `invalid` result, or `failed` when the status could not be written; never throws
 */
export async function recordInvalid(
  ctx: SyncContext,
  raw: PostgresqlObject,
  message: string,
  log: Logger,
): Promise<SyncResult> {
  const generation = generationOf(raw);
  try {
    const before = storedStatus(raw);
    const status = await writeStatus(ctx, raw, {
      generation,
      invalid: message,
      changed: false,
      podsReady: false,
      warnings: [],
    });
    if (!invalidAlreadyReported(before, message, generation)) {
      await ctx.events.record(raw, 'Warning', 'InvalidManifest', message);
      log.warn('Invalid manifest', { reason: message });
    }
    await clearSyncNow(ctx.client, raw, ctx.signal);
    return { outcome: 'invalid', actions: [], status: status.PostgresClusterStatus, error: message };
  } catch (error) {
    return failedBeforeWrites(error, isRetryable(error));
  }
}

/**
 * A pass that threw: a `*Failed` status, the Events of the steps taken before, and a Warning Event `SyncFailed`.
 * @param manifestWarnings the validation's warnings, kept in the status
 * @returns the `failed` result, retryable as the error says; never throws (a status that cannot be written is logged)
 */
export async function recordFailure(
  ctx: SyncContext,
  raw: PostgresqlObject,
  log: Logger,
  manifestWarnings: string[],
  applied: Applied,
  error: unknown,
): Promise<SyncResult> {
  const message = messageOf(error);
  log.error('Sync failed', { error: message });
  try {
    await writeStatus(ctx, raw, {
      generation: generationOf(raw),
      failed: message,
      changed: applied.actions.length > 0 || applied.steps.length > 0,
      podsReady: false,
      warnings: manifestWarnings,
    });
    for (const step of applied.steps) await ctx.events.record(raw, step.type, step.reason, step.message);
    await ctx.events.record(raw, 'Warning', 'SyncFailed', message);
  } catch (statusError) {
    log.warn('Could not write failure status', { error: messageOf(statusError) });
  }
  return { outcome: 'failed', actions: applied.actions, retryable: isRetryable(error), error: message };
}
