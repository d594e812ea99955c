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

/**
 * Where a group of rules applies:
 * - `operator`: the namespace of the operator ConfigMap (the config and the password key Secret live there);
 * - `namespace`: every watched namespace (the clusters' objects), or the whole cluster when all are watched;
 * - `cluster`: cluster-scoped resources (Nodes), always through a ClusterRole.
 */
export type RuleScope = 'operator' | 'namespace' | 'cluster';

/** A named group of rules. */
export interface RuleGroup {
  name: string;
  scope: RuleScope;
  rules: PolicyRule[];
}

/**
 * Recording an Event: created, and when the same Event is recorded again its count is raised (a GET, then a JSON
 * patch: lib/k8s/events.ts), as client-go's EventRecorder does.
 */
const EVENT_VERBS = ['create', 'get', 'patch'];

/** Name of the ClusterRole the database pods' ServiceAccount is bound to (Zalando's default `postgres-pod`). */
export const POD_CLUSTER_ROLE = 'postgres-pod';

/** Name of the password key Secret in the operator namespace (lib/sync/operator/passwords.ts). */
export const PASSWORD_KEY_SECRET = 'postgres-operator-password-key';

/** Read the operator ConfigMap and the password key Secret (created on first use). Every function loads both. */
export const READ_OPERATOR_CONFIG: RuleGroup = {
  name: 'read-operator-config',
  scope: 'operator',
  rules: [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    // The password key Secret (lib/sync/operator/passwords.ts): read by name; `create` cannot be limited to a name.
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [PASSWORD_KEY_SECRET] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  ],
};

/**
 * The operator API (lib/api/read.ts): the operator ConfigMap only, read as the functions read it. Not the password
 * key Secret: the API makes no password (a plan shows a new Secret without its value).
 */
export const READ_OPERATOR_CONFIG_ONLY: RuleGroup = {
  name: 'read-operator-config-only',
  scope: 'operator',
  rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
};

/**
 * The operator API: what it reads to answer (lib/api): the `postgresql` objects, each cluster's children as a sync
 * observes them (`observeChildren`: a LIST per owned kind, the StatefulSet, the pod ServiceAccount and RoleBinding by
 * name; `observeCluster`: the users' Secrets by name), the pods (metrics, a plan's scale-down check) and the
 * cluster's Events (its log). Secrets are read because a plan compares them as the sync does; no answer carries
 * their data. No write verb.
 */
export const READ_CLUSTERS: RuleGroup = {
  name: 'read-clusters',
  scope: 'namespace',
  rules: [
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get', 'list'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list'] },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
    { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['list'] },
    { apiGroups: [''], resources: ['services', 'endpoints', 'pods', 'events'], verbs: ['list'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get'] },
  ],
};

/**
 * The operator API: who is calling (TokenReview) and may they read this (SubjectAccessReview), as kube-rbac-proxy
 * asks (lib/api/access.ts). Both are cluster-scoped `create` requests that change nothing.
 */
export const REVIEW_ACCESS: RuleGroup = {
  name: 'review-access',
  scope: 'cluster',
  rules: [
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  ],
};

/** `syncCluster`: read the manifest, converge its children, write status, record Events, add the finalizer. */
export const SYNC_CLUSTER: RuleGroup = {
  name: 'sync-cluster',
  scope: 'namespace',
  rules: [
    // No `watch`: the functions never watch, the event bridge and the sources do (WATCH_POSTGRESQLS).
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get', 'list', 'patch'] },
    // Status is written (a merge patch of the subresource), never read through it: the object carries it.
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls/status'], verbs: ['patch'] },
    // The role step reads PostgresTeam objects (enable_postgres_team_crd).
    { apiGroups: ['acid.zalan.do'], resources: ['postgresteams'], verbs: ['list'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'create', 'patch'] },
    { apiGroups: [''], resources: ['services', 'endpoints', 'secrets'], verbs: ['get', 'list', 'create', 'patch'] },
    // The connection pooler: its Deployments, and its Deployment, Service and Secret removed when it is turned off.
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['services', 'secrets'], verbs: ['delete'] },
    // The logical backup CronJob: created, updated in place, deleted when turned off.
    { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'create', 'patch'] },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'create'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get', 'create'] },
    // Creating a RoleBinding to the pod ClusterRole needs `bind` on it (RBAC escalation prevention).
    {
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['clusterroles'],
      verbs: ['bind'],
      resourceNames: [POD_CLUSTER_ROLE],
    },
    { apiGroups: [''], resources: ['events'], verbs: EVENT_VERBS },
    // StatefulSet updates: orphaning re-create, rolling-update flags and pod annotations, volume growth; the rolling
    // update recreates flagged pods (lib/sync/rolling-update.ts).
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['delete'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['list', 'patch'] },
    // The in-place major version upgrade runs Spilo's script in the master pod (lib/sync/upgrade/step.ts): an exec
    // over a WebSocket is a GET, authorized as `create` since Kubernetes 1.31 and as `get` before.
    { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
    // The per-cluster Lease around writes (lib/sync/lease.ts).
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'patch'] },
    // Fleet sync: shared objects listed by name.
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['list'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['list'] },
  ],
};

