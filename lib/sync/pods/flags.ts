/**
 * Pods of a cluster and the marks the sync leaves on them: the rolling-update flag for pods that run an older pod
 * template (Zalando's `zalando-postgres-operator-rolling-update-required: "true"`, which its operator and the
 * rolling update read to decide which pods to recreate), and pod annotations when only those changed.
 *
 * Source: Zalando postgres-operator (pods flagged per pod since v1.7; annotation-only template changes patched onto
 * running pods, `syncStatefulSet` in https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/sync.go);
 * Kubernetes API reference, core/v1 Pod (metadata is mutable).
 */
import { ROLLING_UPDATE_ANNOTATION } from '../../builders';
import type { V1Pod } from '@kubernetes/client-node';
import { nameOf } from '../../k8s/meta';
import type { SyncContext } from '../context';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../model/annotations';
import { labelSelector } from '../../builders/labels';

/** @returns the pods selected by the labels (one LIST), sorted by name */
export async function listPods(
  ctx: SyncContext,
  namespace: string,
  selector: Record<string, string>,
): Promise<V1Pod[]> {
  const pods = await ctx.client.list<V1Pod>('Pod', namespace, labelSelector(selector), ctx.signal);
  return pods.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : 1));
}

/** @returns whether the pod is flagged for a rolling update */
export const isFlagged = (pod: { metadata?: { annotations?: Record<string, string> } }) =>
  pod.metadata?.annotations?.[ROLLING_UPDATE_ANNOTATION] === 'true';

/**
 * Flags the pods whose template hash differs from `hash` (pods without a hash included) and that are not flagged
 * yet; pods being deleted are left alone.
 * @returns the names of the pods flagged by this call; throws KubeApiError when a patch fails
 */
export async function flagPodsForRollingUpdate(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  hash: string,
): Promise<string[]> {
  const flagged: string[] = [];
  for (const pod of podsToFlag(pods, hash)) {
    const name = nameOf(pod);
    await ctx.client.mergePatch(
      { kind: 'Pod', namespace: pod.metadata?.namespace, name },
      { metadata: { annotations: { [ROLLING_UPDATE_ANNOTATION]: 'true' } } },
      undefined,
      ctx.signal,
    );
    flagged.push(name);
  }
  return flagged;
}

/**
 * @param hash the desired pod template hash
 * @returns the pods a rolling update flags: not being deleted, not flagged yet, and created from another template
 *   (also what the operator API's plan preview predicts)
 */
export function podsToFlag(pods: readonly V1Pod[], hash: string): V1Pod[] {
  return pods.filter(
    (pod) =>
      !pod.metadata?.deletionTimestamp &&
      !isFlagged(pod) &&
      pod.metadata?.annotations?.[POD_TEMPLATE_HASH_ANNOTATION] !== hash,
  );
}

/**
 * Sets and removes annotations on the pods (merge patch; a removed key is `null`); pods that already match get no
 * request.
 * @returns the names of the pods patched; throws KubeApiError when a patch fails
 */
export async function patchPodAnnotations(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  set: Record<string, string>,
  remove: readonly string[],
): Promise<string[]> {
  const patched: string[] = [];
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const current = pod.metadata?.annotations ?? {};
    const changes: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(set)) if (current[key] !== value) changes[key] = value;
    for (const key of remove) if (key in current) changes[key] = null;
    if (Object.keys(changes).length === 0) continue;
    const name = nameOf(pod);
    await ctx.client.mergePatch(
      { kind: 'Pod', namespace: pod.metadata?.namespace, name },
      { metadata: { annotations: changes } },
      undefined,
      ctx.signal,
    );
    patched.push(name);
  }
  return patched;
}
