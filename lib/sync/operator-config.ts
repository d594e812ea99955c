/**
 * Reads the operator ConfigMap and parses it. The ConfigMap is named by env `CONFIG_MAP_NAME` (`namespace/name`
 * or `name`, in the operator namespace), as in Zalando's operator; a missing ConfigMap means all defaults.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md ("ConfigMap").
 */
import type { KubeClient } from '../k8s/client';
import { parseOperatorConfig, type ConfigResult } from '../model/config';

/** Where the operator ConfigMap lives. */
export interface ConfigLocation { namespace: string; name: string }

/**
 * @param env the process environment (CONFIG_MAP_NAME, OPERATOR_NAMESPACE)
 * @returns the ConfigMap location: default `postgres-operator` in OPERATOR_NAMESPACE (else `default`)
 */
export function configLocation(env: Record<string, string | undefined>): ConfigLocation {
  const operatorNamespace = env.OPERATOR_NAMESPACE || 'default';
  const name = env.CONFIG_MAP_NAME || 'postgres-operator';
  const [namespace, configMap] = name.includes('/') ? name.split('/', 2) as [string, string] : [operatorNamespace, name];
  return { namespace, name: configMap };
}

/** @returns the parsed config (or its errors); throws KubeApiError when the API cannot be read */
export async function loadOperatorConfig(client: KubeClient, location: ConfigLocation,
  env: Record<string, string | undefined>): Promise<ConfigResult> {
  const configMap = await client.get<{ data?: Record<string, string> }>({ kind: 'ConfigMap', ...location });
  return parseOperatorConfig(configMap?.data, { WATCHED_NAMESPACE: env.WATCHED_NAMESPACE });
}
