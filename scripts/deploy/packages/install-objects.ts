/**
 * What an installation package holds beyond a target's objects: the operator's Namespace and its ConfigMap
 * (manifests/configmap.yaml, the settings the functions start with), and the options the packages are generated
 * with.
 *
 * Source: Zalando postgres-operator docs "Configuration parameters" (the ConfigMap `postgres-operator`, read from
 * the operator's namespace, env CONFIG_MAP_NAME).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { DesiredObject } from '../meta';
import { labels } from '../meta';
import { defaultOptions, repoRoot, type DeployOptions } from '../options';

/** The namespace the packages install into (kustomize: fixed; Helm: the release namespace). */
export const PACKAGE_NAMESPACE = 'postgres-operator';
/** The operator ConfigMap's name (Zalando's default CONFIG_MAP_NAME). */
export const CONFIG_MAP = 'postgres-operator';

/** @returns the deploy options of the packages: namespace `postgres-operator`, every namespace watched */
export function packageOptions(overrides: Partial<DeployOptions> = {}): DeployOptions {
  const namespace = overrides.namespace ?? PACKAGE_NAMESPACE;
  return {
    ...defaultOptions(),
    namespace,
    configMap: { namespace, name: CONFIG_MAP },
    ...overrides,
  };
}

/** @returns the operator's Namespace */
export function namespaceObject(name: string): DesiredObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: labels('namespace') } };
}

/** @returns the `data` of manifests/configmap.yaml (string values, as the API stores them) */
export function operatorConfigData(): Record<string, string> {
  const configMap = parse(readFileSync(`${repoRoot}manifests/configmap.yaml`, 'utf8')) as {
    data: Record<string, string>;
  };
  return configMap.data;
}

/** @returns the operator ConfigMap in `namespace`, with the data of manifests/configmap.yaml */
export function operatorConfigMap(namespace: string, data = operatorConfigData()): DesiredObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CONFIG_MAP, namespace, labels: labels('config') },
    data,
  };
}
