/**
 * Scale-down without losing the master first. A StatefulSet removes its highest ordinals first; when the master
 * pod (Patroni's `<pod_role_label>=master`) is among the pods a scale-down removes, Zalando's operator switches
 * over to pod 0 first (research/zalando.md §4.10). Until the rolling-update logic does that switchover here, the
 * scale-down is held: the StatefulSet keeps its replicas and the status and a Warning Event say a switchover is
 * needed first.
 *
 * Source: Kubernetes "StatefulSet" (scaling removes pods in reverse ordinal order); Zalando postgres-operator.
 */
import type { Postgresql } from '../../model/postgresql';
import { podOrdinal, type Refusal, type StatefulSetChange } from '../../plan/statefulset';
import { listPods } from '../pods/flags';
import type { SyncContext } from '../context';

/**
 * Reads the pods (one LIST) when the plan scales down.
 * @returns the replicas to keep and why, or undefined when the scale-down may proceed
 */
export async function scaleDownHold(ctx: SyncContext, cluster: Postgresql, change: StatefulSetChange,
  selector: Record<string, string>): Promise<{ keep: number; refusal: Refusal } | undefined> {
  if (!change.scaleDown) return undefined;
  const { from, to } = change.scaleDown;
  const pods = await listPods(ctx, cluster.metadata.namespace!, selector);
  const master = pods.find((p) => p.metadata?.labels?.[ctx.config.pod_role_label] === 'master' && !p.metadata?.deletionTimestamp);
  const ordinal = master ? podOrdinal(cluster.metadata.name, master.metadata!.name) : undefined;
  if (ordinal === undefined || ordinal < to) return undefined;
  return {
    keep: from,
    refusal: {
      reason: 'SwitchoverNeeded',
      message: `scale-down from ${from} to ${to} instances waits: it would remove the master pod ${master!.metadata!.name} first; `
        + 'a switchover to a pod with a lower ordinal is needed first',
    },
  };
}
