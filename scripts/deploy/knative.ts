/**
 * Target `knative`: Knative Eventing delivers the events, through a Broker so that a delivery is retried with
 * backoff and what still fails lands in a dead-letter sink.
 *
 * - Each function runs as a Deployment and Service (port 80 to the host's 8080).
 * - Each resource trigger is an `ApiServerSource` in Resource mode (the full object as a CloudEvent, exactly the
 *   envelope the functions parse) with its own ServiceAccount allowed to get, list and watch that resource; the
 *   scheduled function gets a `PingSource`. Every source sends to one `Broker` in the operator namespace.
 * - One `Trigger` per function delivers from the Broker to the function's Service: its filter selects the events
 *   of the function's own source (see {@link triggerAttributes}), its `delivery` retries with exponential backoff
 *   for as long as a rolling-update step takes (see {@link deliverySpec}) and then hands the event to the
 *   dead-letter receiver, which logs it (see {@link DEAD_LETTER_SCRIPT}).
 *
 * Why a Broker: an ApiServerSource sends to its sink with five quick retries (50 ms exponential backoff, about
 * 1.5 s in all), so a function answering 503 with `Retry-After` while a pod is replaced would only be called again
 * at the next PingSource tick. A Trigger's delivery spec is where Knative lets us say how long to keep trying.
 * No RBAC is needed for it: the Broker, its channel and their dispatchers run under Knative's own accounts, and
 * the sources need nothing beyond watching their resource. Only Knative Eventing is used (no Knative Serving
 * objects); the Broker class is the cluster's default (`config-br-defaults`).
 *
 * Sources:
 * - ApiServerSource (resources, mode, serviceAccountName, namespaceSelector: absent = the source's namespace,
 *   `{}` = all; ceOverrides.extensions; the controller checks get/list/watch for the account in every selected
 *   namespace): https://knative.dev/docs/eventing/sources/apiserversource/reference/ ; its events (types
 *   `dev.knative.apiserver.resource.{add,update,delete}`, extensions `kind`, `apiversion`, `name`, `namespace`):
 *   https://github.com/knative/eventing/blob/v0.48.2/pkg/adapter/apiserver/events/events.go
 * - PingSource (schedule, timezone, sink; type `dev.knative.sources.ping`, source
 *   `/apis/v1/namespaces/<namespace>/pingsources/<name>`): https://knative.dev/docs/eventing/sources/ping-source/
 *   and https://github.com/knative/eventing/blob/v0.48.2/pkg/apis/sources/v1/ping_lifecycle.go
 * - Broker and Trigger (broker, filter.attributes: exact match, all must hold): https://knative.dev/docs/eventing/brokers/
 *   and https://knative.dev/docs/eventing/triggers/
 * - Delivery spec (retry, backoffPolicy, backoffDelay, deadLetterSink, retryAfterMax behind the
 *   `delivery-retryafter` feature): https://knative.dev/docs/eventing/event-delivery/ and
 *   https://github.com/knative/eventing/blob/v0.48.2/pkg/kncloudevents/retries.go
 * - A sink `ref` to a core Service resolves to `http://<name>.<namespace>.svc.cluster.local` (port 80):
 *   https://github.com/knative/pkg/blob/main/resolver/addressable_resolver.go
 */
import { POD_WAIT_SLOW_SECONDS } from '../../lib/plan/pod-wait';
import {
  WATCH_NODES,
  WATCH_OPERATOR_CONFIG,
  WATCH_POSTGRES_TEAMS,
  WATCH_POSTGRESQLS,
  type RuleGroup,
} from '../../lib/registry/rbac';
import { POSTGRES_TEAM } from '../../lib/model/postgres-team';
import type { FunctionSpec, Trigger } from '../../lib/registry/functions';
import { commonObjects, functionsByTrigger, rbacScope } from './common';
import { FUNCTION_PORT, labels, selectorLabels, type DesiredObject } from './meta';
import { functionsNetworkPolicy } from './network-policy';
import type { DeployOptions } from './options';
import { rbacForAccount } from './rbac';
import { CONTAINER_SECURITY_CONTEXT, functionDeployment, functionService, POD_SECURITY_CONTEXT } from './workloads';

