/**
 * The Kubernetes API permissions each piece of operator logic needs, as RBAC PolicyRules. A function's rules are
 * the union of the groups for the logic it runs (see `registry.ts`), so every function gets only the verbs it
 * uses. When code in lib/sync starts making a new kind of request, add it to the group of that logic here; the
 * end-to-end RBAC test runs each function under its own ServiceAccount and fails when a rule is missing.
 *
 * Source: Kubernetes "Using RBAC Authorization" (PolicyRule: apiGroups, resources, resourceNames, verbs).
 * Server-side apply is the `patch` verb, plus `create` when the object does not exist yet.
 */

/** One RBAC rule, as in rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Where a group of rules applies: the namespaces of the clusters, or the whole cluster (Nodes). */
export type RuleScope = 'namespace' | 'cluster';

/** A named group of rules. */
export interface RuleGroup {
  name: string;
  scope: RuleScope;
  rules: PolicyRule[];
}

/** Read the operator ConfigMap and the password key Secret (created on first use). */
export const READ_OPERATOR_CONFIG: RuleGroup = {
  name: 'read-operator-config',
  scope: 'namespace',
  rules: [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] },
  ],
};

/** `syncCluster`: read the manifest, converge its children, write status, record Events, add the finalizer. */
export const SYNC_CLUSTER: RuleGroup = {
  name: 'sync-cluster',
  scope: 'namespace',
  rules: [
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls/status'], verbs: ['get', 'patch'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'create', 'patch'] },
    { apiGroups: [''], resources: ['services', 'endpoints', 'secrets'], verbs: ['get', 'list', 'create', 'patch'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'create', 'patch'] },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'create'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get', 'create'] },
    // Creating a RoleBinding to the pod ClusterRole needs `bind` on it (RBAC escalation prevention).
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['postgres-pod'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ],
};

/** `finalizeCluster`: delete what garbage collection does not, then remove the finalizer. */
export const FINALIZE_CLUSTER: RuleGroup = {
  name: 'finalize-cluster',
  scope: 'namespace',
  rules: [
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get', 'list', 'patch'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'delete'] },
    { apiGroups: [''], resources: ['services', 'endpoints', 'configmaps', 'secrets', 'pods', 'persistentvolumeclaims'],
      verbs: ['get', 'list', 'delete'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'delete'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ],
};

/** `onNodeDrain`: read Nodes (cluster-scoped) to tell whether one is going away. */
export const READ_NODES: RuleGroup = {
  name: 'read-nodes',
  scope: 'cluster',
  rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }],
};

/** `onNodeDrain`: find the master pods on a node and record an Event on their cluster. */
export const FIND_MASTER_PODS: RuleGroup = {
  name: 'find-master-pods',
  scope: 'namespace',
  rules: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get', 'list'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ],
};

/**
 * @returns the rules of several groups merged per scope, each (apiGroups, resources, resourceNames) key once
 * with the union of its verbs, sorted for stable output
 */
export function mergeRules(groups: RuleGroup[], scope: RuleScope): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const group of groups.filter((g) => g.scope === scope)) {
    for (const rule of group.rules) {
      for (const resource of rule.resources) {
        const key = JSON.stringify([rule.apiGroups, resource, rule.resourceNames ?? []]);
        const existing = merged.get(key);
        const verbs = new Set([...(existing?.verbs ?? []), ...rule.verbs]);
        merged.set(key, { apiGroups: rule.apiGroups, resources: [resource], verbs: [...verbs].sort(),
          ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}) });
      }
    }
  }
  return [...merged.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, rule]) => rule);
}
