/**
 * Labels of a cluster's objects, Zalando style: `cluster_labels` plus `<cluster_name_label>: <cluster>` select the
 * cluster's objects; objects also carry `team: <teamId>` and the `inherited_labels` copied from the manifest.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (cluster_labels, cluster_name_label,
 * pod_role_label, inherited_labels, inherited_annotations).
 */
import type { OperatorConfig } from '../model/config';
import { POOLER_APPLICATION } from '../model/pooler';
import type { Postgresql } from '../model/postgresql';

export type Labels = Record<string, string>;

/** Labels that select the cluster's pods and objects (StatefulSet selector, pod and PVC lists). */
export function selectorLabels(cluster: Postgresql, config: OperatorConfig): Labels {
  return { ...config.cluster_labels, [config.cluster_name_label]: cluster.metadata.name };
}

/** Labels put on the cluster's objects: the selector labels, `team`, and the inherited labels of the manifest. */
export function objectLabels(cluster: Postgresql, config: OperatorConfig): Labels {
  const inherited: Labels = {};
  for (const key of config.inherited_labels) {
    const value = cluster.metadata.labels?.[key];
    if (value !== undefined) inherited[key] = value;
  }
  return { ...inherited, ...selectorLabels(cluster, config), team: cluster.spec.teamId };
}

/** Labels of an object that belongs to one Patroni role (`master` or `replica`). */
export function roleLabels(cluster: Postgresql, config: OperatorConfig, role: 'master' | 'replica'): Labels {
  return { ...objectLabels(cluster, config), [config.pod_role_label]: role };
}

/** Annotations copied from the manifest to every child (`inherited_annotations`); undefined when there are none. */
export function inheritedAnnotations(cluster: Postgresql, config: OperatorConfig): Labels | undefined {
  const out: Labels = {};
  for (const key of config.inherited_annotations) {
    const value = cluster.metadata.annotations?.[key];
    if (value !== undefined) out[key] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The annotations Zalando v1.15.1 puts on a cluster's StatefulSet and connection pooler Deployments
 * (AnnotationsToPropagate over annotationsSet, pkg/cluster/sync.go and util.go): the inherited ones, then every
 * annotation of the `postgresql` object whose key matches a pattern of `downscaler_annotations` (Go regexps,
 * unanchored: a match anywhere in the key), so a downscaler that reads them on the workloads scales both. They go on
 * the workload only, not its pod template, so no pod restarts for them. Undefined when there are none.
 * Source: https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md (downscaler_annotations).
 */
export function propagatedAnnotations(cluster: Postgresql, config: OperatorConfig): Labels | undefined {
  const out: Labels = { ...inheritedAnnotations(cluster, config) };
  const patterns = config.downscaler_annotations.map((pattern) => new RegExp(pattern));
  for (const [key, value] of Object.entries(cluster.metadata.annotations ?? {}))
    if (patterns.some((pattern) => pattern.test(key))) out[key] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * @returns a label selector string (`a=b,c=d`) for equality labels, as LIST requests take it
 * Source: Kubernetes "Labels and Selectors" (equality-based requirements).
 */
export const labelSelector = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * The label selector of every child of a cluster, pooler objects included: `cluster_labels` with an `application`
 * label widened to `application in (<value>,db-connection-pooler)` (the pooler objects carry that value instead),
 * plus `<cluster_name_label>=<cluster>`, `<cluster_name_label> in (<clusters>)` for several (a LIST of a page of
 * clusters), or only the presence of that label when `cluster` is not given (a LIST of every cluster at once).
 * Source: Kubernetes "Labels and Selectors" (equality- and set-based requirements).
 */
export function childrenSelector(
  config: Pick<OperatorConfig, 'cluster_labels' | 'cluster_name_label'>,
  cluster?: string | readonly string[],
): string {
  const parts = Object.entries(config.cluster_labels).map(([key, value]) =>
    key === 'application' && value !== POOLER_APPLICATION
      ? `${key} in (${value},${POOLER_APPLICATION})`
      : `${key}=${value}`,
  );
  const label = config.cluster_name_label;
  if (cluster === undefined) parts.push(label);
  else parts.push(typeof cluster === 'string' ? `${label}=${cluster}` : `${label} in (${cluster.join(',')})`);
  return parts.join(',');
}
