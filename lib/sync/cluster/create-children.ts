/**
 * The writes of a new cluster's first sync (`syncNewCluster` in `sync-cluster.ts`), the path of a create: every
 * planned child at once, the StatefulSet included, with nothing read first. Each owned child is created only if it
 * does not exist (`KubeClient.applyNew`: a server-side apply the API server refuses with 409 for an existing object),
 * so an object made by someone else first, above all a Secret and its password, is never overwritten; shared objects
 * (the pod ServiceAccount and RoleBinding) are created as the usual path creates them (409: already there).
 *
 * Why the StatefulSet need not wait for the others: they are sent in the same round, and its controller creates the
 * first pod only after it sees the StatefulSet; a pod that starts before a Secret it mounts exists waits for it in
 * the kubelet. Pods of the cluster's selector left by an earlier StatefulSet (orphaned by a re-create, or by another
 * operator) are listed in the same round and flagged for the rolling update, as `statefulset-steps.ts` does.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { IRSA_ANNOTATION } from '../../builders/service-account';
import type { KubeObject } from '../../k8s/client';
import { isStatus } from '../../k8s/errors';
import type { Logger } from '../../log/logger';
import { desiredPodTemplateHash, type ClusterPlan } from '../../plan/cluster';
import { objectKey, withDesiredHash } from '../../plan/plan';
import { podsMarkedReport } from '../../plan/statefulset-events';
import type { SyncContext } from '../context';
import { flagPodsForRollingUpdate } from '../pods/flags';
import { recordWrite, type Applied } from './apply-children';
import type { NamespacedPostgresql, ObservedChildren } from './observe';
import { listStatefulSetPods } from './statefulset-steps';

/**
 * Writes every planned child of a new cluster at once, each only if it is missing.
 * @param plan the plan against no children (`newClusterObservation`)
 * @param observed filled with the objects as written
 * @param applied where the writes are recorded as they are made
 * @returns the `Kind/name` of the children that existed already (left as they were; the caller then syncs the usual
 *   way, which reads them); throws KubeApiError when a write or the pods' LIST fails otherwise
 */
export async function createChildren(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  plan: ClusterPlan,
  observed: ObservedChildren,
  applied: Applied,
  log: Logger,
): Promise<string[]> {
  const existing: string[] = [];
  const pods = listStatefulSetPods(ctx, cluster, undefined);
  pods.catch(() => undefined); // awaited below, after the writes
  const results = await Promise.allSettled(
    plan.actions.map(async (action) => {
      const key = objectKey(action.object);
      const written = await createOne(ctx, plan, action).catch((error: unknown) => {
        if (!isStatus(error, 409)) throw error;
        // A shared object that exists is done, as on the usual path, unless its IRSA role is to be kept in sync.
        if (action.type !== 'create' || action.object.metadata.annotations?.[IRSA_ANNOTATION] !== undefined)
          existing.push(key);
        return undefined;
      });
      if (!written) return;
      observed.set(key, written);
      recordWrite(applied, log, action);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const statefulSet = plan.actions.find((a) => a.object.kind === 'StatefulSet');
  if (statefulSet && observed.has(objectKey(statefulSet.object)))
    await flagOrphanedPods(ctx, cluster, plan, await pods, applied);
  return existing;
}

/** Creates one planned child: owned ones by `applyNew`, the StatefulSet with its desired hash as the usual path. */
function createOne(ctx: SyncContext, plan: ClusterPlan, action: ClusterPlan['actions'][number]): Promise<KubeObject> {
  if (action.type === 'create') return ctx.client.create(action.object, ctx.signal);
  const object = action.object.kind === 'StatefulSet' ? withDesiredHash(plan.statefulSet.desired) : action.object;
  return ctx.client.applyNew(object, ctx.signal);
}

/** Flags pods left by an earlier StatefulSet; with none, the pod steps need not list them (`createdWithoutPods`). */
async function flagOrphanedPods(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  plan: ClusterPlan,
  pods: V1Pod[],
  applied: Applied,
): Promise<void> {
  if (pods.length === 0) {
    applied.createdWithoutPods = true;
    return;
  }
  const hash = desiredPodTemplateHash(withDesiredHash(plan.statefulSet.desired));
  const report = podsMarkedReport(
    cluster.metadata.name,
    await flagPodsForRollingUpdate(ctx, pods, hash),
    plan.statefulSet.rollingUpdate,
  );
  if (report) applied.steps.push(report);
}
