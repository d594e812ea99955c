/**
 * What the main job installs before it starts the local processes: the RBAC of every function (as the deploy
 * targets generate it), the `postgres-pod` ClusterRole and the operator ConfigMap (manifests/configmap.yaml).
 * The CRD is installed separately, because it must be established before anything uses it.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { DesiredObject } from '../../lib/builders/object-meta';
import { commonObjects } from './common';
import { defaultOptions, repoRoot } from './options';

/** @returns the RBAC objects and the operator ConfigMap for an operator running in `namespace`, watching all namespaces */
export function operatorObjects(namespace: string): DesiredObject[] {
  const options = {
    ...defaultOptions(),
    namespace,
    configMap: { namespace, name: 'postgres-operator' },
    includeCrd: false,
  };
  const configMap = parse(readFileSync(`${repoRoot}manifests/configmap.yaml`, 'utf8')) as DesiredObject;
  return [
    ...commonObjects(options),
    { ...configMap, metadata: { ...configMap.metadata, name: 'postgres-operator', namespace } },
  ];
}
