/**
 * The orphaning re-create of a StatefulSet, for changes Kubernetes refuses in place (selector, serviceName,
 * podManagementPolicy, volumeClaimTemplates): delete it with `propagationPolicy: Orphan` (the garbage collector
 * removes the pods' owner references and keeps the pods running), wait until it is gone, then create the new one,
 * which adopts the pods its selector matches. Done while holding the cluster's Lease.
 *
 * When the selector changed, the orphaned pods get the new selector labels before the new StatefulSet is created,
 * or it would not adopt them and would fail to create pods of the same names. Nothing waits longer than
 * `waitMs`: a StatefulSet still there (its `orphan` finalizer not yet processed) is created by the next sync.
 *
 * Source: Zalando postgres-operator (replace = delete with orphan propagation, poll until gone, create;
 * `replaceStatefulSet` in https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/resources.go);
 * Kubernetes "Garbage Collection" (orphan dependents), apps/v1 StatefulSet.
 */
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { DesiredObject } from '../../builders';
import type { KubeObject } from '../../k8s/client';
import { desiredSelector } from '../../plan/cluster';
import type { HeldLease } from '../../k8s/lease';
import type { SyncContext } from '../context';

/** How the re-create ended. */
export type RecreateResult = { done: true; created: KubeObject } | { done: false; waiting: string };

/**
 * @param desired the new StatefulSet
 * @param deleteFirst false when the old one is already being deleted (only wait)
 * @param pods the pods of the old StatefulSet (relabelled when the selector changes)
 * @param waitMs how long to wait for the old one to go (ms; never past `deadline`, epoch ms)
 * @returns the StatefulSet created, or what it waits for; throws KubeApiError, or LeaseLostError when the Lease is lost
 */
export async function recreateStatefulSet(
  ctx: SyncContext,
  desired: DesiredObject,
  deleteFirst: boolean,
  pods: readonly V1Pod[],
  lease: HeldLease,
  waitMs: number,
  deadline?: number,
): Promise<RecreateResult> {
  // The builders always set the namespace (to `default` when the cluster has none, as here).
  const ref = { kind: 'StatefulSet', namespace: desired.metadata.namespace ?? 'default', name: desired.metadata.name };
  if (deleteFirst) await ctx.client.delete(ref, 'Orphan', ctx.signal);
  const giveUp = Math.min(ctx.now().getTime() + waitMs, deadline ?? Infinity);
  for (;;) {
    const current = await ctx.client.get<V1StatefulSet>(ref, ctx.signal);
    if (!current) break;
    if (ctx.now().getTime() >= giveUp || ctx.signal?.aborted) {
      return {
        done: false,
        waiting: `waiting for StatefulSet ${ref.name} to be deleted (its pods are kept); it is created again by the next sync`,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await lease.renewIfDue();
  }
  const selector = desiredSelector(desired);
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    const missing = Object.fromEntries(Object.entries(selector).filter(([k, v]) => labels[k] !== v));
    const name = pod.metadata?.name;
    if (Object.keys(missing).length === 0 || pod.metadata?.deletionTimestamp || name === undefined) continue;
    await ctx.client.mergePatch(
      { kind: 'Pod', namespace: ref.namespace, name },
      { metadata: { labels: missing } },
      undefined,
      ctx.signal,
    );
  }
  return { done: true, created: await ctx.client.apply(desired, ctx.signal) };
}
