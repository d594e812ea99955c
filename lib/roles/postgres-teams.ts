/**
 * PostgresTeam objects -> the teams and members of one cluster's owning team, as Zalando's operator computes them
 * with `enable_postgres_team_crd`:
 *
 * - every PostgresTeam object read is merged into one map per team id (lists unioned);
 * - superuser teams = the transitive closure of `additionalSuperuserTeams[teamId]` (only with
 *   `enable_postgres_team_crd_superusers`) plus `postgres_superuser_teams`;
 * - additional teams = the transitive closure of `additionalTeams[teamId]`, without the superuser teams;
 * - the members of a team = `additionalMembers[team]` plus its Teams API members (when the API is on);
 * - when the owning team is itself a superuser team, its members get superuser roles only.
 *
 * Pure: the objects and the Teams API answers are read by the caller.
 *
 * Source: Zalando postgres-operator docs, user.md ("Additional teams and members per cluster"),
 * administrator.md ("PostgresTeam CRD"), reference/operator_parameters.md (enable_postgres_team_crd,
 * enable_postgres_team_crd_superusers, postgres_superuser_teams).
 */
import type { OperatorConfig } from '../model/config';
import type { PostgresTeamSpec } from '../model/postgres-team';

/** The merged PostgresTeam objects: team id -> its additional superuser teams, teams and members (sorted). */
export type PostgresTeamMap = ReadonlyMap<
  string,
  { additionalSuperuserTeams: string[]; additionalTeams: string[]; additionalMembers: string[] }
>;

type Field = 'additionalSuperuserTeams' | 'additionalTeams' | 'additionalMembers';
const FIELDS: readonly Field[] = ['additionalSuperuserTeams', 'additionalTeams', 'additionalMembers'];

/** @returns one entry per team id named in any object, its lists unioned over all objects and sorted */
export function mergePostgresTeams(specs: readonly PostgresTeamSpec[]): PostgresTeamMap {
  const sets = new Map<string, Record<Field, Set<string>>>();
  for (const spec of specs) {
    for (const field of FIELDS) {
      for (const [team, list] of Object.entries(spec[field] ?? {})) {
        let entry = sets.get(team);
        if (!entry)
          sets.set(
            team,
            (entry = { additionalSuperuserTeams: new Set(), additionalTeams: new Set(), additionalMembers: new Set() }),
          );
        for (const item of list ?? []) entry[field].add(item);
      }
    }
  }
  return new Map(
    [...sets].map(([team, entry]) => [
      team,
      {
        additionalSuperuserTeams: [...entry.additionalSuperuserTeams].sort(),
        additionalTeams: [...entry.additionalTeams].sort(),
        additionalMembers: [...entry.additionalMembers].sort(),
      },
    ]),
  );
}

/** @returns the teams reachable from `team` through `field` (the team itself excluded), in discovery order */
function closure(map: PostgresTeamMap, team: string, field: 'additionalSuperuserTeams' | 'additionalTeams'): string[] {
  const seen = new Set([team]);
  const found: string[] = [];
  const queue = [team];
  while (queue.length) {
    for (const next of map.get(queue.shift()!)?.[field] ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      found.push(next);
      queue.push(next);
    }
  }
  return found;
}

/** Which teams' members a cluster of `teamId` gets, and how. */
export interface ClusterTeams {
  /** teams whose members become SUPERUSER (sorted) */
  superuserTeams: string[];
  /** the owning team, unless it is a superuser team, and the additional teams (sorted): members get the admin role */
  teams: string[];
  /** team id -> members given by PostgresTeam objects (`additionalMembers`), for every team above that has some */
  additionalMembers: Record<string, string[]>;
}

/**
 * @param teamId the cluster's `spec.teamId` (empty: no team, as Zalando warns "no teamId specified")
 * @param map the merged PostgresTeam objects; undefined when `enable_postgres_team_crd` is off
 */
export function clusterTeams(
  teamId: string,
  map: PostgresTeamMap | undefined,
  config: Pick<OperatorConfig, 'postgres_superuser_teams' | 'enable_postgres_team_crd_superusers'>,
): ClusterTeams {
  const superuser = new Set<string>([
    ...(map && config.enable_postgres_team_crd_superusers && teamId
      ? closure(map, teamId, 'additionalSuperuserTeams')
      : []),
    ...config.postgres_superuser_teams,
  ]);
  const teams = new Set<string>();
  if (teamId && !superuser.has(teamId)) teams.add(teamId);
  if (map && teamId)
    for (const team of closure(map, teamId, 'additionalTeams')) if (!superuser.has(team)) teams.add(team);
  const additionalMembers: Record<string, string[]> = {};
  for (const team of [...superuser, ...teams]) {
    const members = map?.get(team)?.additionalMembers ?? [];
    if (members.length) additionalMembers[team] = members;
  }
  return { superuserTeams: [...superuser].sort(), teams: [...teams].sort(), additionalMembers };
}

/**
 * @param teams what `clusterTeams` gave
 * @param apiMembers team id -> its Teams API members, for the teams the API was asked about (none when it is off)
 * @returns the members of the non-superuser teams and of the superuser teams (sorted, unique); a member of both is a
 *   superuser only
 */
export function teamMembers(
  teams: ClusterTeams,
  apiMembers: Readonly<Record<string, readonly string[]>>,
): { members: string[]; superuserMembers: string[] } {
  const of = (team: string) => [...(teams.additionalMembers[team] ?? []), ...(apiMembers[team] ?? [])];
  const superuserMembers = new Set(teams.superuserTeams.flatMap(of));
  const members = new Set(teams.teams.flatMap(of).filter((m) => !superuserMembers.has(m)));
  return { members: [...members].sort(), superuserMembers: [...superuserMembers].sort() };
}

/** @returns every team id a spec names: the keys of its maps and the teams in its team lists (sorted) */
export function teamsNamed(spec: PostgresTeamSpec | undefined): string[] {
  if (!spec) return [];
  const named = new Set<string>();
  for (const map of [spec.additionalSuperuserTeams, spec.additionalTeams, spec.additionalMembers])
    for (const team of Object.keys(map ?? {})) named.add(team);
  for (const map of [spec.additionalSuperuserTeams, spec.additionalTeams])
    for (const teams of Object.values(map ?? {})) for (const team of teams ?? []) named.add(team);
  return [...named].sort();
}

/**
 * Whether a change of PostgresTeam objects that names `named` teams may change the roles of a cluster of `teamId`:
 * its team, or a team it reaches through the merged `additionalTeams` / `additionalSuperuserTeams` (followed even
 * when superuser teams are off: a sync that finds nothing to change costs one catalog read), is among them.
 */
export function teamChangeConcerns(teamId: string, map: PostgresTeamMap, named: ReadonlySet<string>): boolean {
  if (!teamId) return false;
  const teams = clusterTeams(teamId, map, { postgres_superuser_teams: [], enable_postgres_team_crd_superusers: true });
  return [teamId, ...teams.teams, ...teams.superuserTeams].some((team) => named.has(team));
}
