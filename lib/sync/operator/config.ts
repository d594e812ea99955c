/**
 * Reads the operator ConfigMap and parses it. The ConfigMap is named by env `CONFIG_MAP_NAME` (`namespace/name`
 * or `name`, in the operator namespace), as in Zalando's operator; a missing ConfigMap means all defaults. Invalid
 * data falls back to the last applied configuration recorded on the ConfigMap (unlike Zalando, which stops).
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md ("ConfigMap").
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeClient } from '../../k8s/client';
import { parseOperatorConfig, type ConfigError, type OperatorConfig } from '../../model/config';
import type { ConfigLocation } from '../context';
import { lastAppliedData, type ConfigData } from './history';

/**
 * @param env the process environment (CONFIG_MAP_NAME, OPERATOR_NAMESPACE)
 * @returns the ConfigMap location: default `postgres-operator` in OPERATOR_NAMESPACE (else `default`)
 */
export function configLocation(env: Record<string, string | undefined>): ConfigLocation {
  const operatorNamespace = env.OPERATOR_NAMESPACE || 'default';
  const name = env.CONFIG_MAP_NAME || 'postgres-operator';
  const [namespace, configMap] = name.includes('/')
    ? (name.split('/', 2) as [string, string])
    : [operatorNamespace, name];
  return { namespace, name: configMap };
}

/** Where the config in use came from: the ConfigMap's `data`, or its last applied annotation (the data is invalid). */
export type ConfigSource = 'current' | 'last-applied';

/** What the operator ConfigMap held, beside the parsed config: the handler of its changes needs both. */
export interface ConfigMapState {
  /** whether the ConfigMap exists (a missing one means all defaults, and has nowhere to record what was applied) */
  exists: boolean;
  /** the ConfigMap's `data` (undefined: no ConfigMap, or no data) */
  data?: ConfigData;
  /** the data last applied to the fleet, from the `acid.zalan.do/last-applied-config` annotation */
  lastApplied?: ConfigData;
}

/**
 * The loaded config. `ok` with `source: 'last-applied'` when the current data is invalid but the last applied one
 * is not: `currentErrors` holds what is wrong with the current data and `warnings` starts with a sentence naming
 * the invalid keys. Not `ok` (only the errors of the current data) when the data is invalid and no valid
 * configuration was applied before.
 */
export type LoadedConfig =
  | ({
      ok: true;
      config: OperatorConfig;
      warnings: string[];
      source: ConfigSource;
      currentErrors: ConfigError[];
    } & ConfigMapState)
  | ({ ok: false; errors: ConfigError[] } & ConfigMapState);

/**
 * Reads and parses the operator ConfigMap; when its data is invalid, uses the last applied data (annotation
 * `acid.zalan.do/last-applied-config`, see `config-history.ts`), so an invalid edit disrupts nothing: clusters
 * keep being synced, and new ones created, under the last good configuration.
 * @param knownVersion the ConfigMap's resourceVersion as the event's sender saw it: when the config of that version
 *   was read before in this process, it is used without a GET
 * @returns the config and where it came from, or the errors of the current data; throws KubeApiError when the API
 *   cannot be read
 */
export async function loadOperatorConfig(
  client: KubeClient,
  location: ConfigLocation,
  env: Record<string, string | undefined>,
  knownVersion?: string,
): Promise<LoadedConfig> {
  const where = `${location.namespace}/${location.name}`;
  const parsed = lastParsed.get(where);
  if (knownVersion !== undefined && parsed?.version === knownVersion) return structuredClone(parsed.loaded);
  const configMap = await client.get<V1ConfigMap>({ kind: 'ConfigMap', ...location });
  const loaded = parseLoaded(configMap, location, env);
  const version = configMap?.metadata?.resourceVersion;
  if (version) lastParsed.set(where, { version, loaded: structuredClone(loaded) });
  return loaded;
}

/**
 * The config last read of each ConfigMap (`namespace/name`) with its resourceVersion, per process: an event that
 * names that version (`knownVersion`, the bridge's `configversion`) is served from it, without a GET. The
 * environment read with it (`WATCHED_NAMESPACE`, `SCALYR_API_KEY`) does not change in a process.
 */
const lastParsed = new Map<string, { version: string; loaded: LoadedConfig }>();

function parseLoaded(
  configMap: V1ConfigMap | undefined,
  location: ConfigLocation,
  env: Record<string, string | undefined>,
): LoadedConfig {
  const data: ConfigData | undefined = configMap?.data;
  const lastApplied = lastAppliedData(configMap);
  const state: ConfigMapState = {
    exists: configMap !== undefined,
    ...(data ? { data } : {}),
    ...(lastApplied ? { lastApplied } : {}),
  };
  const configEnv = { WATCHED_NAMESPACE: env.WATCHED_NAMESPACE, SCALYR_API_KEY: env.SCALYR_API_KEY };
  const current = parseOperatorConfig(data, configEnv);
  if (current.ok) return { ...current, source: 'current', currentErrors: [], ...state };
  const fallback = lastApplied ? parseOperatorConfig(lastApplied, configEnv) : undefined;
  if (!fallback?.ok) return { ok: false, errors: current.errors, ...state };
  const keys = [...new Set(current.errors.map((e) => e.key))].join(', ');
  const warning =
    `the operator ConfigMap ${location.namespace}/${location.name} is invalid (${keys}): ` +
    `the last applied configuration is used until it is fixed`;
  return {
    ok: true,
    config: fallback.config,
    warnings: [warning, ...fallback.warnings],
    source: 'last-applied',
    currentErrors: current.errors,
    ...state,
  };
}