const SOURCES_API = 'sources.knative.dev/v1';
const EVENTING_API = 'eventing.knative.dev/v1';
/** The Service port a sink `ref` resolves to. */
export const KNATIVE_SINK_PORT = 80;
/** Name of the Broker every source sends to (in the operator namespace). */
export const BROKER_NAME = 'postgres-operator';
/** Name of the dead-letter receiver's Deployment and Service. */
export const DEAD_LETTER_NAME = 'postgres-operator-dead-letter';
/**
 * CloudEvent extension each ApiServerSource adds (`ceOverrides`) naming the function its events are for. Two
 * functions watch `postgresql` objects with a source each, and both sources send every add, update and delete to
 * the one Broker; without this mark each Trigger would pass on the copies of the other sources too.
 */
export const FUNCTION_EXTENSION = 'targetfunction';
/** CloudEvent type of ApiServerSource's Resource mode, without the action. */
export const APISERVER_EVENT_TYPE_PREFIX = 'dev.knative.apiserver.resource.';
/** CloudEvent type of PingSource's events. */
export const PING_EVENT_TYPE = 'dev.knative.sources.ping';

/**
 * Retries of one delivery, and the first backoff in seconds (exponential: the wait before retry k is
 * `BACKOFF · 2^(k-1)`; Knative passes go-retryablehttp's 0-based attempt number to `backoffDelay · 2^n`).
 *
 * The arithmetic: the waits are 1, 2, 4, ..., 256 s, so the retries come 1, 3, 7, 15, 31, 63, 127, 255 and 511 s
 * after the first attempt (`2^k - 1`). A rolling-update step (one pod replaced, Patroni up again: 30 to 120 s)
 * is looked at again at 31, 63 and 127 s; a slower one at 255 and 511 s. The last retry, at 8.5 minutes, stays
 * inside the functions' own wait (lib/plan/pod-wait.ts: 503 with `Retry-After` 3 s for 90 s, then 15 s until
 * 10 minutes, after which they answer 200 and leave the cluster to the periodic sync) and inside the 15 minutes
 * an InMemoryChannel waits for a fan-out; a tenth retry would come at 1023 s, past both.
 */
export const DELIVERY_RETRIES = 9;
export const DELIVERY_BACKOFF_SECONDS = 1;

type ResourceTrigger = Extract<Trigger, { type: 'resource' }>;

/** What a resource trigger watches, and the rule group its source's ServiceAccount needs for it. */
interface WatchedResource {
  apiVersion: string;
  kind: string;
  permissions: RuleGroup;
  /** the namespaces to watch (undefined: cluster-scoped, or the source's own namespace) */
  namespaces(options: DeployOptions): string[] | '*' | undefined;
  /** further CloudEvent attributes a Trigger requires (exact values) */
  attributes?(options: DeployOptions): Record<string, string>;
}

