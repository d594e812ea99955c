/**
 * The `PostgresTeam` custom resource (`acid.zalan.do/v1`, plural `postgresteams`, short name `pgteam`): extra teams,
 * superuser teams and members for the clusters of a team, as Zalando's operator reads them with
 * `enable_postgres_team_crd`. The zod schema validates an object; `postgres-team-crd.ts` turns it into the CRD.
 *
 * Every map is team id -> list of team ids (or of user names for `additionalMembers`); a list may be null, as
 * Zalando's CRD allows (`nullable: true`), and counts as empty.
 *
 * Source: Zalando postgres-operator docs, user.md ("Additional teams and members per cluster"),
 * manifests/postgresteam.crd.yaml (v1.15.1).
 */
import * as z from 'zod';

/** Group, version and names of the PostgresTeam resource. */
export const POSTGRES_TEAM = {
  group: 'acid.zalan.do',
  version: 'v1',
  apiVersion: 'acid.zalan.do/v1',
  kind: 'PostgresTeam',
  plural: 'postgresteams',
} as const;

const teamMap = (description: string, items: string) =>
  z
    .record(
      z.string(),
      z
        .array(z.string())
        .nullable()
        .meta({ description: `List of ${items}` }),
    )
    .meta({ description });

/** `spec` of a PostgresTeam object. */
export const postgresTeamSpec = z
  .object({
    additionalSuperuserTeams: teamMap(
      'Team id -> teams whose members become Postgres superusers in the clusters of that team',
      'teams whose members become Postgres superusers',
    ).optional(),
    additionalTeams: teamMap(
      'Team id -> teams whose members are also added to the clusters of that team',
      'teams whose members are also added to the Postgres cluster',
    ).optional(),
    additionalMembers: teamMap(
      'Team id -> users added to the clusters of that team as if they were its members',
      'users who are also added to the Postgres cluster',
    ).optional(),
  })
  .meta({ description: 'Additional teams and members per team id' });

/** The spec of a PostgresTeam, as parsed. */
export type PostgresTeamSpec = z.infer<typeof postgresTeamSpec>;

/** A PostgresTeam object as read from the API (only what the operator uses). */
export interface PostgresTeam {
  metadata: { name?: string; namespace?: string };
  spec: PostgresTeamSpec;
}

/**
 * @param raw an object as read from the API
 * @returns the object with its spec parsed, or the problem (path and message) when the spec does not match the schema
 */
export function parsePostgresTeam(
  raw: unknown,
): { ok: true; team: PostgresTeam } | { ok: false; name: string; problem: string } {
  const object = (raw ?? {}) as { metadata?: { name?: string; namespace?: string }; spec?: unknown };
  const metadata = { name: object.metadata?.name, namespace: object.metadata?.namespace };
  const name = `${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
  const parsed = postgresTeamSpec.safeParse(object.spec ?? {});
  if (parsed.success) return { ok: true, team: { metadata, spec: parsed.data } };
  const issue = parsed.error.issues[0]!;
  return { ok: false, name, problem: `spec.${issue.path.join('.')}: ${issue.message}` };
}
