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
import { listStatefulSetPods, statefulSetNeedsPods, syncStatefulSet } from './statefulset-steps';

const VERB = { created: 'Created', updated: 'Updated', deleted: 'Deleted' } as const;

/** What a pass wrote so far: filled as it goes, so a failure half-way still reports what was written. */
export interface Applied {
  /** the writes made to children, with their reasons */
  actions: AppliedAction[];
  /** the StatefulSet's steps (volumes resized, pods marked, re-created), as Events */
  steps: StepEvent[];
  /** StatefulSet work a later sync finishes (e.g. the old StatefulSet is not gone yet) */
  pending?: string;
  /** the StatefulSet was created by this pass and had no pods just before (`StatefulSetOutcome`) */
  createdWithoutPods?: boolean;
}

/**
 * Makes the plan's writes: every child but the StatefulSet at once, then the StatefulSet; each object written
 * replaces the observed one in `observed` (so the status and the later steps see it).
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
  const record = (action: ClusterPlan['actions'][number]) => recordWrite(applied, log, action);
  // The children other than the StatefulSet do not depend on one another: written at once (a create is then one
  // round trip, not ten). The StatefulSet goes last, so its pods find their Secrets and ServiceAccount; the pods its
  // steps need are read meanwhile.
  const statefulSetKey = `StatefulSet/${cluster.metadata.name}`;
  const podsRead =
    plan.actions.some((a) => a.object.kind === 'StatefulSet') &&
    statefulSetNeedsPods(plan.statefulSet, observed.get(statefulSetKey))
      ? listStatefulSetPods(ctx, cluster, observed.get(statefulSetKey))
      : undefined;
  podsRead?.catch(() => undefined); // awaited by the StatefulSet step; a failed write before it leaves it unread
  const others = plan.actions.filter((a) => a.object.kind !== 'StatefulSet');
  const results = await Promise.allSettled(
    others.map(async (action) => {
      const written = await writeChild(ctx, cluster, action);
      if (written) observed.set(objectKey(action.object), written);
      else if (action.type === 'delete') observed.delete(objectKey(action.object));
    }),
  );
  // Recorded in the plan's order (not the order the answers came in), failures left out.
  others.forEach((action, i) => results[i]!.status === 'fulfilled' && record(action));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;

  for (const action of plan.actions.filter((a) => a.object.kind === 'StatefulSet')) {
    const key = objectKey(action.object);
    const outcome = await syncStatefulSet(
      ctx,
      cluster,
      plan.statefulSet,
      observed.get(key),
      holding.lease,
      holding.deletionWaitMs,
      ctx.deadline,
      podsRead,
    );
    applied.steps.push(...outcome.events);
    applied.pending = outcome.pending;
    applied.createdWithoutPods = outcome.createdWithoutPods;
    if (!outcome.written) continue;
    observed.set(key, outcome.written);
    record(action);
  }
}

/** Records a write made to a child (for the sync's Events and result) and logs it. */
export function recordWrite(applied: Applied, log: Logger, action: ClusterPlan['actions'][number]): void {
  applied.actions.push(appliedAction(action));
  log.info(`${VERB[action.change]} ${action.object.kind}`, {
    name: action.object.metadata.name,
    reason: action.reason,
  });
}

/** Writes one child other than the StatefulSet: handing a field over first when the plan says so, then the write. */
async function writeChild(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  action: ClusterPlan['actions'][number],
): Promise<KubeObject | undefined> {
  if (action.replaceFirst) {
    const { kind, metadata } = action.object;
    await ctx.client.mergePatch(
      { kind, namespace: cluster.metadata.namespace, name: metadata.name },
      action.replaceFirst,
      undefined,
      ctx.signal,
    );
  }
  if (action.type === 'delete') {
    const { kind, metadata } = action.object;
    // Background propagation: the Deployment goes at once, its ReplicaSets and pods after it.
    await ctx.client.delete(
      { kind, namespace: cluster.metadata.namespace, name: metadata.name },
      'Background',
      ctx.signal,
    );
    return undefined;
  }
  return action.type === 'apply' ? ctx.client.apply(action.object, ctx.signal) : createShared(ctx, action.object);
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
