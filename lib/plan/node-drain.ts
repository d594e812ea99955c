/**
 * Whether a Node is going away, so the master pods on it should move (Zalando's node drain, `nodeIsReady` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/controller/node.go, extended with the taints
 * cluster autoscalers and Karpenter put on nodes they are about to remove).
 *
 * Source: Kubernetes Node spec.unschedulable and taints (`node.kubernetes.io/unschedulable`); Cluster Autoscaler
 * taint `ToBeDeletedByClusterAutoscaler`; Karpenter taint `karpenter.sh/disrupted`; Zalando operator parameter
 * `node_readiness_label`.
 */

/** The Node fields read here. */
export interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: Array<{ key: string; effect?: string }> };
}

/** The taint kube-controller-manager puts on a cordoned node (and some tools put on nodes they drain). */
export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

/** Taints that mean the node is being drained or removed. */
export const DRAIN_TAINTS = [UNSCHEDULABLE_TAINT, 'ToBeDeletedByClusterAutoscaler', 'karpenter.sh/disrupted'] as const;

/**
 * @param readinessLabels the operator's `node_readiness_label` map: a node lacking any of them is not ready for
 *   Postgres pods
 * @returns why the node is going away, one entry per reason (`unschedulable`, `taint <key>`,
 *   `missing label <key>=<value>`; the unschedulable taint only when `spec.unschedulable` is not set); empty when
 *   it is not
 */
export function goingAwayReasons(node: NodeLike, readinessLabels: Readonly<Record<string, string>>): string[] {
  const reasons: string[] = [];
  if (node.spec?.unschedulable) reasons.push('unschedulable');
  for (const taint of node.spec?.taints ?? []) {
    if (!(DRAIN_TAINTS as readonly string[]).includes(taint.key)) continue;
    // The node lifecycle controller mirrors a cordon as this taint: one reason, not two.
    if (taint.key === UNSCHEDULABLE_TAINT && node.spec?.unschedulable) continue;
    reasons.push(`taint ${taint.key}`);
  }
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(readinessLabels))
    if (labels[key] !== value) reasons.push(`missing label ${key}=${value}`);
  return reasons;
}

/** @returns why the node is going away as one sentence, or undefined when it is not */
export function nodeGoingAway(node: NodeLike, readinessLabels: Readonly<Record<string, string>>): string | undefined {
  const reasons = goingAwayReasons(node, readinessLabels);
  return reasons.length > 0 ? `the node is going away: ${reasons.join(', ')}` : undefined;
}
