/**
 * Everything a cluster should have in PostgreSQL, from all sources at once: the merged roles (the connection
 * pooler's among them while a pooler runs) and the databases.
 *
 * Source: Zalando postgres-operator docs, user.md and administrator.md (role sources and priorities).
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { manifestDatabases, type DesiredDatabase } from './databases';
import { mergeRoles } from './merge';
import { poolerDatabaseState } from './pooler';
import { preparedDatabaseOwners, preparedDatabases, preparedRoles, type PreparedDatabase } from './prepared-databases';
import { manifestRoles, systemRoles, teamRoles, type SourceRoles } from './sources';
import type { DesiredRole, RoleNote } from './types';

/** The inputs read by the caller (Secrets, ConfigMaps, the Teams API). */
export interface RoleSourceInputs {
  cluster: Postgresql;
  config: OperatorConfig;
  /** user -> password of the credentials Secrets (system and manifest LOGIN users) */
  passwords: Readonly<Record<string, string>>;
  /** infrastructure roles, already read from their Secrets and ConfigMaps */
  infrastructure: readonly SourceRoles[];
  /** Teams API members; undefined when the API is off or failed (team roles are then left as they are) */
  team?: { members: readonly string[]; superuserMembers: readonly string[] };
}

/** The desired roles and databases, and every refusal with its reason. */
export interface DesiredState {
  roles: DesiredRole[];
  databases: DesiredDatabase[];
  /** `spec.preparedDatabases` with Zalando's defaults (their roles and databases are in `roles` and `databases`) */
  prepared: PreparedDatabase[];
  notes: RoleNote[];
}

/** @returns the merged roles (sorted), the databases (sorted) and the notes (in source order) */
export function desiredState(input: RoleSourceInputs): DesiredState {
  const manifest = manifestRoles(input.cluster, input.config, input.passwords);
  const team = input.team ? teamRoles(input.team.members, input.team.superuserMembers, input.config) : [];
  // The pooler's role is a system role while a pooler runs, as in Zalando (a manifest user of that name yields).
  const pooler = poolerDatabaseState(input.cluster, input.config, input.passwords);
  const prepared = preparedDatabases(input.cluster, input.config);
  const merged = mergeRoles(
    [
      ...preparedRoles(prepared.databases, input.config, input.passwords),
      ...manifest.roles,
      ...input.infrastructure.flatMap((source) => source.roles),
      ...team,
      ...systemRoles(input.config, input.passwords),
      ...(pooler ? [pooler.role] : []),
    ],
    input.config,
  );
  const roleNames = new Set(merged.roles.map((r) => r.name));
  const databases = manifestDatabases(input.cluster, roleNames);
  // A database also in spec.databases keeps that owner, as in Zalando (its entry overrides the prepared one).
  const preparedOwned = preparedDatabaseOwners(prepared.databases)
    .filter((d) => !databases.databases.some((m) => m.name === d.name) && roleNames.has(d.owner))
    .map((d) => ({ ...d, createOnly: true }));
  // Zalando writes the infrastructure password into the per-cluster Secret of the name (lib/sync/roles), which is
  // also the manifest user's Secret: said once, so nobody wonders why that Secret's password changed.
  const manifestNames = new Set(manifest.roles.map((r) => r.name));
  const secretNotes: RoleNote[] = merged.roles
    .filter((r) => r.origin === 'infrastructure' && typeof r.password === 'string' && manifestNames.has(r.name))
    .map((r) => ({
      name: r.name,
      origin: 'manifest',
      message: `the Secret of manifest user ${JSON.stringify(r.name)} holds the password of the infrastructure role of that name`,
    }));
  return {
    roles: merged.roles,
    databases: [...databases.databases, ...preparedOwned].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    ),
    // Only databases that will exist: one whose owner role was refused (a name too long, upper case) is not made.
    prepared: prepared.databases.filter(
      (d) => preparedOwned.some((o) => o.name === d.name) || databases.databases.some((m) => m.name === d.name),
    ),
    notes: [
      ...prepared.notes,
      ...manifest.notes,
      ...input.infrastructure.flatMap((source) => source.notes),
      ...merged.notes,
      ...secretNotes,
      ...databases.notes,
    ],
  };
}
