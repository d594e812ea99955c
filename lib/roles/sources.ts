/**
 * The role sources of a cluster, each turned into `DesiredRole`s: system roles, manifest users, infrastructure
 * roles (both Secret formats) and Teams API members. Passwords are inputs (read from Secrets by the caller).
 * Names are checked later, in `merge.ts`, where protected and system names are refused too.
 *
 * Source: Zalando postgres-operator docs, user.md ("Manifest roles", "Infrastructure roles", "Teams API roles"),
 * reference/operator_parameters.md (super_username, replication_username, enable_admin_role_for_users,
 * team_admin_role, pam_role_name, enable_team_superuser, team_api_role_configuration,
 * infrastructure_roles_secret_name, infrastructure_roles_secrets).
 */
import { parse as parseYaml } from 'yaml';
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { normalizeUserFlags } from '../model/user-flags';
import type { DesiredRole, RoleNote } from './types';

/** Roles from one source, and what was refused on the way. */
export interface SourceRoles {
  roles: DesiredRole[];
  notes: RoleNote[];
}

const sorted = (items: Iterable<string>): string[] => [...new Set(items)].sort();

/**
 * The superuser (`super_username`, SUPERUSER LOGIN) and the replication user (`replication_username`, LOGIN
 * REPLICATION), with the passwords of their Secrets so the database follows the Secrets.
 * @param passwords user -> password from the credentials Secrets; a missing one leaves that password unmanaged
 */
export function systemRoles(config: OperatorConfig, passwords: Readonly<Record<string, string>>): DesiredRole[] {
  const role = (name: string, attributes: string[]): DesiredRole => ({
    name,
    origin: 'system',
    attributes,
    memberOf: [],
    admins: [],
    parameters: {},
    password: passwords[name],
  });
  return [
    role(config.super_username, ['LOGIN', 'SUPERUSER']),
    role(config.replication_username, ['LOGIN', 'REPLICATION']),
  ];
}

/**
 * `spec.users`: flags normalized as Zalando does (LOGIN unless NOLOGIN), `team_admin_role` as ADMIN when
 * `enable_admin_role_for_users`; LOGIN roles take the password of their Secret. A user that owns a database of
 * `spec.databases` is also a member of the `additional_owner_roles` (Zalando: "roles granted to all database
 * owners"); should an infrastructure or team role of the same name win the merge, it does not get them, as in
 * Zalando, where only the manifest role is marked as owner.
 */
