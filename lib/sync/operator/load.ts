/**
 * Everything an invocation needs before it can sync: the client, the operator config read from its ConfigMap, and
 * the password key. When the ConfigMap's data is invalid, the last applied configuration (its annotation) is used
 * and the result says so (`configSource`, `currentErrors`, a warning); only when there is none does the result
 * carry the errors instead of a context (the caller reports them and syncs nothing).
 */
import type { KubeClient } from '../../k8s/client';
import type { Logger } from '../../log/logger';
import type { ConfigError } from '../../model/config';
import { configLocation, loadOperatorConfig, type ConfigMapState, type ConfigSource } from './config';
import { derivedPasswords, loadPasswordKey } from './passwords';
import { syncContext, type ConfigLocation, type SyncContext } from '../context';

/**
 * - ok: a context to sync with. `configSource` `current`: the ConfigMap's data; `last-applied`: its data is
 *   invalid (`currentErrors`) and the last applied data is used; `warnings` holds unknown or deprecated keys and,
 *   for `last-applied`, a sentence naming the invalid keys.
 * - not ok: the data is invalid and no configuration was applied before; `errors` says what is wrong.
 * Both carry `configMap`: the data and last applied data as read (for `onOperatorConfigChange`, which needs no
 * second GET).
 */
export type OperatorContextResult =
  | {
      ok: true;
      ctx: SyncContext;
      location: ConfigLocation;
      warnings: string[];
      configSource: ConfigSource;
      currentErrors: ConfigError[];
      configMap: ConfigMapState;
    }
  | { ok: false; location: ConfigLocation; errors: ConfigError[]; configMap: ConfigMapState };

/**
 * @param env process environment: CONFIG_MAP_NAME, OPERATOR_NAMESPACE, WATCHED_NAMESPACE
 * @param configVersion the ConfigMap's resourceVersion as the event's sender saw it (`loadOperatorConfig`)
 * @returns a sync context, or the config errors; throws KubeApiError when the API cannot be read
 */
export async function createOperatorContext(
  client: KubeClient,
  log: Logger,
  env: Record<string, string | undefined>,
  signal?: AbortSignal,
  configVersion?: string,
): Promise<OperatorContextResult> {
  const location = configLocation(env);
  const [config, key] = await Promise.all([
    loadOperatorConfig(client, location, env, configVersion),
    loadPasswordKey(client, location.namespace),
  ]);
  const configMap: ConfigMapState = {
    exists: config.exists,
    ...(config.data ? { data: config.data } : {}),
    ...(config.lastApplied ? { lastApplied: config.lastApplied } : {}),
  };
  if (!config.ok) return { ok: false, location, errors: config.errors, configMap };
  if (config.source === 'last-applied')
    log.warn('Invalid operator configuration, using the last applied one', { reason: config.warnings[0] });
  const ctx = syncContext({
    client,
    config: config.config,
    log,
    now: () => new Date(),
    newPassword: derivedPasswords(key),
    signal,
    operatorNamespace: location.namespace,
  });
  return {
    ok: true,
    ctx,
    location,
    warnings: config.warnings,
    configSource: config.source,
    currentErrors: config.currentErrors,
    configMap,
  };
}
