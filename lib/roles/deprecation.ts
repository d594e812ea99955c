/**
 * Team member deprecation (`enable_team_member_deprecation`, `role_deletion_suffix`): the role of a member who left
 * every team of the cluster is set NOLOGIN and renamed `<name><suffix>`; when the member comes back, the renamed
 * role is renamed back and gets LOGIN again (with its grants and settings as they were), instead of a new role.
 *
 * Zalando's operator remembers the team members of its last sync in memory; this operator keeps no state between
 * invocations, so a team member's role is recognized in the catalog by its membership in `pam_role_name`, which
 * only team roles get (as `withoutTeamMemberRoles` does). Roles that already end with the suffix are left alone.
 * Only run when the team members were read (a failed Teams API read deprecates nobody).
 *
 * Pure: the catalog rows are read by the caller.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (enable_team_member_deprecation,
 * role_deletion_suffix), user.md ("Additional teams and members per cluster": removed members); PostgreSQL docs,
 * ALTER ROLE ... RENAME TO.
 */
import { roleNameProblem } from './names';
import type { Catalog, DesiredRole, RoleNote, Statement } from './types';

/** The statements to run before the role plan, and the catalog as it will be after them. */
export interface DeprecationPlan {
  statements: Statement[];
  /** the catalog with restored roles under their own name (so the role plan grants LOGIN and the rest) */
  catalog: Catalog;
  notes: RoleNote[];
}

/** @returns the extra role names whose catalog rows the deprecation needs: `<team member><suffix>` */
export function deprecatedNames(roles: readonly DesiredRole[], suffix: string): string[] {
  return roles.filter((r) => r.origin === 'teams-api').map((r) => `${r.name}${suffix}`);
}

/**
 * @param roles the merged roles to sync
 * @param catalog rows for the roles, `deprecatedNames` and `pamMembers`
 * @param pamMembers the roles that are members of `pam_role_name`
 * @param suffix `role_deletion_suffix`
 */
export function planDeprecation(
  roles: readonly DesiredRole[],
  catalog: Catalog,
  pamMembers: readonly string[],
  suffix: string,
): DeprecationPlan {
  const statements: Statement[] = [];
  const notes: RoleNote[] = [];
  const rows = new Map(catalog.roles);
  const wanted = new Set(roles.map((r) => r.name));
  if (!suffix) return { statements, catalog, notes };

  for (const role of roles) {
    if (role.origin !== 'teams-api' || rows.has(role.name)) continue;
    const deprecated = rows.get(`${role.name}${suffix}`);
    if (!deprecated || deprecated.login) continue;
    statements.push({
      type: 'rename-role',
      role: deprecated.name,
      newName: role.name,
      reason: `${role.name} is a team member again: restore its deprecated role ${deprecated.name}`,
    });
    rows.delete(deprecated.name);
    rows.set(role.name, { ...deprecated, name: role.name });
  }

  for (const name of [...pamMembers].sort()) {
    if (wanted.has(name) || name.endsWith(suffix)) continue;
    const row = rows.get(name);
    if (!row) continue;
    const newName = `${name}${suffix}`;
    const problem = roleNameProblem(newName) ?? (rows.has(newName) ? 'a role of that name exists' : undefined);
    if (problem) {
      notes.push({
        name,
        origin: 'teams-api',
        message: `role ${JSON.stringify(name)} of a removed team member not deprecated: ${JSON.stringify(newName)}: ${problem}`,
      });
      continue;
    }
    if (row.login)
      statements.push({
        type: 'alter-role',
        role: name,
        attributes: ['NOLOGIN'],
        reason: `${name}: no longer a team member`,
      });
    statements.push({
      type: 'rename-role',
      role: name,
      newName,
      reason: `${name}: deprecated as a removed team member`,
    });
    rows.delete(name);
  }
  return { statements, catalog: { ...catalog, roles: rows }, notes };
}