/**
 * Fleet sync's cursor: the ConfigMap `postgres-operator-fleet-sync` in the operator namespace, written with
 * server-side apply when a run stops early and deleted when a run finishes (lib/sync/fleet-cursor.ts). `create`
 * cannot be limited to a name in RBAC; the other verbs are.
 */
export const FLEET_CURSOR: RuleGroup = {
  name: 'fleet-cursor',
  scope: 'operator',
  rules: [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    {
      apiGroups: [''],
      resources: ['configmaps'],
      verbs: ['get', 'patch', 'delete'],
      resourceNames: ['postgres-operator-fleet-sync'],
    },
  ],
};

/**
 * Rolling updates: the fleet-wide rollout slots (Leases `postgres-operator-rollout-<n>` in the operator namespace)
 * that bound how many clusters restart pods at once (lib/sync/rollout-slots.ts).
 */
export const ROLLOUT_SLOTS: RuleGroup = {
  name: 'rollout-slots',
  scope: 'operator',
  rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'create', 'patch'] }],
};

/**
 * `onOperatorConfigChange`: record the last applied configuration as an annotation on the operator ConfigMap.
 * Not limited by resourceNames: the ConfigMap's name is the deployment's `CONFIG_MAP_NAME`, not a constant.
 */
export const RECORD_OPERATOR_CONFIG: RuleGroup = {
  name: 'record-operator-config',
  scope: 'operator',
  rules: [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['patch'] },
    // Events about the ConfigMap (changed, invalid: looked up first, so one invalid content is reported once).
    { apiGroups: [''], resources: ['events'], verbs: EVENT_VERBS },
  ],
};

/**
 * `onNodeDrain`: move a master off a node going away, under the cluster's Lease: recreate a candidate pod that sits
 * on such a node, ask Patroni for the switchover, record Events.
 */
export const MOVE_MASTER: RuleGroup = {
  name: 'move-master',
  scope: 'namespace',
  rules: [
    // The cluster's pods listed by label, a candidate deleted with a uid precondition (lib/sync/drain/move-master.ts).
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] },
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'patch'] },
    { apiGroups: [''], resources: ['events'], verbs: EVENT_VERBS },
  ],
};

/** `finalizeCluster`: delete what garbage collection does not, then remove the finalizer. */
export const FINALIZE_CLUSTER: RuleGroup = {
  name: 'finalize-cluster',
  scope: 'namespace',
  rules: [
    // Read the object, remove the finalizer (JSON patch); the delete guard's message goes to status.
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get', 'patch'] },
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls/status'], verbs: ['patch'] },
    // The children listed by the cluster's labels and deleted; Patroni's objects (`-leader`, `-config`, ...), which
    // may lack the labels, read by name too.
    { apiGroups: ['apps'], resources: ['statefulsets', 'deployments'], verbs: ['list', 'delete'] },
    { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['list', 'delete'] },
    { apiGroups: [''], resources: ['secrets', 'pods', 'persistentvolumeclaims'], verbs: ['list', 'delete'] },
    { apiGroups: [''], resources: ['services', 'endpoints', 'configmaps'], verbs: ['get', 'list', 'delete'] },
    // Secrets and PVCs that outlive the cluster lose their owner reference to it (a JSON patch).
    { apiGroups: [''], resources: ['secrets', 'persistentvolumeclaims'], verbs: ['patch'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list', 'delete'] },
    { apiGroups: [''], resources: ['events'], verbs: EVENT_VERBS },
  ],
};

/** `onNodeDrain`: find the master pods on a node and record an Event on their cluster. */
export const FIND_MASTER_PODS: RuleGroup = {
  name: 'find-master-pods',
  scope: 'namespace',
  rules: [
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get'] },
    { apiGroups: [''], resources: ['events'], verbs: EVENT_VERBS },
  ],
};

/**
 * Syncs and `onNodeDrain`: get a Node by name (lib/sync/pods/nodes.ts), to tell whether it is going away (a
 * switchover candidate must not sit on one; a master on one is moved). Nodes are never listed by a function.
 */
export const GET_NODES: RuleGroup = {
  name: 'get-nodes',
  scope: 'cluster',
  rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }],
};

