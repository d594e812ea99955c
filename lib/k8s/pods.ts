/**
 * Reading Pod status.
 *
 * Source: Kubernetes API reference, core/v1 PodStatus (`conditions`, type `Ready`).
 */
import type { KubeObject } from './client';

/** @returns whether the pod's `Ready` condition is `True` (it passes its readiness probe) */
export const hasReadyCondition = (pod: KubeObject): boolean =>
  ((pod.status?.conditions ?? []) as Array<{ type: string; status: string }>).some((c) => c.type === 'Ready' && c.status === 'True');
