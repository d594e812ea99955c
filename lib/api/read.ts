/**
 * The reads behind the operator API: the operator config, the `postgresql` objects of the watched namespaces a
 * caller may read, one cluster's children, pods and Events. Every answer is computed from these on each request;
 * the API keeps nothing between requests. Reads only (the API's ServiceAccount has no write verb but the two
 * reviews).
 */
import type { KubeClient } from '../k8s/client';
import type { Logger } from '../log/logger';
import { watchedNamespaces, type OperatorConfig } from '../model/config';
import { configLocation, loadOperatorConfig } from '../sync/operator/config';
import { syncContext, type ConfigLocation, type SyncContext } from '../sync/context';
import type { EventObject, PodObject, PostgresqlObject } from './shape';

/** The operator config as the functions would use it now, and where it was read. */
export interface ApiConfig {
  config: OperatorConfig;
  location: ConfigLocation;
  /** the operator's namespace (`OPERATOR_NAMESPACE`, default `default`) */
  operatorNamespace: string;
  /** the watched namespaces (`watched_namespace`, `WATCHED_NAMESPACE`), `*` for all */
  watched: string[] | '*';
  warnings: string[];
}

/** The operator ConfigMap is invalid and no valid configuration was applied before. */
export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError';
}

/**
 * Reads the operator ConfigMap as the functions do (`loadOperatorConfig`: the last applied data when the current
 * data is invalid). Needs `get configmaps` in the operator namespace; the password key is not read.
 * @returns the config; throws InvalidConfigError (no usable config) or KubeApiError
 */
export async function readApiConfig(client: KubeClient, env: Record<string, string | undefined>): Promise<ApiConfig> {
  const location = configLocation(env);
  const loaded = await loadOperatorConfig(client, location, env);
  if (!loaded.ok)
    throw new InvalidConfigError(
      `the operator ConfigMap ${location.namespace}/${location.name} is invalid: ${loaded.errors.map((e) => e.message).join('; ')}`,
    );
  const operatorNamespace = env.OPERATOR_NAMESPACE || 'default';
  return {
    config: loaded.config,
    location,
    operatorNamespace,
    watched: watchedNamespaces(loaded.config, operatorNamespace),
    warnings: loaded.warnings,
  };
}

/**
 * @param namespaces where to list (`*`: all namespaces, one request; else one request per namespace)
 * @returns the objects of that kind there, optionally by label selector; throws KubeApiError
 */
async function listIn<T>(
  client: KubeClient,
  kind: string,
  namespaces: string[] | '*',
  labelSelector: string | undefined,
  signal?: AbortSignal,
): Promise<T[]> {
  const scopes = namespaces === '*' ? [undefined] : namespaces;
  const lists = await Promise.all(scopes.map((namespace) => client.list<T>(kind, namespace, labelSelector, signal)));
  return lists.flat();
}

/**
 * @param namespaces where to list (`*`: all namespaces)
 * @returns the `postgresql` objects there; throws KubeApiError
 */
export function listPostgresqls(
  client: KubeClient,
  namespaces: string[] | '*',
  signal?: AbortSignal,
): Promise<PostgresqlObject[]> {
  return listIn<PostgresqlObject>(client, 'postgresql', namespaces, undefined, signal);
}

/**
 * @param namespaces where to list (`*`: all namespaces)
 * @param clusterLabel the config's `cluster_name_label`: only pods that carry it are listed
 * @returns the pods of every cluster there; throws KubeApiError
 */
export function listClusterPods(
  client: KubeClient,
  namespaces: string[] | '*',
  clusterLabel: string,
  signal?: AbortSignal,
): Promise<PodObject[]> {
  return listIn<PodObject>(client, 'Pod', namespaces, clusterLabel, signal);
}

/**
 * @returns the Events about one `postgresql` object (field selector on `involvedObject`); throws KubeApiError
 */
export async function listClusterEvents(
  client: KubeClient,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<EventObject[]> {
  const list = await client.request<{ items?: EventObject[] }>({
    verb: 'list',
    kind: 'Event',
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
    query: { fieldSelector: `involvedObject.kind=postgresql,involvedObject.name=${name}` },
    signal,
  });
  return list.items ?? [];
}

/**
 * A sync context for reading and planning only: no Event is recorded and no password is made (a Secret that does
 * not exist yet gets the placeholder `<new password>`, which no answer shows), so the lib/sync reads
 * (`observeCluster`) and the pure plan run as a sync runs them.
 */
export function readOnlyContext(
  client: KubeClient,
  api: ApiConfig,
  log: Logger,
  now: () => Date,
  signal?: AbortSignal,
): SyncContext {
  return syncContext({
    client,
    config: api.config,
    log,
    now,
    newPassword: () => '<new password>',
    ...(signal ? { signal } : {}),
    operatorNamespace: api.operatorNamespace,
  });
}