export function manifestRoles(
  cluster: Postgresql,
  config: OperatorConfig,
  passwords: Readonly<Record<string, string>>,
): SourceRoles {
  const roles: DesiredRole[] = [];
  const notes: RoleNote[] = [];
  const admins = config.enable_admin_role_for_users && config.team_admin_role ? [config.team_admin_role] : [];
  const owners = new Set(Object.values(cluster.spec.databases ?? {}));
  for (const [name, flags] of Object.entries(cluster.spec.users ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const normalized = normalizeUserFlags(flags);
    if (!normalized.ok) {
      notes.push({
        name,
        origin: 'manifest',
        message: `invalid flags for user ${JSON.stringify(name)}: ${normalized.error}`,
      });
      continue;
    }
    const login = normalized.flags.includes('LOGIN');
    roles.push({
      name,
      origin: 'manifest',
      attributes: normalized.flags,
      memberOf: owners.has(name) ? sorted(config.additional_owner_roles) : [],
      admins,
      parameters: {},
      password: login ? passwords[name] : undefined,
    });
  }
  return { roles, notes };
}

/**
 * Members of the owning team (`spec.teamId`) and of the `postgres_superuser_teams`, as given by the Teams API:
 * LOGIN, no password (they log in through PAM/OAuth2), member of `pam_role_name`; owning-team members are also
 * members of `team_admin_role`, or SUPERUSER with `enable_team_superuser`; superuser-team members are SUPERUSER.
 * Every one gets the `team_api_role_configuration` parameters.
 */
export function teamRoles(
  teamMembers: readonly string[],
  superuserMembers: readonly string[],
  config: OperatorConfig,
): DesiredRole[] {
  const superusers = new Set(superuserMembers);
  const roles = new Map<string, DesiredRole>();
  const pam = config.pam_role_name ? [config.pam_role_name] : [];
  for (const name of sorted([...teamMembers, ...superuserMembers])) {
    const superuser = superusers.has(name) || config.enable_team_superuser;
    roles.set(name, {
      name,
      origin: 'teams-api',
      attributes: superuser ? ['LOGIN', 'SUPERUSER'] : ['LOGIN'],
      memberOf: sorted(superuser || !config.team_admin_role ? pam : [...pam, config.team_admin_role]),
      admins: [],
      parameters: { ...config.team_api_role_configuration },
      password: null,
    });
  }
  return [...roles.values()];
}

/** Extra settings of infrastructure roles from the ConfigMap beside their Secret: role name -> YAML. */
interface RoleDetails {
  inrole?: unknown;
  user_flags?: unknown;
  db_parameters?: unknown;
}

const listOf = (value: unknown): string[] | undefined => {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
};

/**
 * Builds one infrastructure role from its password, groups and optional ConfigMap details (YAML with `inrole`,
 * `user_flags`, `db_parameters`); flags normalized like manifest flags (LOGIN unless NOLOGIN).
 */
function infrastructureRole(
  name: string,
  password: string | undefined,
  groups: string[],
  details: string | undefined,
  where: string,
  notes: RoleNote[],
): DesiredRole | undefined {
  let parsed: RoleDetails = {};
  if (details !== undefined) {
    try {
      const value = parseYaml(details) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as RoleDetails;
      else throw new Error('not a mapping');
    } catch (error) {
      notes.push({
        name,
        origin: 'infrastructure',
        message: `${where}: the details of ${JSON.stringify(name)} are not a YAML mapping with inrole, user_flags, db_parameters: ${(error as Error).message}`,
      });
      return undefined;
    }
  }
  const inrole = listOf(parsed.inrole);
  const flags = listOf(parsed.user_flags);
  if (inrole === undefined || flags === undefined) {
    notes.push({
      name,
      origin: 'infrastructure',
      message: `${where}: inrole and user_flags of ${JSON.stringify(name)} must be lists of names`,
    });
    return undefined;
  }
  const normalized = normalizeUserFlags(flags);
  if (!normalized.ok) {
    notes.push({
      name,
      origin: 'infrastructure',
      message: `${where}: invalid flags for user ${JSON.stringify(name)}: ${normalized.error}`,
    });
    return undefined;
  }
  const parameters: Record<string, string> = {};
  const rawParameters = parsed.db_parameters ?? {};
  if (typeof rawParameters !== 'object' || Array.isArray(rawParameters)) {
    notes.push({
      name,
      origin: 'infrastructure',
      message: `${where}: db_parameters of ${JSON.stringify(name)} must be a mapping`,
    });
    return undefined;
  }
  for (const [key, value] of Object.entries(rawParameters as Record<string, unknown>)) parameters[key] = String(value);
  return {
    name,
    origin: 'infrastructure',
    attributes: normalized.flags,
    memberOf: sorted([...groups, ...inrole]),
    admins: [],
    parameters,
    password,
  };
}

/**
 * Legacy format (`infrastructure_roles_secret_name`): Secret keys `user1`, `password1`, `inrole1` (comma list),
 * `user2`, ... up to the first missing `userN`; an entry without a password is ignored. A ConfigMap of the same
 * name adds roles: key = role name, value = YAML details, password = the Secret key of that role name.
 * @param secret the Secret's data, decoded
 * @param configMap the ConfigMap's data, when it exists
 * @param where `namespace/name` of the Secret, for messages
 */
export function legacyInfrastructureRoles(
  secret: Readonly<Record<string, string>>,
  configMap: Readonly<Record<string, string>> | undefined,
  where: string,
): SourceRoles {
  const roles: DesiredRole[] = [];
  const notes: RoleNote[] = [];
  const listed = new Set<string>();
  for (let n = 1; secret[`user${n}`] !== undefined; n++) {
    const name = secret[`user${n}`]!;
    listed.add(name);
    const password = secret[`password${n}`];
    if (!password) {
      notes.push({ name, origin: 'infrastructure', message: `${where}: user${n} has no password${n}; ignored` });
      continue;
    }
    const role = infrastructureRole(
      name,
      password,
      listOf(secret[`inrole${n}`]) ?? [],
      configMap?.[name],
      where,
      notes,
    );
    if (role) roles.push(role);
  }
  for (const [name, details] of Object.entries(configMap ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (listed.has(name)) continue;
    const role = infrastructureRole(name, secret[name] || undefined, [], details, where, notes);
    if (role) roles.push(role);
  }
  return { roles, notes };
}

/** One entry of `infrastructure_roles_secrets` (new format). */
export interface InfrastructureRoleDefinition {
  /** Secret `name` (operator namespace) or `namespace/name` */
  secretname: string;
  userkey?: string;
  passwordkey?: string;
  rolekey?: string;
  defaultuservalue?: string;
  defaultrolevalue?: string;
}

/**
 * New format: one role per Secret; the role name is the value of `userkey` (else `defaultuservalue`), the password
 * the value of `passwordkey`, its groups the value of `rolekey` (else `defaultrolevalue`, comma list). A ConfigMap
 * of the Secret's name may add details for the role, as in the legacy format.
 */
export function definedInfrastructureRole(
  definition: InfrastructureRoleDefinition,
  secret: Readonly<Record<string, string>>,
  configMap: Readonly<Record<string, string>> | undefined,
  where: string,
): SourceRoles {
  const notes: RoleNote[] = [];
  const name = (definition.userkey ? secret[definition.userkey] : undefined) ?? definition.defaultuservalue;
  if (!name) {
    notes.push({
      name: definition.userkey ?? '',
      origin: 'infrastructure',
      message: `${where}: no role name (key ${JSON.stringify(definition.userkey ?? '')} is missing and there is no defaultuservalue)`,
    });
    return { roles: [], notes };
  }
  const password = definition.passwordkey ? secret[definition.passwordkey] : undefined;
  if (!password) {
    notes.push({
      name,
      origin: 'infrastructure',
      message: `${where}: no password (key ${JSON.stringify(definition.passwordkey ?? '')}); ignored`,
    });
    return { roles: [], notes };
  }
  const groups =
    listOf((definition.rolekey ? secret[definition.rolekey] : undefined) ?? definition.defaultrolevalue) ?? [];
  const role = infrastructureRole(name, password, groups, configMap?.[name], where, notes);
  return { roles: role ? [role] : [], notes };
}

const DEFINITION_KEYS = new Set([
  'secretname',
  'userkey',
  'passwordkey',
  'rolekey',
  'defaultuservalue',
  'defaultrolevalue',
  'details',
  'template',
]);

/**
 * Parses `infrastructure_roles_secrets`: one or more `secretname:x,userkey:u,passwordkey:p,rolekey:r` maps,
 * separated by `;`. Values are taken as written (no quotes needed for `namespace/name`).
 * @returns the definitions, and an error per unreadable one
 */
export function parseInfrastructureRoleDefinitions(text: string): {
  definitions: InfrastructureRoleDefinition[];
  errors: string[];
} {
  const definitions: InfrastructureRoleDefinition[] = [];
  const errors: string[] = [];
  for (const part of text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const entry: Record<string, string> = {};
    let bad: string | undefined;
    for (const item of part
      .split(',')
      .map((i) => i.trim())
      .filter(Boolean)) {
      const colon = item.indexOf(':');
      const key = colon < 0 ? item : item.slice(0, colon).trim().toLowerCase();
      if (colon < 0 || !DEFINITION_KEYS.has(key)) {
        bad = `unknown item ${JSON.stringify(item)}`;
        break;
      }
      entry[key] = item.slice(colon + 1).trim();
    }
    if (!bad && !entry.secretname) bad = 'no secretname';
    if (bad) errors.push(`infrastructure_roles_secrets: ${JSON.stringify(part)}: ${bad}`);
    else definitions.push(entry as unknown as InfrastructureRoleDefinition);
  }
  return { definitions, errors };
}
