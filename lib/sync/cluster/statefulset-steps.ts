/**
 * Applies the StatefulSet change planned by `lib/plan/statefulset.ts`, with the steps around it, in an order that
 * stays correct when an invocation stops half-way (the next sync sees the StatefulSet unchanged and does the rest):
 *
 * 1. the PersistentVolumeClaims grow (`volumes.ts`) before the claim template changes;
 * 2. pods running an older template are flagged for a rolling update, pod annotations are patched (not when the
 *    StatefulSet is taken over from another operator: its template differences are reported instead);
 * 3. the StatefulSet is applied, or re-created with orphan propagation (`statefulset-recreate.ts`).
 *
 * (A scale-down that would remove the master is held before this, see `scale-down.ts`.)
 *
 * Runs while the cluster's Lease is held.
 */
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { KubeObject } from '../../k8s/client';
import { desiredPodTemplateHash } from '../../plan/cluster';
import {
  adoptionReport,
  podAnnotationsReport,
  podsMarkedReport,
  statefulSetRecreatedReport,
  volumesResizedReport,
} from '../../plan/statefulset-events';
import { withDesiredHash } from '../../plan/plan';
import { type StatefulSetChange } from '../../plan/statefulset';
import type { HeldLease } from '../../k8s/lease';
import { flagPodsForRollingUpdate, listPods, patchPodAnnotations } from '../pods/flags';
import { recreateStatefulSet } from './statefulset-recreate';
import { growVolumeClaims } from './volumes';
import type { StepEvent, SyncContext } from '../context';
import { podSelector, type NamespacedPostgresql } from './observe';

/** What happened to the StatefulSet. */
export interface StatefulSetOutcome {
  /** the StatefulSet as written, when it was applied or created */
  written?: KubeObject;
  events: StepEvent[];
  /** work a later sync finishes (e.g. the old StatefulSet is not gone yet) */
  pending?: string;
  /** the StatefulSet was created, and no pod of its selector existed just before: none can be there yet to look at */
  createdWithoutPods?: boolean;
}

/**
 * @param observed the live StatefulSet, if any
 * @returns whether the StatefulSet's steps read its pods: to flag or annotate them, to re-create it, or, when it does
 *   not exist, to flag pods left running by an earlier one (orphaned by a re-create or another operator)
 */
export function statefulSetNeedsPods(change: StatefulSetChange, observed: V1StatefulSet | undefined): boolean {
  return Boolean(change.rollingUpdate || change.podAnnotations || change.recreate || !observed);
}

/**
 * @param change the plan (its `desired` is the StatefulSet without the desired-hash annotation)
 * @param observed the live StatefulSet, if any
 * @param deletionWaitMs how long to wait for an old StatefulSet to go during a re-create
 * @param deadline the invocation's deadline (epoch ms): a re-create waits no longer
 * @param podsRead the pods' LIST when the caller started it ({@link listStatefulSetPods}); made here when needed and
 *   absent
 * @returns what was written and the Events of the steps; throws KubeApiError, VolumeResizeError or LeaseLostError
 */
export async function syncStatefulSet(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  change: StatefulSetChange,
  observed: V1StatefulSet | undefined,
  lease: HeldLease,
  deletionWaitMs: number,
  deadline?: number,
  podsRead?: Promise<V1Pod[]>,
): Promise<StatefulSetOutcome> {
  const { name, namespace } = cluster.metadata;
  const outcome: StatefulSetOutcome = { events: [] };
  const desired = withDesiredHash(change.desired);
  const pods = statefulSetNeedsPods(change, observed)
    ? await (podsRead ?? listStatefulSetPods(ctx, cluster, observed))
    : [];

  const report = (event: StepEvent | undefined) => {
    if (event) outcome.events.push(event);
  };

  if (change.volumeResize && ctx.config.storage_resize_mode !== 'off') {
    report(volumesResizedReport(await growVolumeClaims(ctx, cluster, change.volumeResize.to), change.volumeResize));
  }
  if (change.rollingUpdate || !observed) {
    report(
      podsMarkedReport(
        name,
        await flagPodsForRollingUpdate(ctx, pods, desiredPodTemplateHash(desired)),
        change.rollingUpdate,
      ),
    );
  }
  if (change.podAnnotations) {
    report(
      podAnnotationsReport(
        change.podAnnotations,
        await patchPodAnnotations(ctx, pods, change.podAnnotations.set, change.podAnnotations.remove),
      ),
    );
  }

  if (change.recreate) {
    const result = await recreateStatefulSet(
      ctx,
      desired,
      !change.awaitDeletion,
      pods,
      lease,
      deletionWaitMs,
      deadline,
    );
    if (!result.done) return { ...outcome, pending: result.waiting };
    outcome.written = result.created;
    report(statefulSetRecreatedReport(name, change.recreate));
    reportAdoption(ctx, namespace, name, change, report);
    return outcome;
  }
  outcome.written = await ctx.client.apply(desired, ctx.signal);
  if (!observed && pods.length === 0) outcome.createdWithoutPods = true;
  reportAdoption(ctx, namespace, name, change, report);
  return outcome;
}

/** @returns the pods of the cluster's StatefulSet (the live one's selector, else the cluster's); throws KubeApiError */
export function listStatefulSetPods(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  observed: V1StatefulSet | undefined,
): Promise<V1Pod[]> {
  return listPods(ctx, cluster.metadata.namespace, podSelector(ctx, cluster, observed));
}

/** A taken-over StatefulSet: the Event naming its template differences, and the same in the log. */
function reportAdoption(
  ctx: SyncContext,
  namespace: string,
  name: string,
  change: StatefulSetChange,
  report: (event: StepEvent) => void,
): void {
  if (!change.adoption) return;
  const adopted = adoptionReport(name, change.adoption.differences);
  report(adopted);
  const log = ctx.log.with({ cluster: name, namespace });
  if (adopted.type === 'Warning') log.warn(adopted.message, { differences: change.adoption.differences });
  else log.info(adopted.message);
}
