/**
 * Merges the roles of all sources into one set: one role per name, the higher-priority source winning
 * (system > Teams API > infrastructure > manifest; on a tie the later definition wins). Names that are not valid
 * role names, the system names and `protected_role_names` are refused for every non-system source, each with a
 * note naming the role and the rule. Group, admin and parameter names inside a role are checked the same way.
 *
 * Source: Zalando postgres-operator docs, administrator.md ("Role priorities"), reference/operator_parameters.md
 * (protected_role_names); Zalando's messages "cannot initialize a new <purpose> with the name of the protected
 * user" / "... of the system user".
 */
import type { OperatorConfig } from '../model/config';
import { parameterNameProblem, roleNameProblem } from './names';
import { ORIGIN_PURPOSE, originPriority, type DesiredRole, type RoleNote } from './types';

/** The merged roles (sorted by name) and every refusal or override. */
export interface MergedRoles {
  roles: DesiredRole[];
  notes: RoleNote[];
}

/** Drops group, admin and parameter entries that cannot be sent safely, with a note each. */
function cleanRole(role: DesiredRole, notes: RoleNote[]): DesiredRole {
  const keepRoles = (names: string[], what: string) =>
    names.filter((group) => {
      const problem = roleNameProblem(group) ?? (group === role.name ? 'a role cannot be its own member' : undefined);
      if (problem)
        notes.push({
          name: role.name,
          origin: role.origin,
          message: `role ${JSON.stringify(role.name)}: ${what} ${JSON.stringify(group)} skipped: ${problem}`,
        });
      return !problem;
    });
  const memberOf = keepRoles(role.memberOf, 'group');
  const admins = keepRoles(role.admins, 'admin role');
  const parameters: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(role.parameters)) {
    const name = rawName.toLowerCase();
    const problem =
      parameterNameProblem(rawName) ?? (value.includes('\0') ? 'the value contains a NUL byte' : undefined);
    if (problem)
      notes.push({
        name: role.name,
        origin: role.origin,
        message: `role ${JSON.stringify(role.name)}: parameter ${JSON.stringify(rawName)} skipped: ${problem}`,
      });
    else parameters[name] = value;
  }
  const cleaned: DesiredRole = { ...role, memberOf, admins, parameters };
  if (typeof role.password === 'string' && role.password.includes('\0')) {
    notes.push({
      name: role.name,
      origin: role.origin,
      message: `role ${JSON.stringify(role.name)}: the password contains a NUL byte; password left as it is`,
    });
    delete cleaned.password;
  }
  return cleaned;
}

/**
 * @param candidates roles from all sources, in any order
 * @returns one role per name; refused names and overridden definitions as notes
 */
export function mergeRoles(
  candidates: readonly DesiredRole[],
  config: Pick<OperatorConfig, 'super_username' | 'replication_username' | 'protected_role_names'>,
): MergedRoles {
  const notes: RoleNote[] = [];
  const system = new Set([config.super_username, config.replication_username]);
  const protectedNames = new Set(config.protected_role_names);
  const byName = new Map<string, DesiredRole>();
  const ordered = [...candidates].sort((a, b) => originPriority(a.origin) - originPriority(b.origin));
  for (const candidate of ordered) {
    const purpose = ORIGIN_PURPOSE[candidate.origin];
    const problem = roleNameProblem(candidate.name);
    if (problem) {
      notes.push({ name: candidate.name, origin: candidate.origin, message: `${purpose} refused: ${problem}` });
      continue;
    }
    if (candidate.origin !== 'system') {
      if (system.has(candidate.name)) {
        notes.push({
          name: candidate.name,
          origin: candidate.origin,
          message: `cannot initialize a new ${purpose} with the name of the system user ${JSON.stringify(candidate.name)}`,
        });
        continue;
      }
      if (protectedNames.has(candidate.name)) {
        notes.push({
          name: candidate.name,
          origin: candidate.origin,
          message: `cannot initialize a new ${purpose} with the name of the protected user ${JSON.stringify(candidate.name)}`,
        });
        continue;
      }
    }
    const previous = byName.get(candidate.name);
    if (previous && previous.origin !== candidate.origin) {
      notes.push({
        name: candidate.name,
        origin: previous.origin,
        message: `${ORIGIN_PURPOSE[previous.origin]} ${JSON.stringify(candidate.name)} is also ${/^[aeiou]/i.test(purpose) ? 'an' : 'a'} ${purpose}; the ${purpose} wins`,
      });
    }
    byName.set(candidate.name, cleanRole(candidate, notes));
  }
  const roles = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { roles, notes };
}

/**
 * While the Teams API cannot be read, the roles of team members must stay as they are, even when another source
 * (infrastructure, manifest) defines the same name. A team member's role is recognized in the catalog by its
 * membership in `pam_role_name`, which only Teams API roles get.
 * @param catalogMembers role name -> the roles it is a member of, for the roles that exist
 * @returns the roles to sync, and a note for each one left alone
 */
export function withoutTeamMemberRoles(
  roles: readonly DesiredRole[],
  catalogMembers: ReadonlyMap<string, readonly string[]>,
  pamRoleName: string,
): MergedRoles {
  if (!pamRoleName) return { roles: [...roles], notes: [] };
  const notes: RoleNote[] = [];
  const kept = roles.filter((role) => {
    if (role.origin === 'system' || !catalogMembers.get(role.name)?.includes(pamRoleName)) return true;
    notes.push({
      name: role.name,
      origin: role.origin,
      message: `role ${JSON.stringify(role.name)} is a team member's role (member of ${pamRoleName}); left as it is while the Teams API is unavailable`,
    });
    return false;
  });
  return { roles: kept, notes };
}
