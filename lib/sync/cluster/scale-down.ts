/**
 * Reads the pods for the scale-down hold (`lib/plan/scale-down.ts`): a scale-down that would remove the master
 * pod waits for a switchover to a lower ordinal.
 *
 * Source: Kubernetes "StatefulSet" (scaling removes pods in reverse ordinal order); Zalando postgres-operator.
 */
import type { Postgresql } from '../../model/postgresql';
import { holdScaleDown, type PodRole, type ScaleDownHold } from '../../plan/scale-down';
import type { StatefulSetChange } from '../../plan/statefulset';
import { listPods } from '../pods/flags';
import type { SyncContext } from '../context';

/**
 * Reads the pods (one LIST) only when the plan scales down.
 * @param selector the StatefulSet's pod selector labels
 * @returns the replicas to keep and why, or undefined when the scale-down may proceed (or there is none)
 */
export async function scaleDownHold(
  ctx: SyncContext,
  cluster: Postgresql,
  change: StatefulSetChange,
  selector: Record<string, string>,
): Promise<ScaleDownHold | undefined> {
  if (!change.scaleDown) return undefined;
  const pods = await listPods(ctx, cluster.metadata.namespace ?? 'default', selector);
  const roles: PodRole[] = pods.map((pod) => ({
    name: pod.metadata?.name ?? '',
    role: pod.metadata?.labels?.[ctx.config.pod_role_label],
    deleting: Boolean(pod.metadata?.deletionTimestamp),
  }));
  return holdScaleDown(cluster.metadata.name, change.scaleDown, roles);
}
