/**
 * Objects every cluster target ships: the `postgresql` CRD, the ClusterRole of the database pods, and each
 * function's ServiceAccount and roles.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { FUNCTIONS, type FunctionSpec } from '../../lib/registry/functions';
import type { DesiredObject } from './meta';
import { repoRoot, type DeployOptions } from './options';
import { postgresPodClusterRole, rbacFor, type RbacScope } from './rbac';

/** @returns the RBAC scope of a deployment's options */
export function rbacScope(options: DeployOptions): RbacScope {
  return {
    namespace: options.namespace,
    configNamespace: options.configMap.namespace,
    watchedNamespaces: options.watchedNamespaces,
  };
}

/** @returns the generated CRD (manifests/postgresql.crd.yaml, kept current by `npm run crd`) */
export function postgresqlCrd(): DesiredObject {
  return parse(readFileSync(`${repoRoot}manifests/postgresql.crd.yaml`, 'utf8')) as DesiredObject;
}

/** @returns the PostgresTeam CRD (manifests/postgresteam.crd.yaml, kept current by `npm run crd`) */
export function postgresTeamCrd(): DesiredObject {
  return parse(readFileSync(`${repoRoot}manifests/postgresteam.crd.yaml`, 'utf8')) as DesiredObject;
}

/** @returns the CRDs (unless `--no-crd`), the `postgres-pod` ClusterRole and the RBAC of every function */
export function commonObjects(options: DeployOptions, functions: readonly FunctionSpec[] = FUNCTIONS): DesiredObject[] {
  return [
    ...(options.includeCrd ? [postgresqlCrd(), postgresTeamCrd()] : []),
    postgresPodClusterRole(),
    ...functions.flatMap((spec) => rbacFor(spec, rbacScope(options))),
  ];
}

/** @returns the functions started by a resource trigger, the scheduled ones, and those called over HTTP */
export function functionsByTrigger(): { resource: FunctionSpec[]; scheduled: FunctionSpec[]; http: FunctionSpec[] } {
  return {
    resource: FUNCTIONS.filter((f) => f.trigger.type === 'resource'),
    scheduled: FUNCTIONS.filter((f) => f.trigger.type === 'schedule'),
    http: FUNCTIONS.filter((f) => f.trigger.type === 'http'),
  };
}
