/**
 * The bridge's settings: function URLs, port, schedule and delivery tuning from the environment, and the two
 * operator-config values it acts on (`watched_namespace`, `node_readiness_label`, `cluster_labels`,
 * `enable_postgres_team_crd`) from the operator ConfigMap.
 *
 * Source: Zalando operator parameters (`watched_namespace`, `node_readiness_label`, env `WATCHED_NAMESPACE`,
 * `CONFIG_MAP_NAME`); Kubernetes DNS for Services (`<service>.<namespace>.svc.cluster.local`).
 */
import { DEFAULT_SYNC_SCHEDULE, FUNCTIONS } from '../registry/functions';
import { parseOperatorConfig, watchedNamespaces, type ConfigError } from '../model/config';

/** Function name → URL of its HTTP endpoint. */
export type Targets = Record<string, string>;

/** Default URL template: a function's Service in the cluster, on the Kubeless runtime port. */
export const DEFAULT_URL_TEMPLATE = 'http://{name}.{namespace}.svc.cluster.local:8080/';

/**
 * @param text `BRIDGE_TARGETS`: `on-create=http://127.0.0.1:8081,on-update=...` or a JSON object
 * @returns the map; throws naming the entry at fault for an unknown function, a missing `=` or a bad URL
 */
export function parseTargets(text: string): Targets {
  const trimmed = text.trim();
  let entries: [string, unknown][];
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new Error(`BRIDGE_TARGETS is not valid JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('BRIDGE_TARGETS JSON must be an object of function name → URL');
    entries = Object.entries(parsed);
  } else {
    entries = trimmed
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const at = part.indexOf('=');
        if (at <= 0) throw new Error(`BRIDGE_TARGETS entry ${JSON.stringify(part)} is not name=url`);
        return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
      });
  }
  const known = FUNCTIONS.map((f) => f.name);
  const targets: Targets = {};
  for (const [name, url] of entries) {
    if (!known.includes(name))
      throw new Error(`BRIDGE_TARGETS names unknown function ${JSON.stringify(name)}; known: ${known.join(', ')}`);
    if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new Error(`BRIDGE_TARGETS URL for ${name} is not an http(s) URL: ${JSON.stringify(url)}`);
    }
    targets[name] = url;
  }
  return targets;
}

/**
 * @returns the URL of every function events start (not the operator API's: it is called over HTTP) from a template
 *   with `{name}` and `{namespace}` placeholders
 */
export function templateTargets(template: string, namespace: string): Targets {
  return Object.fromEntries(
    FUNCTIONS.filter((f) => f.trigger.type !== 'http').map((f) => [
      f.name,
      template.replaceAll('{name}', f.name).replaceAll('{namespace}', namespace),
    ]),
  );
}

/**
 * Function URLs from the environment:
 * - `BRIDGE_TARGETS` set: those URLs; the other functions get none (their changes are counted and dropped),
 *   unless `BRIDGE_FUNCTION_URL_TEMPLATE` is also set, which then fills them in;
 * - otherwise every function from `BRIDGE_FUNCTION_URL_TEMPLATE` (default {@link DEFAULT_URL_TEMPLATE}) in
 *   `FUNCTION_NAMESPACE` (default: `OPERATOR_NAMESPACE`, else `default`).
 */
export function targetsFromEnv(env: Record<string, string | undefined>): Targets {
  const explicit = env.BRIDGE_TARGETS?.trim() ? parseTargets(env.BRIDGE_TARGETS) : undefined;
  const template = env.BRIDGE_FUNCTION_URL_TEMPLATE?.trim() || (explicit ? undefined : DEFAULT_URL_TEMPLATE);
  const namespace = env.FUNCTION_NAMESPACE || env.OPERATOR_NAMESPACE || 'default';
  return { ...(template ? templateTargets(template, namespace) : {}), ...explicit };
}

/** The schedule of periodic-sync: `PERIODIC_SYNC_SCHEDULE` (5-field cron, or 6 with seconds), `off` disables. */
export function scheduleFromEnv(env: Record<string, string | undefined>): string | undefined {
  const value = env.PERIODIC_SYNC_SCHEDULE?.trim();
  if (value === undefined || value === '') return DEFAULT_SYNC_SCHEDULE;
  return ['off', 'false', 'none', 'disabled'].includes(value.toLowerCase()) ? undefined : value;
}

/**
 * @param name the variable, for the error message
 * @returns the integer value of an env variable, or the fallback when unset; throws for anything else
 */
export function intFromEnv(env: Record<string, string | undefined>, name: string, fallback: number, min = 0): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * The bridge's process settings from the environment, as `lib/bridge/main.ts` lists them (all but the targets):
 * `BRIDGE_PORT` (8090), `PERIODIC_SYNC_SCHEDULE`, `BRIDGE_WATCH_NODES`, `BRIDGE_COALESCE_MS` (200 ms),
 * `BRIDGE_CONCURRENCY` (16), `BRIDGE_REQUEST_TIMEOUT_MS` (300000 ms), `BRIDGE_MAX_RETRIES` (unset: no limit),
 * `BRIDGE_GRACE_MS` (5000 ms). Throws naming the variable at fault.
 */
export function bridgeSettingsFromEnv(env: Record<string, string | undefined>) {
  return {
    port: intFromEnv(env, 'BRIDGE_PORT', 8090),
    schedule: scheduleFromEnv(env) ?? (false as const),
    watchNodes: env.BRIDGE_WATCH_NODES?.trim().toLowerCase() !== 'false',
    coalesceMs: intFromEnv(env, 'BRIDGE_COALESCE_MS', 200),
    concurrency: intFromEnv(env, 'BRIDGE_CONCURRENCY', 16, 1),
    requestTimeoutMs: intFromEnv(env, 'BRIDGE_REQUEST_TIMEOUT_MS', 300_000, 1),
    retry: { maxRetries: intFromEnv(env, 'BRIDGE_MAX_RETRIES', Infinity) },
    graceMs: intFromEnv(env, 'BRIDGE_GRACE_MS', 5_000),
  };
}

/** What the bridge takes from the operator config. */
export interface OperatorSettings {
  /** `'*'` or the namespace list, from `watched_namespace` (env `WATCHED_NAMESPACE` wins) */
  namespaces: string[] | '*';
  /** `node_readiness_label`: labels a node must keep, or it is going away */
  readinessLabels: Record<string, string>;
  /** `cluster_labels`: the labels of every cluster's StatefulSet (default `application: spilo`) */
  clusterLabels: Record<string, string>;
  /** `enable_postgres_team_crd`: PostgresTeam objects are watched */
  postgresTeams: boolean;
  /** invalid values found; those keys were read as their defaults */
  errors: ConfigError[];
}

/**
 * Reads the operator ConfigMap's data like the functions do (`parseOperatorConfig`), except that an invalid
 * value of some other key does not stop the bridge from following `watched_namespace`: invalid keys are set
 * aside (reported in `errors`) and the rest is read again.
 *
 * @param data the ConfigMap's `data` (undefined when there is no ConfigMap: all defaults)
 * @param env `WATCHED_NAMESPACE`, which overrides the ConfigMap
 * @param operatorNamespace watched when `watched_namespace` is empty
 */
export function operatorSettings(
  data: Record<string, string> | undefined,
  env: { WATCHED_NAMESPACE?: string },
  operatorNamespace: string,
): OperatorSettings {
  let errors: ConfigError[] = [];
  let result = parseOperatorConfig(data, env);
  if (!result.ok) {
    errors = result.errors;
    const bad = new Set(errors.map((e) => e.key));
    result = parseOperatorConfig(Object.fromEntries(Object.entries(data ?? {}).filter(([key]) => !bad.has(key))), env);
  }
  const config = result.ok ? result.config : undefined;
  return {
    namespaces: watchedNamespaces(
      { watched_namespace: config?.watched_namespace ?? env.WATCHED_NAMESPACE ?? '' },
      operatorNamespace,
    ),
    readinessLabels: { ...(config?.node_readiness_label ?? {}) },
    clusterLabels: { ...(config?.cluster_labels ?? { application: 'spilo' }) },
    postgresTeams: config?.enable_postgres_team_crd ?? false,
    errors,
  };
}
