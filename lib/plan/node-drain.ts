/**
 * Whether a Node is going away, so the master pods on it should move (Zalando's node drain, research/zalando.md
 * §4.9, extended with the taints cluster autoscalers and Karpenter put on nodes they are about to remove).
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

/** Taints that mean the node is being drained or removed. */
export const DRAIN_TAINTS = ['node.kubernetes.io/unschedulable', 'ToBeDeletedByClusterAutoscaler', 'karpenter.sh/disrupted'] as const;

/**
 * @param readinessLabels the operator's `node_readiness_label` map: a node lacking any of them is not ready for
 *   Postgres pods
 * @returns why the node is going away, or undefined when it is not
 */
export function nodeGoingAway(node: NodeLike, readinessLabels: Record<string, string>): string | undefined {
  if (node.spec?.unschedulable) return 'the node is cordoned (spec.unschedulable)';
  const taint = node.spec?.taints?.find((t) => (DRAIN_TAINTS as readonly string[]).includes(t.key));
  if (taint) return `the node carries the drain taint ${taint.key}`;
  const labels = node.metadata?.labels ?? {};
  const missing = Object.entries(readinessLabels).filter(([key, value]) => labels[key] !== value);
  if (missing.length > 0) return `the node lacks the readiness label ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`;
  return undefined;
}
