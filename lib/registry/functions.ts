/**
 * The one registry of the operator's functions. Every deployment target (`scripts/deploy`: local, plain, knative,
 * kubeless), the bundler (`scripts/build`) and the event bridge (`lib/bridge`) read it, so a function's name,
 * export, trigger and permissions are written once.
 *
 * Sources: Kubeless Function `handler` is `<module>.<export>` (runtime research §1.1); Knative ApiServerSource
 * event types `dev.knative.apiserver.resource.{add,update,delete}` (research §3.2).
 */
import {
  FIND_MASTER_PODS,
  FINALIZE_CLUSTER,
  FLEET_CURSOR,
  GET_NODES,
  MOVE_MASTER,
  READ_CLUSTERS,
  READ_OPERATOR_CONFIG,
  READ_OPERATOR_CONFIG_ONLY,
  RECORD_OPERATOR_CONFIG,
  REVIEW_ACCESS,
  ROLLOUT_SLOTS,
  SYNC_CLUSTER,
  type RuleGroup,
} from './rbac';

/** The actions a resource trigger reacts to, as in ApiServerSource event types. */
export type ResourceAction = 'add' | 'update' | 'delete';

/** What starts a function. */
export type Trigger =
  | { type: 'resource'; resource: 'postgresql' | 'operator-configmap' | 'node'; actions: ResourceAction[] }
  /** `schedule` is a 5-field cron expression (minute hour day month weekday), UTC */
  | { type: 'schedule'; schedule: string }
  /**
   * called over HTTP by people and tools (the operator API), never by events: the targets give it a Service, the
   * bridge sends it nothing. `paths` are the paths it answers, for docs and the generated objects.
   */
  | { type: 'http'; paths: string[] };

/** One function of the operator. */
export interface FunctionSpec {
  /** DNS-1123 name of the function's Deployment, Service, ServiceAccount and Kubeless Function */
  name: string;
  /** the export of the bundle that handles the event (Kubeless `FUNC_HANDLER`); the bundler builds it from the handler folder of that name */
  export:
    'onCreate' | 'onUpdate' | 'onDelete' | 'onOperatorConfigChange' | 'onNodeDrain' | 'periodicSync' | 'operatorApi';
  trigger: Trigger;
  /** the permission groups of the logic it runs (see `rbac.ts`) */
  permissions: RuleGroup[];
  /** what it does, one line (used in generated manifests and docs) */
  description: string;
}

/** The module name of every bundle: Kubeless loads `/kubeless/<MOD_NAME>.js`, so the file is `handler.js`. */
export const BUNDLE_MODULE = 'handler';

/**
 * Default schedule of `periodicSync`: every 5 minutes, Zalando's default `repair_period` (its full
 * `resync_period` is 30 minutes; syncing only what drifted is cheap enough to do at the repair rate).
 */
export const DEFAULT_SYNC_SCHEDULE = '*/5 * * * *';

// Syncs read Nodes (a switchover candidate must not sit on a node going away) and take rollout slots; a sync that
// finds the object being deleted finalizes it (an add or update of an object with deletionTimestamp), so the
// functions that sync also hold the cleanup's deletes.
const clusterLogic = [READ_OPERATOR_CONFIG, SYNC_CLUSTER, FINALIZE_CLUSTER, GET_NODES, ROLLOUT_SLOTS];
/** Fleet sync: cluster logic plus its cursor. */
const fleetLogic = [...clusterLogic, FLEET_CURSOR];

/** Paths of the operator API (lib/api/routes.ts), Zalando's and this project's. */
export const OPERATOR_API_PATHS = [
  '/clusters/',
  '/clusters/{team}/',
  '/clusters/{namespace}/{cluster}/',
  '/clusters/{team}/{namespace}/{cluster}/',
  '/clusters/{namespace}/{cluster}/logs/',
  '/databases/',
  '/status/',
  '/config/',
  '/readyz/',
  '/workers/all/status',
  '/workers/all/queue',
  '/workers/{id}/status',
  '/workers/{id}/queue',
  '/workers/{id}/logs',
  '/metrics',
  '/plan',
];

/** The seven functions: six started by events or a schedule, and the HTTP API. */
export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: 'on-create',
    export: 'onCreate',
    trigger: { type: 'resource', resource: 'postgresql', actions: ['add'] },
    permissions: clusterLogic,
    description: 'a postgresql object was added: add the finalizer and sync the cluster',
  },
  {
    name: 'on-update',
    export: 'onUpdate',
    trigger: { type: 'resource', resource: 'postgresql', actions: ['update'] },
    permissions: clusterLogic,
    description: 'a postgresql object changed: sync it, or finalize it once it is being deleted',
  },
  {
    name: 'on-delete',
    export: 'onDelete',
    trigger: { type: 'resource', resource: 'postgresql', actions: ['delete'] },
    // Only the cleanup (finalizeCluster): no sync, so it cannot create or update a cluster's objects.
    permissions: [READ_OPERATOR_CONFIG, FINALIZE_CLUSTER],
    description: 'a postgresql object is being deleted: clean up its children and remove the finalizer',
  },
  {
    name: 'on-operator-config-change',
    export: 'onOperatorConfigChange',
    trigger: { type: 'resource', resource: 'operator-configmap', actions: ['add', 'update'] },
    permissions: [...fleetLogic, RECORD_OPERATOR_CONFIG],
    description: 'the operator ConfigMap changed: validate it and re-sync every cluster under the new config',
  },
  {
    name: 'on-node-drain',
    export: 'onNodeDrain',
    trigger: { type: 'resource', resource: 'node', actions: ['add', 'update'] },
    permissions: [READ_OPERATOR_CONFIG, GET_NODES, FIND_MASTER_PODS, MOVE_MASTER],
    description: 'a Node changed: when it is going away, switch the master pods on it over to replicas on ready nodes',
  },
  {
    name: 'periodic-sync',
    export: 'periodicSync',
    trigger: { type: 'schedule', schedule: DEFAULT_SYNC_SCHEDULE },
    permissions: fleetLogic,
    description: 'on a schedule: sync every cluster in the watched namespaces (repairs anything missed)',
  },
  {
    name: 'operator-api',
    export: 'operatorApi',
    trigger: { type: 'http', paths: OPERATOR_API_PATHS },
    // Reads only, plus the reviews that let Kubernetes RBAC decide what each caller sees.
    permissions: [READ_OPERATOR_CONFIG_ONLY, READ_CLUSTERS, REVIEW_ACCESS],
    description:
      "Zalando's read API, per-cluster metrics and plan preview over HTTP: reads only, each caller authorized by RBAC",
  },
];

/** @returns the function with that name or export; throws for an unknown one */
export function functionSpec(nameOrExport: string): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.name === nameOrExport || f.export === nameOrExport);
  if (!spec) throw new Error(`unknown function ${nameOrExport}; known: ${FUNCTIONS.map((f) => f.name).join(', ')}`);
  return spec;
}