/** The event bridge and Knative ApiServerSources: watch `postgresql` objects in the watched namespaces. */
export const WATCH_POSTGRESQLS: RuleGroup = {
  name: 'watch-postgresqls',
  scope: 'namespace',
  rules: [{ apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['get', 'list', 'watch'] }],
};

/**
 * The event bridge and the knative target's PostgresTeam source: watch PostgresTeam objects in the watched
 * namespaces, whose changes re-sync the roles of the clusters of the teams they name.
 */
export const WATCH_POSTGRES_TEAMS: RuleGroup = {
  name: 'watch-postgres-teams',
  scope: 'namespace',
  rules: [{ apiGroups: ['acid.zalan.do'], resources: ['postgresteams'], verbs: ['get', 'list', 'watch'] }],
};

/**
 * The event bridge: watch StatefulSets in the watched namespaces, to deliver a readiness change of a cluster's
 * pods to `on-update` (`lib/bridge/routing.ts`).
 */
export const WATCH_STATEFULSETS: RuleGroup = {
  name: 'watch-statefulsets',
  scope: 'namespace',
  rules: [{ apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'watch'] }],
};

/**
 * The event bridge and Knative ApiServerSources: watch the operator ConfigMap. Not narrowed by `resourceNames`:
 * an ApiServerSource can only select by label, so it lists every ConfigMap of that namespace.
 */
export const WATCH_OPERATOR_CONFIG: RuleGroup = {
  name: 'watch-operator-config',
  scope: 'operator',
  rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
};

/** The event bridge and Knative ApiServerSources: watch Nodes (cluster-scoped). */
export const WATCH_NODES: RuleGroup = {
  name: 'watch-nodes',
  scope: 'cluster',
  rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
};

/** Everything the event bridge reads: it only watches, and writes nothing to the API. */
export const BRIDGE_PERMISSIONS: readonly RuleGroup[] = [
  WATCH_POSTGRESQLS,
  WATCH_STATEFULSETS,
  WATCH_POSTGRES_TEAMS,
  WATCH_OPERATOR_CONFIG,
  WATCH_NODES,
];

/**
 * What Patroni inside the Spilo pods needs, granted by the ClusterRole `postgres-pod` that the operator binds to
 * the pods' ServiceAccount (`pod_service_account_name`) with a RoleBinding in each cluster's namespace. Patroni
 * keeps its leader lock, config and failover state in Endpoints (the default) or in ConfigMaps
 * (`kubernetes_use_configmaps`), labels its own pod with its role, and in Endpoints mode creates the
 * `<cluster>-config` Service; `patronictl remove` deletes the state by collection.
 *
 * Source: Patroni docs "Kubernetes" (use_endpoints, labels, role_label); Zalando postgres-operator docs,
 * "Role-based access control for the operator" (the pod ServiceAccount and its ClusterRole).
 */
export const POSTGRES_POD: RuleGroup = {
  name: POD_CLUSTER_ROLE,
  scope: 'cluster',
  rules: [
    {
      apiGroups: [''],
      resources: ['configmaps', 'endpoints'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
    { apiGroups: [''], resources: ['services'], verbs: ['create'] },
  ],
};

/**
 * @param scope one scope, or several whose rules end up in the same Role (e.g. the operator namespace when it is
 *   also watched, or one ClusterRole when every namespace is watched)
 * @returns the rules of the groups of that scope merged, each (apiGroups, resources, resourceNames) key once
 * with the union of its verbs, sorted for stable output
 */
export function mergeRules(groups: readonly RuleGroup[], scope: RuleScope | readonly RuleScope[]): PolicyRule[] {
  const scopes: readonly RuleScope[] = typeof scope === 'string' ? [scope] : scope;
  const merged = new Map<string, PolicyRule>();
  for (const group of groups.filter((g) => scopes.includes(g.scope))) {
    for (const rule of group.rules) {
      for (const resource of rule.resources) {
        const key = JSON.stringify([rule.apiGroups, resource, rule.resourceNames ?? []]);
        const existing = merged.get(key);
        const verbs = new Set([...(existing?.verbs ?? []), ...rule.verbs]);
        merged.set(key, {
          apiGroups: rule.apiGroups,
          resources: [resource],
          verbs: [...verbs].sort(),
          ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}),
        });
      }
    }
  }
  return [...merged.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, rule]) => rule);
}
