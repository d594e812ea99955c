/**
 * Reading Pod status.
 *
 * Source: Kubernetes API reference, core/v1 PodStatus (`conditions`, type `Ready`).
 */
import type { V1Pod } from '@kubernetes/client-node';

/** @returns whether the pod's `Ready` condition is `True` (it passes its readiness probe) */
export const hasReadyCondition = (pod: V1Pod): boolean =>
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** @returns whether the pod is phase `Running` and its `Ready` condition is `True` */
export const isPodReady = (pod: V1Pod): boolean => pod.status?.phase === 'Running' && hasReadyCondition(pod);
