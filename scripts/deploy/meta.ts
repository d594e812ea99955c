/**
 * Names, labels and ordering shared by every generated object, so the targets agree on them and a user can find
 * (and delete) everything a deployment made with one label selector:
 * `app.kubernetes.io/part-of=postgres-operator-functions`.
 *
 * Source: Kubernetes "Recommended Labels" (app.kubernetes.io/*); "Object Names and IDs".
 */
import type { DesiredObject } from '../../lib/builders/object-meta';

export type { DesiredObject };

/** The application name in labels and object name prefixes. */
export const APP = 'postgres-operator-functions';
/** Field manager of `npm run deploy` (the functions use their own, `postgres-operator-functions`). */
export const DEPLOY_FIELD_MANAGER = 'postgres-operator-deploy';
/** Name of the event bridge's Deployment and ServiceAccount. */
export const BRIDGE_NAME = 'postgres-operator-bridge';
/**
 * Deployment and ServiceAccount of the single-process layout (every function and the bridge in one pod). Not
 * `postgres-operator`: that is Zalando's Deployment and ServiceAccount, which may live in the same namespace while
 * switching (docs/migration.md).
 */
export const OPERATOR_NAME = 'postgres-operator-functions';
/** Port every function host listens on (Kubeless `FUNC_PORT` default). */
export const FUNCTION_PORT = 8080;

/**
 * @param component the function name, `bridge`, `rbac`, ... (app.kubernetes.io/component)
 * @returns the labels of an object of that component
 */
export function labels(component: string): Record<string, string> {
  return {
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': DEPLOY_FIELD_MANAGER,
    'app.kubernetes.io/name': APP,
    'app.kubernetes.io/part-of': APP,
  };
}

/** @returns the labels selecting the pods of a component (a subset of `labels`, never changed later) */
export function selectorLabels(component: string): Record<string, string> {
  return { 'app.kubernetes.io/component': component, 'app.kubernetes.io/name': APP };
}

/**
 * Name of the Roles, ClusterRoles and their bindings of one ServiceAccount. It holds the operator namespace
 * because ClusterRoles are cluster-wide and a watched namespace may be shared by two installations.
 */
export function rbacName(operatorNamespace: string, account: string): string {
  return `${APP}:${operatorNamespace}:${account}`;
}

/**
 * Order of kinds in the output: what others refer to comes first (CRD, roles, accounts), the workloads next,
 * then the Broker, the event sources and the Triggers. `kubectl apply -f -` and `scripts/deploy` apply in this order.
 */
const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Service',
  'Deployment',
  'Function',
  'CronJob',
  'CronJobTrigger',
  'NetworkPolicy',
  'Broker',
  'PingSource',
  'ApiServerSource',
  'Trigger',
];

/** @returns the objects sorted by kind (see KIND_ORDER), then namespace and name; the input is not changed */
export function sortObjects(objects: readonly DesiredObject[]): DesiredObject[] {
  const rank = (o: DesiredObject) => {
    const index = KIND_ORDER.indexOf(o.kind);
    return index === -1 ? KIND_ORDER.length : index;
  };
  const key = (o: DesiredObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  return [...objects].sort((a, b) => rank(a) - rank(b) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
