/**
 * Reads the team members a cluster gets: the PostgresTeam objects (with `enable_postgres_team_crd`) and the Teams
 * API members of every team involved (with `enable_teams_api`), merged by `lib/roles/postgres-teams.ts`.
 *
 * PostgresTeam objects are listed in the watched namespaces (`watched_namespace`; all namespaces with `*`), as
 * Zalando's operator loads them; one that does not match the schema is skipped with a warning naming it.
 *
 * With `enable_teams_api` on and `teams_api_url` still Zalando's placeholder (`https://teams.example.com/api/`, the
 * default a user without a ConfigMap meets first), the API is not asked: team roles are left as they are and the
 * condition says why, instead of a `TeamsApiUnavailable` against a host that cannot exist.
 *
 * Source: Zalando postgres-operator docs, user.md ("Teams API roles", "Additional teams and members per
 * cluster"), reference/operator_parameters.md (enable_teams_api, teams_api_url, oauth_token_secret_name,
 * enable_postgres_team_crd, postgres_superuser_teams).
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { KubeObject } from '../../k8s/client';
import { KubeApiError } from '../../k8s/errors';
import { watchedNamespaces } from '../../model/config';
import type { Postgresql } from '../../model/postgresql';
import { parsePostgresTeam, type PostgresTeamSpec } from '../../model/postgres-team';
import { clusterTeams, mergePostgresTeams, teamMembers, type PostgresTeamMap } from '../../roles/postgres-teams';
import { fetchTeamMembers } from '../../teams/teams-api';
import { teamsApiToken } from '../../teams/token';
import type { SyncContext } from '../context';
import { namespacedName } from './inputs';

/** Team members for the role sources, or why team roles are left as they are this time. */
export type TeamInputs =
  | {
      ok: true;
      members: string[];
      superuserMembers: string[];
      /** problems worth a warning (an unknown team, a PostgresTeam object that does not parse) */
      warnings: string[];
    }
  | { ok: false; error: string; retryable: boolean };

/** `teams_api_url`'s default: Zalando's placeholder, a host that does not exist. */
export const PLACEHOLDER_TEAMS_API_URL = 'https://teams.example.com/api/';

/** @returns whether the Teams API is to be asked: on, and pointed somewhere real */
export function teamsApiInUse(config: SyncContext['config']): boolean {
  return config.enable_teams_api && config.teams_api_url !== PLACEHOLDER_TEAMS_API_URL;
}

/**
 * @returns the merged PostgresTeam objects of the watched namespaces, and a warning per object that does not parse
 *   (or that the CRD is not installed); throws KubeApiError when they cannot be listed
 */
export async function readPostgresTeams(
  ctx: SyncContext,
  operatorNamespace: string,
): Promise<{ map: PostgresTeamMap; warnings: string[] }> {
  const watched = watchedNamespaces(ctx.config, operatorNamespace);
  let lists: KubeObject[][];
  try {
    lists = await Promise.all(
      (watched === '*' ? [undefined] : watched).map((namespace) =>
        ctx.client.list('PostgresTeam', namespace, undefined, ctx.signal),
      ),
    );
  } catch (error) {
    // 404 on the collection: the CRD is not installed; say so instead of failing every role sync
    if (!(error instanceof KubeApiError) || error.status !== 404) throw error;
    const crd = 'the PostgresTeam CRD is not installed (manifests/postgresteam.crd.yaml)';
    return { map: mergePostgresTeams([]), warnings: [`enable_postgres_team_crd is on but ${crd}`] };
  }
  const specs: PostgresTeamSpec[] = [];
  const warnings: string[] = [];
  for (const raw of lists.flat()) {
    const parsed = parsePostgresTeam(raw);
    if (parsed.ok) specs.push(parsed.team.spec);
    else warnings.push(`PostgresTeam ${parsed.name} skipped: ${parsed.problem}`);
  }
  return { map: mergePostgresTeams(specs), warnings };
}

/**
 * Members of the owning team, of the additional teams and of the superuser teams. An unknown team (404) has no
 * members and gives a warning; any other Teams API failure fails the whole read, so team roles stay as they are.
 * @returns undefined when neither the Teams API nor PostgresTeam objects are in use (team roles are then left
 *   alone); throws KubeApiError when the token Secret or the PostgresTeam objects cannot be read
 */
export async function readTeamMembers(
  ctx: SyncContext,
  cluster: Postgresql,
  operatorNamespace: string,
): Promise<TeamInputs | undefined> {
  const { config } = ctx;
  const useApi = teamsApiInUse(config);
  if (!useApi && !config.enable_postgres_team_crd) return undefined;
  const crd = config.enable_postgres_team_crd ? await readPostgresTeams(ctx, operatorNamespace) : undefined;
  const teams = clusterTeams(cluster.spec.teamId ?? '', crd?.map, config);
  const warnings = [...(crd?.warnings ?? [])];
  const apiMembers: Record<string, string[]> = {};
  if (useApi) {
    const ref = namespacedName(config.oauth_token_secret_name, operatorNamespace);
    const secret = await ctx.client.get<V1Secret>({ kind: 'Secret', ...ref }, ctx.signal);
    const token = teamsApiToken(secret?.data, `${ref.namespace}/${ref.name}`);
    if (!token.ok) return { ok: false, error: token.error, retryable: false };
    // The owning team first: its answer is the one a failure message names when every query fails alike.
    const involved = new Set([...teams.teams, ...teams.superuserTeams]);
    const asked = [...new Set([cluster.spec.teamId ?? '', ...teams.teams, ...teams.superuserTeams])].filter((t) =>
      involved.has(t),
    );
    const results = await Promise.all(
      asked.map((teamId) =>
        fetchTeamMembers({ url: config.teams_api_url, teamId, token: token.token, signal: ctx.signal }),
      ),
    );
    for (const [i, result] of results.entries()) {
      if (result.ok) apiMembers[asked[i]!] = result.members;
      else if (result.notFound) warnings.push(`team ${JSON.stringify(asked[i])} not found in the Teams API`);
      else return { ok: false, error: result.error, retryable: result.retryable };
    }
  }
  return { ok: true, ...teamMembers(teams, apiMembers), warnings };
}

/**
 * @returns why the Teams API is not asked although `enable_teams_api` is on (its URL is the placeholder), for the
 *   condition message; undefined otherwise
 */
export function teamsApiNotAsked(config: SyncContext['config']): string | undefined {
  if (!config.enable_teams_api || teamsApiInUse(config)) return undefined;
  return `Teams API not asked: enable_teams_api is on but teams_api_url is the placeholder ${PLACEHOLDER_TEAMS_API_URL} (set teams_api_url, or enable_teams_api: "false")`;
}