const WATCHED: Record<ResourceTrigger['resource'], WatchedResource> = {
  postgresql: {
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    permissions: WATCH_POSTGRESQLS,
    namespaces: (o) => o.watchedNamespaces,
  },
  // An ApiServerSource selects by label only: it sees every ConfigMap of the namespace. The Trigger passes on
  // the operator's (the extensions `name` and `namespace`), and the function checks CONFIG_MAP_NAME again.
  'operator-configmap': {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    permissions: WATCH_OPERATOR_CONFIG,
    namespaces: (o) => [o.configMap.namespace],
    attributes: (o) => ({ name: o.configMap.name, namespace: o.configMap.namespace }),
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

/** @returns a Knative Destination: a `ref` to a Service of the operator namespace */
function serviceDestination(name: string, options: DeployOptions): Record<string, unknown> {
  return { ref: { apiVersion: 'v1', kind: 'Service', name, namespace: options.namespace } };
}

/** @returns the sink of every source: the Broker */
function brokerSink(options: DeployOptions): Record<string, unknown> {
  return { ref: { apiVersion: EVENTING_API, kind: 'Broker', name: BROKER_NAME, namespace: options.namespace } };
}

/** Name of the ServiceAccount of a function's ApiServerSource. */
export function sourceAccount(spec: FunctionSpec): string {
  return `${spec.name}-source`;
}

/**
 * The ApiServerSource of a resource-triggered function and its ServiceAccount's RBAC. ApiServerSource has no
 * filter on the event type (its `filters` need the alpha feature `new-apiserversource-filters`): it sends add,
 * update and delete of the resource, marked with {@link FUNCTION_EXTENSION}, and the function's Trigger picks.
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
      ceOverrides: { extensions: { [FUNCTION_EXTENSION]: spec.name } },
      sink: brokerSink(options),
    },
  };
  return [...rbacForAccount(sourceAccount(spec), spec.name, [watched.permissions], rbacScope(options)), source];
}

/** The PingSource of a scheduled function: its registry schedule in UTC, an empty event to the Broker. */
export function pingSource(spec: FunctionSpec, options: DeployOptions): DesiredObject {
  if (spec.trigger.type !== 'schedule') throw new Error(`${spec.name} has no schedule`);
  return {
    apiVersion: SOURCES_API,
    kind: 'PingSource',
    metadata: { name: spec.name, namespace: options.namespace, labels: labels(spec.name) },
    spec: { schedule: spec.trigger.schedule, timezone: 'Etc/UTC', sink: brokerSink(options) },
  };
}

/** The Broker the sources send to. Its class and channel are the cluster's defaults. */
export function broker(options: DeployOptions): DesiredObject {
  return {
    apiVersion: EVENTING_API,
    kind: 'Broker',
    metadata: { name: BROKER_NAME, namespace: options.namespace, labels: labels('broker') },
  };
}

/**
 * The CloudEvent attributes (exact values, all required) of the events a function's Trigger passes on. A resource
 * function gets the events of its own source ({@link FUNCTION_EXTENSION}, `kind`, `apiversion`; the operator
 * ConfigMap's `name` and `namespace`), and `type` when it handles one action: the three `postgresql` functions
 * get only their add, update or delete. Functions with two actions (`filter.attributes` has no "one of") also
 * get deletes, which they ignore. The scheduled function gets its PingSource's `type` and `source`.
 * `filter.attributes` rather than the newer `filters`: every Broker class implements it.
 */
export function triggerAttributes(spec: FunctionSpec, options: DeployOptions): Record<string, string> {
  if (spec.trigger.type === 'schedule')
    return { type: PING_EVENT_TYPE, source: `/apis/v1/namespaces/${options.namespace}/pingsources/${spec.name}` };
  if (spec.trigger.type !== 'resource') throw new Error(`${spec.name} is called over HTTP, not by events`);
  const watched = WATCHED[spec.trigger.resource];
  const [only, ...more] = spec.trigger.actions;
  return {
    ...(only && more.length === 0 ? { type: `${APISERVER_EVENT_TYPE_PREFIX}${only}` } : {}),
    [FUNCTION_EXTENSION]: spec.name,
    kind: watched.kind,
    apiversion: watched.apiVersion,
    ...watched.attributes?.(options),
  };
}

/**
 * The delivery spec of every Trigger: {@link DELIVERY_RETRIES} retries with exponential backoff from
 * {@link DELIVERY_BACKOFF_SECONDS} (ISO-8601 durations), then the dead-letter receiver. Knative retries network
 * errors, 404, 408, 409, 429 and 5xx. With `knativeRetryAfter` also `retryAfterMax` (the longest `Retry-After`
 * the functions send, 15 s): the wait before a retry of a 429 or 503 is then the larger of the backoff and the
 * answer's `Retry-After` (capped at 15 s), so `Retry-After: 3` moves the retries to 3, 6, 10, 18, 34, 66, 130, 258
 * and 514 s. Knative's webhook refuses that field unless the alpha feature `delivery-retryafter` is `enabled` in
 * the ConfigMap `config-features` (namespace `knative-eventing`).
 */
export function deliverySpec(options: DeployOptions): Record<string, unknown> {
  return {
    retry: DELIVERY_RETRIES,
    backoffPolicy: 'exponential',
    backoffDelay: `PT${DELIVERY_BACKOFF_SECONDS}S`,
    ...(options.knativeRetryAfter ? { retryAfterMax: `PT${POD_WAIT_SLOW_SECONDS}S` } : {}),
    deadLetterSink: serviceDestination(DEAD_LETTER_NAME, options),
  };
}

/** Name of the PostgresTeam source, its Trigger and its events' {@link FUNCTION_EXTENSION}. */
export const POSTGRES_TEAM_SOURCE = 'postgres-team';
/** The function PostgresTeam changes go to: it syncs the clusters of the teams a PostgresTeam names. */
export const POSTGRES_TEAM_FUNCTION = 'on-update';

/**
 * PostgresTeam objects in the watched namespaces: an ApiServerSource (ServiceAccount with get/list/watch on
 * postgresteams) and a Trigger that passes its add, update and delete events to `on-update`'s Service, which syncs
 * the clusters of the teams the object names (`lib/sync/teams/team-change.ts`). The registry's one trigger per
 * function cannot say this, so it is written here; the bridge does the same for the other targets.
 */
export function postgresTeamSource(options: DeployOptions): DesiredObject[] {
  const account = `${POSTGRES_TEAM_SOURCE}-source`;
  const selector = namespaceSelector(options.watchedNamespaces, options.namespace);
  const source: DesiredObject = {
    apiVersion: SOURCES_API,
    kind: 'ApiServerSource',
    metadata: { name: POSTGRES_TEAM_SOURCE, namespace: options.namespace, labels: labels(POSTGRES_TEAM_SOURCE) },
    spec: {
      mode: 'Resource',
      serviceAccountName: account,
      resources: [{ apiVersion: POSTGRES_TEAM.apiVersion, kind: POSTGRES_TEAM.kind }],
      ...(selector ? { namespaceSelector: selector } : {}),
      ceOverrides: { extensions: { [FUNCTION_EXTENSION]: POSTGRES_TEAM_SOURCE } },
      sink: brokerSink(options),
    },
  };
  const teamTrigger: DesiredObject = {
    apiVersion: EVENTING_API,
    kind: 'Trigger',
    metadata: { name: POSTGRES_TEAM_SOURCE, namespace: options.namespace, labels: labels(POSTGRES_TEAM_SOURCE) },
    spec: {
      broker: BROKER_NAME,
      filter: {
        attributes: {
          [FUNCTION_EXTENSION]: POSTGRES_TEAM_SOURCE,
          kind: POSTGRES_TEAM.kind,
          apiversion: POSTGRES_TEAM.apiVersion,
        },
      },
      subscriber: serviceDestination(POSTGRES_TEAM_FUNCTION, options),
      delivery: deliverySpec(options),
    },
  };
  return [
    ...rbacForAccount(account, POSTGRES_TEAM_SOURCE, [WATCH_POSTGRES_TEAMS], rbacScope(options)),
    source,
    teamTrigger,
  ];
}

/** The Trigger of a function: its events from the Broker to its Service, with the delivery spec. */
export function trigger(spec: FunctionSpec, options: DeployOptions): DesiredObject {
  return {
    apiVersion: EVENTING_API,
    kind: 'Trigger',
    metadata: { name: spec.name, namespace: options.namespace, labels: labels(spec.name) },
    spec: {
      broker: BROKER_NAME,
      filter: { attributes: triggerAttributes(spec, options) },
      subscriber: serviceDestination(spec.name, options),
      delivery: deliverySpec(options),
    },
  };
}

/**
 * The dead-letter receiver, run by the runtime image's node (no extra image to pull): for each event Knative gave
 * up on, one JSON log line with the event's identity (type, id, subject, function, kind, namespace, name) and
 * what the function last answered (Knative's extensions `knativeerrordest`, `knativeerrorcode` and
 * `knativeerrordata`, the response body base64-encoded and cut at 1024 characters), then 202. Both CloudEvent
 * modes are read: binary (`ce-*` headers) and structured (`application/cloudevents+json`). `GET` answers 200
 * (probes). Nothing is retried from here: the periodic sync repairs what a dropped event would have done.
 *
 * Source: https://knative.dev/docs/eventing/event-delivery/ (dead-letter sink, error extensions);
 * https://github.com/knative/eventing/blob/v0.48.2/pkg/kncloudevents/attributes/knative_error.go
 */
export const DEAD_LETTER_SCRIPT = [
  "require('node:http').createServer((req, res) => {",
  "  if (req.method === 'GET') return void res.end('OK');",
  '  const chunks = [];',
  "  req.on('data', (c) => chunks.push(c)).on('end', () => {",
  '    const h = req.headers; let ce = {};',
  "    if (String(h['content-type']).startsWith('application/cloudevents+json'))",
  "      try { ce = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch {}",
  "    const at = (n) => ce[n] ?? h['ce-' + n]; const data = at('knativeerrordata');",
  "    console.log(JSON.stringify({ ts: new Date().toISOString(), level: 'warn', msg: 'Event dropped after its retries',",
  "      type: at('type'), id: at('id'), subject: at('subject'), function: at('targetfunction'), kind: at('kind'),",
  "      namespace: at('namespace'), name: at('name'), destination: at('knativeerrordest'),",
  "      status: Number(at('knativeerrorcode')) || undefined,",
  "      response: data ? Buffer.from(String(data), 'base64').toString('utf8') : undefined }));",
  '    res.statusCode = 202; res.end();',
  '  });',
  '}).listen(Number(process.env.PORT));',
].join('\n');

/** The dead-letter receiver: a Deployment (no ServiceAccount token: it calls nothing) and its Service on port 80. */
export function deadLetterReceiver(options: DeployOptions): DesiredObject[] {
  const deployment: DesiredObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEAD_LETTER_NAME, namespace: options.namespace, labels: labels('dead-letter') },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels('dead-letter') },
      template: {
        metadata: { labels: labels('dead-letter') },
        spec: {
          automountServiceAccountToken: false,
          securityContext: POD_SECURITY_CONTEXT,
          containers: [
            {
              name: 'dead-letter',
              image: options.image,
              imagePullPolicy: options.imagePullPolicy,
              command: ['node', '-e', DEAD_LETTER_SCRIPT],
              env: [{ name: 'PORT', value: String(FUNCTION_PORT) }],
              ports: [{ name: 'http', containerPort: FUNCTION_PORT, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/healthz', port: FUNCTION_PORT }, periodSeconds: 10 },
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
              securityContext: CONTAINER_SECURITY_CONTEXT,
            },
          ],
        },
      },
    },
  };
  const service: DesiredObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: DEAD_LETTER_NAME, namespace: options.namespace, labels: labels('dead-letter') },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels('dead-letter'),
      ports: [{ name: 'http', port: KNATIVE_SINK_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  return [deployment, service];
}

/**
 * Env of the function hosts under this target: a Broker takes a non-empty 2xx answer that is not a CloudEvent for
 * a failed delivery (the MTChannelBasedBroker's filter turns it into a 502, "The response MUST be either empty or
 * a valid CloudEvent"), so the hosts answer a success with an empty body. Source:
 * https://github.com/knative/eventing/blob/v0.48.2/pkg/broker/filter/filter_handler.go (`writeResponse`).
 */
export const EMPTY_SUCCESS_REPLY_ENV = { name: 'FUNC_EMPTY_SUCCESS_REPLY', value: 'true' };

/** A function's Deployment with {@link EMPTY_SUCCESS_REPLY_ENV}. */
function knativeFunctionDeployment(spec: FunctionSpec, options: DeployOptions): DesiredObject {
  const deployment = functionDeployment(spec, options);
  const pod = (deployment.spec as { template: { spec: { containers: Array<{ env: unknown[] }> } } }).template.spec;
  for (const container of pod.containers) container.env.push(EMPTY_SUCCESS_REPLY_ENV);
  return deployment;
}

/** @returns every object of the knative target, unsorted */
export function knativeObjects(options: DeployOptions): DesiredObject[] {
  const { resource, scheduled, http } = functionsByTrigger();
  const functions = [...resource, ...scheduled];
  return [
    ...commonObjects(options),
    ...functions.flatMap((spec) => [
      knativeFunctionDeployment(spec, options),
      functionService(spec, options, KNATIVE_SINK_PORT),
    ]),
    // Called by people and Prometheus, not through the Broker: a plain Deployment and Service, no Trigger, and not
    // under the NetworkPolicy that admits only Knative Eventing.
    ...http.flatMap((spec) => [functionDeployment(spec, options), functionService(spec, options, FUNCTION_PORT)]),
    ...deadLetterReceiver(options),
    broker(options),
    ...resource.flatMap((spec) => apiServerSource(spec, options)),
    ...postgresTeamSource(options),
    ...scheduled.map((spec) => pingSource(spec, options)),
    ...functions.map((spec) => trigger(spec, options)),
    functionsNetworkPolicy([...functions.map((spec) => spec.name), 'dead-letter'], { type: 'knative' }, options),
  ];
}
