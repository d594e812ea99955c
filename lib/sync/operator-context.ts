/**
 * Everything an invocation needs before it can sync: the client, the operator config read from its ConfigMap, and
 * the password key. A config with invalid values yields its errors instead (the caller reports them).
 */
import type { KubeClient } from '../k8s/client';
import type { Logger } from '../log/logger';
import type { ConfigError } from '../model/config';
import { configLocation, loadOperatorConfig, type ConfigLocation } from './operator-config';
import { derivedPasswords, loadPasswordKey } from './passwords';
import type { SyncContext } from './sync-cluster';

export type OperatorContextResult =
  | { ok: true; ctx: SyncContext; location: ConfigLocation; warnings: string[] }
  | { ok: false; location: ConfigLocation; errors: ConfigError[] };

/**
 * @param env process environment: CONFIG_MAP_NAME, OPERATOR_NAMESPACE, WATCHED_NAMESPACE
 * @returns a sync context, or the config errors; throws KubeApiError when the API cannot be read
 */
export async function createOperatorContext(client: KubeClient, log: Logger, env: Record<string, string | undefined>,
  signal?: AbortSignal): Promise<OperatorContextResult> {
  const location = configLocation(env);
  const [config, key] = await Promise.all([loadOperatorConfig(client, location, env), loadPasswordKey(client, location.namespace)]);
  if (!config.ok) return { ok: false, location, errors: config.errors };
  const ctx: SyncContext = { client, config: config.config, log, now: () => new Date(), newPassword: derivedPasswords(key), signal,
    operatorNamespace: location.namespace };
  return { ok: true, ctx, location, warnings: config.warnings };
}
