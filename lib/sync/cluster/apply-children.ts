/**
 * The apply phase of `syncCluster`: the planned writes to the cluster's children, made while holding its Lease.
 * Owned objects are applied (server-side apply); shared ones (the pod ServiceAccount and RoleBinding) are created
 * when missing; the StatefulSet goes through `statefulset-steps.ts` (volumes, pod flags, re-create).
 */
import type { DesiredObject } from '../../builders';
import type { KubeObject } from '../../k8s/client';
import { isStatus } from '../../k8s/errors';
import type { Logger } from '../../log/logger';
import type { ClusterPlan } from '../../plan/cluster';
import { appliedAction, type AppliedAction } from '../../plan/cluster-events';
import { objectKey } from '../../plan/plan';
import type { StepEvent, SyncContext } from '../context';
import type { LeaseHeld } from './cluster-lease';
import type { NamespacedPostgresql, ObservedChildren } from './observe';
import { syncStatefulSet } from './statefulset-steps';

/** What a pass wrote so far: filled as it goes, so a failure half-way still reports what was written. */
export interface Applied {
  /** the writes made to children, with their reasons */
  actions: AppliedAction[];
  /** the StatefulSet's steps (volumes resized, pods marked, re-created), as Events */
  steps: StepEvent[];
  /** StatefulSet work a later sync finishes (e.g. the old StatefulSet is not gone yet) */
  pending?: string;
}

/**
 * Makes the plan's writes in order; each object written replaces the observed one in `observed` (so the status and
 * the later steps see it).
 * @param applied where the writes are recorded as they are made
 * @returns nothing; throws KubeApiError (or VolumeResizeError) when a write fails, with `applied` holding the ones made
 */
export async function applyChildren(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  plan: ClusterPlan,
  observed: ObservedChildren,
  holding: LeaseHeld,
  applied: Applied,
  log: Logger,
): Promise<void> {
  for (const action of plan.actions) {
    const key = objectKey(action.object);
    if (action.object.kind === 'StatefulSet') {
      const outcome = await syncStatefulSet(
        ctx,
        cluster,
        plan.statefulSet,
        observed.get(key),
        holding.lease,
        holding.deletionWaitMs,
        ctx.deadline,
      );
      applied.steps.push(...outcome.events);
      applied.pending = outcome.pending;
      if (!outcome.written) continue;
      observed.set(key, outcome.written);
    } else {
      if (action.replaceFirst) {
        const { kind, metadata } = action.object;
        await ctx.client.mergePatch(
          { kind, namespace: cluster.metadata.namespace, name: metadata.name },
          action.replaceFirst,
          undefined,
          ctx.signal,
        );
      }
      const written =
        action.type === 'apply'
          ? await ctx.client.apply(action.object, ctx.signal)
          : await createShared(ctx, action.object);
      if (written) observed.set(key, written);
    }
    applied.actions.push(appliedAction(action));
    log.info(`${action.change === 'created' ? 'Created' : 'Updated'} ${action.object.kind}`, {
      name: action.object.metadata.name,
      reason: action.reason,
    });
  }
}

/** Creates a shared object; one created meanwhile by a concurrent sync (409) counts as done. */
async function createShared(ctx: SyncContext, object: DesiredObject): Promise<KubeObject | undefined> {
  try {
    return await ctx.client.create(object, ctx.signal);
  } catch (error) {
    if (isStatus(error, 409)) return undefined;
    throw error;
  }
}
