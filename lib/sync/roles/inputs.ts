/**
 * Reads the inputs of role sync that live outside the manifest: the credentials Secrets' passwords, the
 * infrastructure roles (Secrets and ConfigMaps, both formats); team members are read in `teams.ts`. Names of Secrets given
 * without a namespace are in the operator namespace (env `OPERATOR_NAMESPACE`, else `default`). Nothing here logs
 * or returns Secret data except the passwords handed to the planner.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (infrastructure_roles_secret_name,
 * infrastructure_roles_secrets, oauth_token_secret_name, teams_api_url, postgres_superuser_teams), user.md
 * ("Infrastructure roles", "Teams API roles").
 */
import { secretUsers } from '../../builders';
import { secretName } from '../../builders/names';
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { KubeObject } from '../../k8s/client';
import type { Postgresql } from '../../model/postgresql';
import {
  definedInfrastructureRole,
  legacyInfrastructureRoles,
  parseInfrastructureRoleDefinitions,
  type SourceRoles,
} from '../../roles/sources';
import type { SyncContext } from '../context';

/** `name` or `namespace/name`, resolved against the operator namespace. */
export function namespacedName(value: string, operatorNamespace: string): { namespace: string; name: string } {
  const at = value.indexOf('/');
  return at < 0
    ? { namespace: operatorNamespace, name: value }
    : { namespace: value.slice(0, at), name: value.slice(at + 1) };
}

const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/**
 * @param observed the cluster's children read by this sync (its credentials Secrets are there)
 * @returns user -> password of every credentials Secret that exists (system and manifest LOGIN users)
 */
export function secretPasswords(
  ctx: SyncContext,
  cluster: Postgresql,
  observed: ReadonlyMap<string, KubeObject>,
): Record<string, string> {
  const passwords: Record<string, string> = {};
  for (const user of secretUsers(cluster, ctx.config).users) {
    const secret: V1Secret | undefined = observed.get(`Secret/${secretName(ctx.config, cluster.metadata.name, user)}`);
    const value = secret?.data?.password;
    if (value) passwords[user] = Buffer.from(value, 'base64').toString('utf8');
  }
  return passwords;
}

/** Infrastructure roles, and problems with their definitions (as messages). */
export interface InfrastructureInputs {
  sources: SourceRoles[];
  errors: string[];
}

async function secretAndConfigMap(ctx: SyncContext, ref: { namespace: string; name: string }) {
  const [secret, configMap] = await Promise.all([
    ctx.client.get<V1Secret>({ kind: 'Secret', ...ref }, ctx.signal),
    ctx.client.get<V1ConfigMap>({ kind: 'ConfigMap', ...ref }, ctx.signal),
  ]);
  return { secret: secret ? decode(secret.data) : undefined, configMap: configMap?.data };
}

/** @returns the infrastructure roles of both formats; throws KubeApiError when the API cannot be read */
export async function readInfrastructureRoles(
  ctx: SyncContext,
  operatorNamespace: string,
): Promise<InfrastructureInputs> {
  const sources: SourceRoles[] = [];
  const errors: string[] = [];
  if (ctx.config.infrastructure_roles_secret_name) {
    const ref = namespacedName(ctx.config.infrastructure_roles_secret_name, operatorNamespace);
    const where = `${ref.namespace}/${ref.name}`;
    const { secret, configMap } = await secretAndConfigMap(ctx, ref);
    if (secret) sources.push(legacyInfrastructureRoles(secret, configMap, where));
    else errors.push(`infrastructure roles Secret ${where} (infrastructure_roles_secret_name) does not exist`);
  }
  const parsed = parseInfrastructureRoleDefinitions(ctx.config.infrastructure_roles_secrets);
  errors.push(...parsed.errors);
  for (const definition of parsed.definitions) {
    const ref = namespacedName(definition.secretname, operatorNamespace);
    const where = `${ref.namespace}/${ref.name}`;
    const { secret, configMap } = await secretAndConfigMap(ctx, ref);
    if (secret) sources.push(definedInfrastructureRole(definition, secret, configMap, where));
    else errors.push(`infrastructure roles Secret ${where} (infrastructure_roles_secrets) does not exist`);
  }
  return { sources, errors };
}
