/**
 * Target `knative`: Knative Eventing delivers the events. Each function runs as a Deployment and Service (port 80
 * to the host's 8080), each resource trigger is an `ApiServerSource` in Resource mode (the full object as a
 * CloudEvent, exactly the envelope the functions parse) with its own ServiceAccount allowed to get, list and watch
 * that resource, and the scheduled function gets a `PingSource`. No bridge and no CronJob.
 *
 * Only Knative Eventing's sources are used: a Knative Serving `Service` would also do, but this target must work
 * on a cluster that has Eventing alone.
 *
 * Sources: Knative Eventing sources.knative.dev/v1 ApiServerSource (resources, mode, serviceAccountName,
 * namespaceSelector: absent = the source's namespace, `{}` = all; the controller checks get/list/watch for the
 * account in every selected namespace) and PingSource (schedule, timezone, sink); knative/pkg resolver (a sink
 * `ref` to a core Service resolves to port 80); runtime research §3.2.
 */
import { WATCH_NODES, WATCH_OPERATOR_CONFIG, WATCH_POSTGRESQLS, type RuleGroup } from '../../lib/registry/rbac';
import type { FunctionSpec, Trigger } from '../../lib/registry/functions';
import { commonObjects, functionsByTrigger, rbacScope } from './common';
import { labels, type DesiredObject } from './meta';
import type { DeployOptions } from './options';
import { rbacForAccount } from './rbac';
import { functionDeployment, functionService } from './workloads';

const SOURCES_API = 'sources.knative.dev/v1';
/** The Service port a sink `ref` resolves to. */
export const KNATIVE_SINK_PORT = 80;

type ResourceTrigger = Extract<Trigger, { type: 'resource' }>;

/** What a resource trigger watches, and the rule group its source's ServiceAccount needs for it. */
interface WatchedResource {
  apiVersion: string;
  kind: string;
  permissions: RuleGroup;
  /** the namespaces to watch (undefined: cluster-scoped, or the source's own namespace) */
  namespaces(options: DeployOptions): string[] | '*' | undefined;
}

const WATCHED: Record<ResourceTrigger['resource'], WatchedResource> = {
  postgresql: {
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    permissions: WATCH_POSTGRESQLS,
    namespaces: (o) => o.watchedNamespaces,
  },
  // An ApiServerSource selects by label only: it sees every ConfigMap of the namespace, and the function keeps
  // the one named by CONFIG_MAP_NAME.
  'operator-configmap': {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    permissions: WATCH_OPERATOR_CONFIG,
    namespaces: (o) => [o.configMap.namespace],
  },
  node: { apiVersion: 'v1', kind: 'Node', permissions: WATCH_NODES, namespaces: () => undefined },
};

/** @returns the namespaceSelector for a set of namespaces; none when that is just the source's own namespace */
function namespaceSelector(namespaces: string[] | '*' | undefined, own: string): Record<string, unknown> | undefined {
  if (namespaces === undefined || (namespaces !== '*' && namespaces.length === 1 && namespaces[0] === own))
    return undefined;
  if (namespaces === '*') return {};
  // Every namespace carries the immutable label kubernetes.io/metadata.name = its name (Kubernetes ≥ 1.21).
  return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] };
}

function sink(spec: FunctionSpec, options: DeployOptions): Record<string, unknown> {
  return { ref: { apiVersion: 'v1', kind: 'Service', name: spec.name, namespace: options.namespace } };
}

/** Name of the ServiceAccount of a function's ApiServerSource. */
export function sourceAccount(spec: FunctionSpec): string {
  return `${spec.name}-source`;
}

/**
 * The ApiServerSource of a resource-triggered function and its ServiceAccount's RBAC. ApiServerSource has no
 * filter on the event type: it sends add, update and delete of the resource, and the function acts on the
 * actions of its trigger (`spec.trigger.actions`).
 */
export function apiServerSource(spec: FunctionSpec, options: DeployOptions): DesiredObject[] {
  if (spec.trigger.type !== 'resource') throw new Error(`${spec.name} has no resource trigger`);
  const watched = WATCHED[spec.trigger.resource];
  const selector = namespaceSelector(watched.namespaces(options), options.namespace);
  const source: DesiredObject = {
    apiVersion: SOURCES_API,
    kind: 'ApiServerSource',
    metadata: { name: spec.name, namespace: options.namespace, labels: labels(spec.name) },
    spec: {
      mode: 'Resource',
      serviceAccountName: sourceAccount(spec),
      resources: [{ apiVersion: watched.apiVersion, kind: watched.kind }],
      ...(selector ? { namespaceSelector: selector } : {}),
      sink: sink(spec, options),
    },
  };
  return [...rbacForAccount(sourceAccount(spec), spec.name, [watched.permissions], rbacScope(options)), source];
}

/** The PingSource of a scheduled function: its registry schedule in UTC, an empty event to the function. */
export function pingSource(spec: FunctionSpec, options: DeployOptions): DesiredObject {
  if (spec.trigger.type !== 'schedule') throw new Error(`${spec.name} has no schedule`);
  return {
    apiVersion: SOURCES_API,
    kind: 'PingSource',
    metadata: { name: spec.name, namespace: options.namespace, labels: labels(spec.name) },
    spec: { schedule: spec.trigger.schedule, timezone: 'Etc/UTC', sink: sink(spec, options) },
  };
}

/** @returns every object of the knative target, unsorted */
export function knativeObjects(options: DeployOptions): DesiredObject[] {
  const { resource, scheduled } = functionsByTrigger();
  return [
    ...commonObjects(options),
    ...[...resource, ...scheduled].flatMap((spec) => [
      functionDeployment(spec, options),
      functionService(spec, options, KNATIVE_SINK_PORT),
    ]),
    ...resource.flatMap((spec) => apiServerSource(spec, options)),
    ...scheduled.map((spec) => pingSource(spec, options)),
  ];
}
