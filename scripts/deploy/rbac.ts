/**
 * RBAC objects from the rule groups of `functions/rbac.ts`: a ServiceAccount per function (and for the bridge and
 * each Knative event source) with Roles where its groups are namespace-scoped and a ClusterRole where they are
 * cluster-scoped, each holding only the verbs of its groups.
 *
 * Source: Kubernetes "Using RBAC Authorization" (Role, ClusterRole, RoleBinding, ClusterRoleBinding; a
 * RoleBinding grants only in its namespace, a ClusterRoleBinding everywhere and for cluster-scoped resources).
 */
import {
  BRIDGE_PERMISSIONS,
  mergeRules,
  POSTGRES_POD,
  type PolicyRule,
  type RuleGroup,
  type RuleScope,
} from '../../lib/registry/rbac';
import { FUNCTIONS, type FunctionSpec } from '../../lib/registry/functions';
import { BRIDGE_NAME, labels, OPERATOR_NAME, rbacName, type DesiredObject } from './meta';

const RBAC_API = 'rbac.authorization.k8s.io/v1';

/** Where an account's permissions apply. */
export interface RbacScope {
  /** namespace of the ServiceAccount (the operator namespace) */
  namespace: string;
  /** namespace of the operator ConfigMap and password key (`operator` scope); default `namespace` */
  configNamespace?: string;
  /** namespaces of the clusters (`namespace` scope), or `*` for all, which turns those rules into a ClusterRole */
  watchedNamespaces: string[] | '*';
}

/**
 * @returns for each namespace that gets a Role, the rule scopes merged into it, namespaces sorted
 */
function roleNamespaces(groups: readonly RuleGroup[], scope: RbacScope): Array<[string, RuleScope[]]> {
  const byNamespace = new Map<string, RuleScope[]>();
  const add = (namespace: string, ruleScope: RuleScope) =>
    byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), ruleScope]);
  if (groups.some((g) => g.scope === 'operator')) add(scope.configNamespace ?? scope.namespace, 'operator');
  if (scope.watchedNamespaces !== '*' && groups.some((g) => g.scope === 'namespace')) {
    for (const namespace of scope.watchedNamespaces) add(namespace, 'namespace');
  }
  return [...byNamespace.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function role(
  kind: 'Role' | 'ClusterRole',
  name: string,
  namespace: string | undefined,
  component: string,
  rules: PolicyRule[],
): DesiredObject {
  return {
    apiVersion: RBAC_API,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}), labels: labels(component) },
    rules,
  };
}

function binding(
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  name: string,
  namespace: string | undefined,
  component: string,
  account: { name: string; namespace: string },
): DesiredObject {
  return {
    apiVersion: RBAC_API,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}), labels: labels(component) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }],
  };
}

/**
 * The ServiceAccount `account` in `scope.namespace` and what grants it the rules of `groups`:
 * - `operator` groups: a Role and RoleBinding in the ConfigMap's namespace;
 * - `namespace` groups: a Role and RoleBinding in each watched namespace, or a ClusterRole when all are watched;
 * - `cluster` groups: a ClusterRole and ClusterRoleBinding.
 * Rules landing in the same Role are merged (see `mergeRules`). Objects come in a fixed order.
 * @param component the app.kubernetes.io/component label
 */
export function rbacForAccount(
  account: string,
  component: string,
  groups: readonly RuleGroup[],
  scope: RbacScope,
): DesiredObject[] {
  const subject = { name: account, namespace: scope.namespace };
  const name = rbacName(scope.namespace, account);
  const objects: DesiredObject[] = [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: account, namespace: scope.namespace, labels: labels(component) },
    },
  ];
  for (const [namespace, scopes] of roleNamespaces(groups, scope)) {
    const rules = mergeRules(groups, scopes);
    if (rules.length === 0) continue;
    objects.push(
      role('Role', name, namespace, component, rules),
      binding('RoleBinding', name, namespace, component, subject),
    );
  }
  const clusterScopes: RuleScope[] = scope.watchedNamespaces === '*' ? ['namespace', 'cluster'] : ['cluster'];
  const clusterRules = mergeRules(groups, clusterScopes);
  if (clusterRules.length > 0) {
    objects.push(
      role('ClusterRole', name, undefined, component, clusterRules),
      binding('ClusterRoleBinding', name, undefined, component, subject),
    );
  }
  return objects;
}

/**
 * The RBAC objects of one function: its ServiceAccount (named like the function) and its Roles/ClusterRole with
 * exactly the verbs of its rule groups. The end-to-end tests apply these and run the function under the
 * ServiceAccount's token.
 */
export function rbacFor(spec: FunctionSpec, scope: RbacScope): DesiredObject[] {
  return rbacForAccount(spec.name, spec.name, spec.permissions, scope);
}

/** The event bridge's ServiceAccount `postgres-operator-bridge`: get, list and watch only. */
export function bridgeRbac(scope: RbacScope): DesiredObject[] {
  return rbacForAccount(BRIDGE_NAME, 'bridge', BRIDGE_PERMISSIONS, scope);
}

/**
 * The ServiceAccount `postgres-operator-functions` of the single-process layout: the union of every function's rule
 * groups and the bridge's, since one process runs them all.
 */
export function operatorRbac(scope: RbacScope): DesiredObject[] {
  const groups = [...new Set([...FUNCTIONS.flatMap((f) => f.permissions), ...BRIDGE_PERMISSIONS])];
  return rbacForAccount(OPERATOR_NAME, 'operator', groups, scope);
}

/**
 * The ClusterRole `postgres-pod` the operator binds the database pods' ServiceAccount to (one RoleBinding per
 * cluster namespace, made by `syncCluster`), with what Patroni needs (see POSTGRES_POD).
 */
export function postgresPodClusterRole(): DesiredObject {
  return role('ClusterRole', POSTGRES_POD.name, undefined, 'postgres-pod', mergeRules([POSTGRES_POD], 'cluster'));
}
