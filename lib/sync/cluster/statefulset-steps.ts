/**
 * Applies the StatefulSet change planned by `lib/plan/statefulset.ts`, with the steps around it, in an order that
 * stays correct when an invocation stops half-way (the next sync sees the StatefulSet unchanged and does the rest):
 *
 * 1. the PersistentVolumeClaims grow (`volumes.ts`) before the claim template changes;
 * 2. pods running an older template are flagged for a rolling update, pod annotations are patched;
 * 3. the StatefulSet is applied, or re-created with orphan propagation (`statefulset-recreate.ts`).
 *
 * (A scale-down that would remove the master is held before this, see `scale-down.ts`.)
 *
 * Runs while the cluster's Lease is held.
 */
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { KubeObject } from '../../k8s/client';
import { desiredPodTemplateHash } from '../../plan/cluster';
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
}

/**
 * @param change the plan (its `desired` is the StatefulSet without the desired-hash annotation)
 * @param observed the live StatefulSet, if any
 * @param deletionWaitMs how long to wait for an old StatefulSet to go during a re-create
 * @param deadline the invocation's deadline (epoch ms): a re-create waits no longer
 * @returns what was written and the Events of the steps; throws KubeApiError, VolumeResizeError or LeaseLostError
 */
export async function syncStatefulSet(ctx: SyncContext, cluster: NamespacedPostgresql, change: StatefulSetChange,
  observed: V1StatefulSet | undefined, lease: HeldLease, deletionWaitMs: number, deadline?: number): Promise<StatefulSetOutcome> {
  const name = cluster.metadata.name;
  const namespace = cluster.metadata.namespace;
  const outcome: StatefulSetOutcome = { events: [] };
  const desired = withDesiredHash(change.desired);
  const needsPods = change.rollingUpdate || change.podAnnotations || change.recreate || !observed;
  const pods = needsPods ? await listPods(ctx, namespace, podSelector(ctx, cluster, observed)) : [];

  if (change.volumeResize && ctx.config.storage_resize_mode !== 'off') {
    const grown = await growVolumeClaims(ctx, cluster, change.volumeResize.to);
    if (grown.length > 0) {
      outcome.events.push({ type: 'Normal', reason: 'VolumeResized',
        message: `Resized PersistentVolumeClaims ${grown.join(', ')} from ${change.volumeResize.from} to ${change.volumeResize.to}` });
    }
  }
  const hash = desiredPodTemplateHash(desired);
  if (change.rollingUpdate || !observed) {
    const flagged = await flagPodsForRollingUpdate(ctx, pods, hash);
    if (flagged.length > 0) {
      outcome.events.push({ type: 'Normal', reason: 'RollingUpdateRequired', message: `Marked pods ${flagged.join(', ')} for a rolling update: `
        + (change.rollingUpdate ?? `they were not created by StatefulSet ${name} as it is now`) });
    }
  }
  if (change.podAnnotations) {
    const patched = await patchPodAnnotations(ctx, pods, change.podAnnotations.set, change.podAnnotations.remove);
    if (patched.length > 0) {
      const keys = [...Object.keys(change.podAnnotations.set), ...change.podAnnotations.remove].sort();
      outcome.events.push({ type: 'Normal', reason: 'PodAnnotationsUpdated', message: `Updated annotations ${keys.join(', ')} of pods ${patched.join(', ')}` });
    }
  }

  if (change.recreate) {
    const result = await recreateStatefulSet(ctx, desired, !change.awaitDeletion, pods, lease, deletionWaitMs, deadline);
    if (!result.done) return { ...outcome, pending: result.waiting };
    outcome.written = result.created;
    outcome.events.push({ type: 'Normal', reason: 'StatefulSetRecreated', message: `Re-created StatefulSet ${name}, keeping its pods: ${change.recreate}` });
    return outcome;
  }
  outcome.written = await ctx.client.apply(desired, ctx.signal);
  return outcome;
}
