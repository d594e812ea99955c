/**
 * The API paths of the kinds the operator touches. A fixed table instead of discovery: the set is small and
 * known, and it saves a discovery request per invocation.
 *
 * Source: Kubernetes API reference (core/v1, apps/v1, batch/v1, policy/v1, rbac.authorization.k8s.io/v1,
 * coordination.k8s.io/v1, events); acid.zalan.do/v1 from the generated CRD.
 */

/** Where a kind lives in the API. */
export interface Resource {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const table: Resource[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { apiVersion: 'v1', kind: 'Endpoints', plural: 'endpoints', namespaced: true },
  { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { apiVersion: 'batch/v1', kind: 'CronJob', plural: 'cronjobs', namespaced: true },
  { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
  { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true },
  { apiVersion: 'acid.zalan.do/v1', kind: 'postgresql', plural: 'postgresqls', namespaced: true },
  { apiVersion: 'acid.zalan.do/v1', kind: 'PostgresTeam', plural: 'postgresteams', namespaced: true },
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
];

const byKind = new Map(table.map((r) => [r.kind, r]));

/** @returns the resource of a kind; throws for a kind the operator does not know (a programming error) */
export function resourceFor(kind: string): Resource {
  const resource = byKind.get(kind);
  if (!resource) throw new Error(`unknown kind ${kind}`);
  return resource;
}

/**
 * @returns the collection path (`/api/v1/namespaces/ns/secrets`) or, with a name, the object path
 */
export function resourcePath(kind: string, namespace?: string, name?: string): string {
  const r = resourceFor(kind);
  const prefix = r.apiVersion.includes('/') ? `/apis/${r.apiVersion}` : `/api/${r.apiVersion}`;
  const scope = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix}${scope}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}
