/**
 * Scale-down without losing the master first. A StatefulSet removes its highest ordinals first; when the master
 * pod (Patroni's `<pod_role_label>=master`) is among the pods a scale-down removes, Zalando's operator switches
 * over to pod 0 first (`preScaleDown` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/resources.go).
 * Until the rolling-update logic does that switchover here, the scale-down is held: the StatefulSet keeps its
 * replicas and the status and a Warning Event say a switchover is needed first. The pods are read by
 * `lib/sync/cluster/scale-down.ts`; this decides.
 *
 * Source: Kubernetes "StatefulSet" (scaling removes pods in reverse ordinal order); Zalando postgres-operator.
 */
import { podOrdinal, type Refusal, type StatefulSetChange } from './statefulset';

/** What the hold needs to know of a pod. */
export interface PodRole {
  name: string;
  /** the value of the pod's `pod_role_label` (Patroni sets `master` on the leader) */
  role: string | undefined;
  /** the pod has a deletionTimestamp (it is going, whatever its role) */
  deleting: boolean;
}

/** A scale-down that waits: the replicas to keep, and the refusal reported in status and as a Warning Event. */
export interface ScaleDownHold {
  keep: number;
  refusal: Refusal;
}

/**
 * @param statefulSetName the StatefulSet's name (its pods are `<name>-<ordinal>`)
 * @param scaleDown the planned scale-down (`StatefulSetChange.scaleDown`)
 * @param pods the cluster's pods, in name order (the first master found counts)
 * @returns the hold when the master pod (not being deleted) has an ordinal the scale-down removes, else undefined
 */
export function holdScaleDown(
  statefulSetName: string,
  scaleDown: NonNullable<StatefulSetChange['scaleDown']>,
  pods: readonly PodRole[],
): ScaleDownHold | undefined {
  const { from, to } = scaleDown;
  const master = pods.find((p) => p.role === 'master' && !p.deleting);
  const ordinal = master ? podOrdinal(statefulSetName, master.name) : undefined;
  if (master === undefined || ordinal === undefined || ordinal < to) return undefined;
  return {
    keep: from,
    refusal: {
      reason: 'SwitchoverNeeded',
      message:
        `scale-down from ${from} to ${to} instances waits: it would remove the master pod ${master.name} first; ` +
        'a switchover to a pod with a lower ordinal is needed first',
    },
  };
}
