/**
 * The event bridge: informers on `postgresql` objects (in the watched namespaces), on the operator ConfigMap and
 * on Nodes turn every change into a CloudEvent (ApiServerSource Resource format) POSTed to the function the
 * registry names for it, through the per-object delivery queue; a local cron calls periodic-sync. The initial
 * list of every informer delivers each existing object as `add`, so what changed while the bridge was down is
 * not lost; a `postgresql` object listed that way that an operator synced before (it has a status) asks for one
 * fleet sync (periodic-sync) instead of a sync of its own, so a restart among thousands of clusters costs a LIST
 * per kind plus the clusters that differ. When the ConfigMap's `watched_namespace` changes, the postgresql
 * informers follow.
 *
 * Source: Knative Eventing ApiServerSource (https://knative.dev/docs/eventing/sources/apiserversource/), whose
 * Resource-mode CloudEvents every function accepts; the bridge is this project's own stand-in for it, so the same
 * functions run where Knative is not installed.
 */
import { DEFAULT_SYNC_SCHEDULE, FUNCTIONS, type ResourceAction } from '../registry/functions';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeClient, KubeObject } from '../k8s/client';
import { createLogger, type Logger } from '../log/logger';
import { configLocation } from '../sync/operator/config';
import { binaryRequest, cronRequest, toCloudEvent } from './cloudevent';
import { operatorSettings, type OperatorSettings, type Targets } from './config';
import { startPeriodicTrigger, type PeriodicTrigger } from './cron';
import { DeliveryQueue, fetchSender, type Clock, type Delivery, type RetryPolicy, type Sender } from './delivery-queue';
import { ResilientInformer, type InformerBackoff, type InformerHandlers } from './informers';
import { createBridgeMetrics, type BridgeMetrics } from './metrics';
import {
  ClusterTracker,
  FLEET_SYNC_TARGET,
  NodeTracker,
  objectKey,
  routeChange,
  statefulSetReadinessView,
  StatefulSetTracker,
  wasSynced,
  type WatchedResource,
} from './routing';
import { PostgresTeamTracker, POSTGRES_TEAM_TARGET } from './postgres-teams';
import { startServer, type BridgeServer } from './server';

/** How to run a bridge. Only `client` and `targets` are required. */
export interface BridgeOptions {
  /** the Kubernetes client (its kubeconfig is used for the watches too); the caller closes it */
  client: KubeClient;
  /** function name → URL (see `targetsFromEnv`) */
  targets: Targets;
  /** `CONFIG_MAP_NAME`, `OPERATOR_NAMESPACE`, `WATCHED_NAMESPACE`, as for the functions; default process.env */
  env?: Record<string, string | undefined>;
  log?: Logger;
  /** port of `/metrics` and `/healthz`; default 8090; 0 picks a free port; false serves nothing */
  port?: number | false;
  /** address to bind; default all interfaces */
  host?: string;
  /** periodic-sync cron schedule (UTC); default the registry's; false disables the local cron */
  schedule?: string | false;
  /** how long an update waits for more updates of the same object, ms; default 200 */
  coalesceMs?: number;
  /** deliveries in flight at most; default 16 */
  concurrency?: number;
  /** timeout of one delivery attempt, ms; default 300000 */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** how long stop() lets in-flight deliveries finish, ms; default 5000 */
  graceMs?: number;
  /** watch Nodes (needs cluster-wide list/watch on nodes); default true */
  watchNodes?: boolean;
  /** `ce-source`; default `urn:postgres-operator-functions:bridge` */
  source?: string;
  /** restart backoff of failed informers */
  informerBackoff?: InformerBackoff;
  /** replaces the HTTP sender (tests, benchmarks) */
  send?: Sender;
  clock?: Clock;
  metrics?: BridgeMetrics;
}

/** A running bridge. */
export interface Bridge {
  /** resolves once every informer has delivered its initial list (then `/healthz` answers 200) */
  ready: Promise<void>;
  /** stops the informers and the cron, gives in-flight deliveries the grace period, closes the server */
  stop(): Promise<void>;
  metrics: BridgeMetrics;
  /** the port of `/metrics` and `/healthz`, when served */
  port: number | undefined;
  /** resolves once no delivery waits or is in flight (tests) */
  idle(): Promise<void>;
  /** the operator-config values in use */
  settings(): OperatorSettings;
  /** queues a periodic-sync call now, as the cron does */
  triggerPeriodicSync(): void;
}

