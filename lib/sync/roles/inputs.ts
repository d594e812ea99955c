/**
 * Reads the inputs of role sync that live outside the manifest: the credentials Secrets' passwords, the
 * infrastructure roles (Secrets and ConfigMaps, both formats) and the Teams API members. Names of Secrets given
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
import { fetchTeamMembers, type TeamResult } from '../../teams/teams-api';
import { teamsApiToken } from '../../teams/token';
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

/** Team members from the Teams API, or why there are none this time. */
export type TeamInputs =
  | { ok: true; members: string[]; superuserMembers: string[]; warnings: string[] }
  | { ok: false; error: string; retryable: boolean };

/**
 * Members of the owning team and of `postgres_superuser_teams` (queried in parallel). An unknown team (404) has
 * no members and gives a warning; any other failure fails the whole read, so team roles stay as they are.
 * @returns undefined when `enable_teams_api` is false; throws KubeApiError when the token Secret cannot be read
 */
export async function readTeamMembers(
  ctx: SyncContext,
  cluster: Postgresql,
  operatorNamespace: string,
): Promise<TeamInputs | undefined> {
  if (!ctx.config.enable_teams_api) return undefined;
  const ref = namespacedName(ctx.config.oauth_token_secret_name, operatorNamespace);
  const secret = await ctx.client.get<V1Secret>({ kind: 'Secret', ...ref }, ctx.signal);
  const token = teamsApiToken(secret?.data, `${ref.namespace}/${ref.name}`);
  if (!token.ok) return { ok: false, error: token.error, retryable: false };
  const teams = [cluster.spec.teamId, ...ctx.config.postgres_superuser_teams];
  const results: TeamResult[] = await Promise.all(
    teams.map((teamId) =>
      fetchTeamMembers({ url: ctx.config.teams_api_url, teamId, token: token.token, signal: ctx.signal }),
    ),
  );
  const warnings: string[] = [];
  const members: string[][] = [];
  for (const [i, result] of results.entries()) {
    if (result.ok) members.push(result.members);
    else if (result.notFound) {
      warnings.push(`team ${JSON.stringify(teams[i])} not found in the Teams API`);
      members.push([]);
    } else return { ok: false, error: result.error, retryable: result.retryable };
  }
  return { ok: true, members: members[0]!, superuserMembers: [...new Set(members.slice(1).flat())].sort(), warnings };
}