const describe = (action: string, resource: string, object: KubeObject): string =>
  `${action} ${resource} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;

/** The function that applies a change of the operator ConfigMap. */
const CONFIG_CHANGE_TARGET = 'on-operator-config-change';

/**
 * @param version the operator ConfigMap's resourceVersion as the bridge knows it (undefined: none seen)
 * @returns the delivery with its CloudEvent extension `configversion` (header `ce-configversion`) set to it, so a
 *   warm function reuses the config it parsed at that version without a GET (`lib/sync/operator/config.ts`)
 */
export function withConfigVersion(delivery: Delivery, version: string | undefined): Delivery {
  const { 'ce-configversion': _previous, ...headers } = delivery.request.headers;
  if (version) headers['ce-configversion'] = version;
  return { ...delivery, request: { ...delivery.request, headers } };
}

/**
 * Starts a bridge: serves metrics, starts the informers and the cron.
 * @returns once the metrics port is bound (await `ready` for the initial lists); rejects when it cannot be
 *   bound or the schedule is invalid
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { client, targets } = options;
  const env = options.env ?? process.env;
  const log = (options.log ?? createLogger()).with({ component: 'bridge' });
  const metrics = options.metrics ?? createBridgeMetrics();
  const coalesceMs = options.coalesceMs ?? 200;
  const location = configLocation(env);
  const operatorNamespace = env.OPERATOR_NAMESPACE || 'default';
  const send = options.send ?? fetchSender;
  const queue = new DeliveryQueue({
    // Each attempt carries the operator ConfigMap's version as the bridge knows it now, not when the change was
    // queued: a delivery retried for minutes must not make a function reuse a config that has changed since.
    // The config change function compares the ConfigMap with what was applied: it always reads it.
    send: (delivery, signal) =>
      send(withConfigVersion(delivery, delivery.target === CONFIG_CHANGE_TARGET ? undefined : configVersion), signal),
    metrics,
    log,
    concurrency: options.concurrency,
    requestTimeoutMs: options.requestTimeoutMs,
    retry: options.retry,
    clock: options.clock,
  });
  const untargeted = FUNCTIONS.filter((f) => f.trigger.type !== 'http')
    .map((f) => f.name)
    .filter((name) => targets[name] === undefined);
  if (untargeted.length > 0)
    log.warn('no URL for some functions: their events are counted and dropped', { functions: untargeted });
  const nodes = new NodeTracker();
  const statefulSets = new StatefulSetTracker();
  const clusters = new ClusterTracker();
  const teams = new PostgresTeamTracker();
  let settings = operatorSettings(undefined, env, operatorNamespace);
  let configSeen = false;
  /** the operator ConfigMap's resourceVersion last seen, sent with every event (`configversion`) */
  let configVersion: string | undefined;
  let healthy = false;
  let stopping = false;

  /** Queues a periodic-sync call (a cron event), merged with one already waiting. */
  const requestFleetSync = (delayMs: number, description: string) =>
    queue.push({
      key: 'schedule/periodic-sync',
      target: FLEET_SYNC_TARGET,
      url: targets[FLEET_SYNC_TARGET],
      request: cronRequest(),
      mergeable: true,
      delayMs,
      description,
    });
  /** the description of the fleet sync asked for by listed clusters, until it is queued */
  let listedFleetSync: string | undefined;
  /**
   * Queues one fleet sync for the clusters of an informer's list. The list calls `add` for every object in one
   * synchronous loop (client-node 1.4.0 `ListWatch`): asked for at its first object, the sync would go out at once
   * (the queue's leading edge) and the rest of the list would queue a second one, a whole second fleet sync (with
   * ten thousand clusters, seconds of LISTs and diffs, and their garbage) that finds what the first found: the first
   * starts after the list and lists the API itself. So it is queued once the loop is done.
   */
  const requestFleetSyncForListed = (description: string) => {
    if (listedFleetSync !== undefined) return;
    listedFleetSync = description;
    queueMicrotask(() => {
      const first = listedFleetSync!;
      listedFleetSync = undefined;
      if (!stopping) requestFleetSync(coalesceMs, first);
    });
  };
  const schedule = options.schedule === false ? undefined : (options.schedule ?? DEFAULT_SYNC_SCHEDULE);
  const triggerPeriodicSync = () => {
    if (stopping) return;
    metrics.events.inc({ resource: 'schedule', action: 'tick' });
    requestFleetSync(0, 'periodic-sync tick');
  };
  // Validate the schedule before anything starts.
  const cron: PeriodicTrigger | undefined =
    schedule === undefined ? undefined : startPeriodicTrigger(schedule, triggerPeriodicSync);

  let server: BridgeServer | undefined;
  try {
    server =
      options.port === false
        ? undefined
        : await startServer(options.port ?? 8090, metrics.registry, () => healthy && !stopping, options.host);
  } catch (error) {
    cron?.stop();
    throw error;
  }

  // A PostgresTeam change is an update of every cluster of the teams it involves (see PostgresTeamTracker).
  const deliverTeamChange = (action: ResourceAction, object: KubeObject) => {
    for (const cluster of teams.observeTeam(action, object)) {
      const change = { resource: 'postgresql' as const, action: 'update' as const, object: cluster };
      queue.push({
        key: objectKey('postgresql', cluster),
        target: POSTGRES_TEAM_TARGET,
        url: targets[POSTGRES_TEAM_TARGET],
        request: binaryRequest(toCloudEvent(change, { source: options.source })),
        mergeable: true,
        delayMs: coalesceMs,
        description: `${describe(action, 'postgresteam', object)}: roles of ${describe('update', 'postgresql', cluster)}`,
      });
    }
  };
  const deliver = (resource: WatchedResource, action: ResourceAction, object: KubeObject) => {
    if (stopping) return;
    metrics.events.inc({ resource, action });
    if (resource === 'postgresql') teams.observeCluster(action, object);
    if (resource === 'postgresteam') return deliverTeamChange(action, object);
    const change = { resource, action, object };
    const routes = routeChange(change, nodes, statefulSets, clusters);
    if (routes.length === 0) return;
    if (resource === 'postgresql' && action === 'add' && wasSynced(object) && targets[FLEET_SYNC_TARGET]) {
      // Listed, not created: the bridge's start or an informer's restart lists every cluster again. One fleet sync
      // (a LIST per kind, then only the clusters that differ) instead of a full sync of each, merged while it waits.
      requestFleetSyncForListed(`fleet sync for listed clusters (${describe(action, resource, object)}, ...)`);
      return;
    }
    // One event per change: every function it goes to sees the same ce-id.
    const request = binaryRequest(toCloudEvent(change, { source: options.source }));
    for (const route of routes) {
      if (route.reasons) log.info('node is going away', { node: object.metadata?.name, reasons: route.reasons });
      queue.push({
        key: objectKey(resource, object),
        target: route.target,
        url: targets[route.target],
        request,
        mergeable: route.mergeable,
        delayMs: route.urgent ? 0 : coalesceMs,
        description: describe(action, resource, object),
      });
    }
  };
  const handlersFor = (resource: WatchedResource): InformerHandlers => ({
    add: (object) => deliver(resource, 'add', object),
    update: (object) => deliver(resource, 'update', object),
    delete: (object) => deliver(resource, 'delete', object),
  });

  // postgresql and StatefulSet informers: one of each for all namespaces ('*') or per watched namespace. The
  // StatefulSets tell when a cluster's pods turn Ready (see StatefulSetTracker).
  const clusterInformers = new Map<string, ResilientInformer[]>();
  // PostgresTeam informers, one per watched namespace (or one for all), only with enable_postgres_team_crd.
  const teamInformers = new Map<string, ResilientInformer>();
  const watchTeams = async (namespaces: string[] | '*' | undefined) => {
    const wanted = namespaces === undefined ? [] : namespaces === '*' ? ['*'] : namespaces;
    for (const namespace of wanted) {
      if (teamInformers.has(namespace)) continue;
      const informer = new ResilientInformer(
        client,
        {
          name: `postgresteam/${namespace}`,
          kind: 'PostgresTeam',
          namespace: namespace === '*' ? undefined : namespace,
        },
        handlersFor('postgresteam'),
        log,
        metrics,
        options.informerBackoff,
      );
      teamInformers.set(namespace, informer);
      informer.start();
    }
    for (const [namespace, informer] of teamInformers) {
      if (wanted.includes(namespace)) continue;
      teamInformers.delete(namespace);
      await informer.stop();
    }
  };
  let namespaceChange: Promise<void> = Promise.resolve();
  const watchNamespaces = (namespaces: string[] | '*'): Promise<void> => {
    namespaceChange = namespaceChange
      .then(async () => {
        if (stopping) return;
        const wanted = namespaces === '*' ? ['*'] : namespaces;
        const where = (namespace: string) => (namespace === '*' ? 'all namespaces' : namespace);
        // Start the new informers before stopping the old ones, so no change falls between them.
        for (const namespace of wanted) {
          if (clusterInformers.has(namespace)) continue;
          const informers = (['postgresql', 'statefulset'] as const).map(
            (resource) =>
              new ResilientInformer(
                client,
                {
                  name: `${resource}/${namespace}`,
                  kind: resource === 'postgresql' ? 'postgresql' : 'StatefulSet',
                  namespace: namespace === '*' ? undefined : namespace,
                  ...(resource === 'statefulset' ? { keep: statefulSetReadinessView } : {}),
                },
                handlersFor(resource),
                log,
                metrics,
                options.informerBackoff,
              ),
          );
          clusterInformers.set(namespace, informers);
          for (const informer of informers) informer.start();
          log.info('watching postgresql objects and StatefulSets', { namespace: where(namespace) });
        }
        for (const [namespace, informers] of clusterInformers) {
          if (wanted.includes(namespace)) continue;
          clusterInformers.delete(namespace);
          await Promise.all(informers.map((informer) => informer.stop()));
          log.info('stopped watching postgresql objects and StatefulSets', { namespace: where(namespace) });
        }
        await watchTeams(settings.postgresTeams ? namespaces : undefined);
      })
      .catch((error: Error) => log.error('could not change the watched namespaces', { error: error.message }));
    return namespaceChange;
  };

  const applyConfig = (configMap: V1ConfigMap | undefined) => {
    configSeen = true;
    configVersion = configMap?.metadata?.resourceVersion;
    settings = operatorSettings(configMap?.data, env, operatorNamespace);
    for (const error of settings.errors)
      log.warn('operator config value ignored by the bridge', { key: error.key, error: error.message });
    nodes.setReadinessLabels(settings.readinessLabels);
    statefulSets.setClusterLabels(settings.clusterLabels);
    void watchNamespaces(settings.namespaces);
  };

  const configInformer = new ResilientInformer(
    client,
    {
      name: 'operator-configmap',
      kind: 'ConfigMap',
      namespace: location.namespace,
      fieldSelector: `metadata.name=${location.name}`,
    },
    {
      // The config first: a delivery may be sent at once, with the version the bridge then knows.
      add: (object) => {
        applyConfig(object);
        deliver('operator-configmap', 'add', object);
      },
      update: (object) => {
        applyConfig(object);
        deliver('operator-configmap', 'update', object);
      },
      delete: (object) => {
        applyConfig(undefined);
        deliver('operator-configmap', 'delete', object);
      },
    },
    log,
    metrics,
    options.informerBackoff,
  );
  const nodeInformer =
    options.watchNodes === false
      ? undefined
      : new ResilientInformer(
          client,
          { name: 'node', kind: 'Node' },
          handlersFor('node'),
          log,
          metrics,
          options.informerBackoff,
        );

  configInformer.start();
  nodeInformer?.start();
  const ready = (async () => {
    await configInformer.ready;
    if (!configSeen) applyConfig(undefined); // no ConfigMap: defaults
    await namespaceChange;
    await Promise.all(
      [...clusterInformers.values()]
        .flat()
        .map((informer) => informer.ready)
        .concat(nodeInformer?.ready ?? []),
    );
    healthy = true;
    log.info('bridge ready: initial lists delivered', {
      namespaces: settings.namespaces,
      configMap: `${location.namespace}/${location.name}`,
      nodes: nodeInformer !== undefined,
      nextPeriodicSync: cron?.nextRun()?.toISOString() ?? 'disabled',
      targets,
    });
  })();

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      cron?.stop();
      await namespaceChange;
      await Promise.all([
        configInformer.stop(),
        nodeInformer?.stop(),
        ...[...clusterInformers.values()].flat().map((i) => i.stop()),
        ...[...teamInformers.values()].map((i) => i.stop()),
      ]);
      const abandoned = await queue.stop(options.graceMs ?? 5_000);
      await server?.close();
      log.info('bridge stopped', { abandoned });
    })();
    return stopped;
  };

  return {
    ready,
    stop,
    metrics,
    port: server?.port,
    idle: () => queue.idle(),
    settings: () => settings,
    triggerPeriodicSync,
  };
}
