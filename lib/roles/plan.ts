/**
 * Plans the SQL that brings the catalog to the desired roles and databases: CREATE ROLE for missing roles,
 * ALTER ROLE for missing attributes and changed passwords, GRANT for missing memberships and ADMIN OPTIONs,
 * ALTER ROLE ... SET for parameters that differ (RESET ALL first when a role holds one no source asks for any
 * more, as Zalando does), CREATE DATABASE ... OWNER and ALTER DATABASE ... OWNER TO. Nothing is ever dropped or
 * revoked: roles only gain what the sources ask for. With nothing to change the
 * plan is empty, so an unchanged cluster runs no DDL at all.
 *
 * Pure: the catalog is read by the caller (`lib/pg/catalog.ts`), the salt for new SCRAM verifiers is passed in.
 *
 * Source: Zalando postgres-operator (role sync: only additions, priorities); PostgreSQL docs, CREATE ROLE,
 * ALTER ROLE, GRANT, CREATE DATABASE, ALTER DATABASE, pg_authid, pg_auth_members, pg_db_role_setting.
 */
import type { DesiredDatabase } from './databases';
import { parameterMatches, parameterValues } from './parameters';
import { makeVerifier, passwordMatches } from './password';
import {
  ORIGIN_PURPOSE,
  type Catalog,
  type CatalogRole,
  type DesiredRole,
  type PasswordEncryption,
  type RoleNote,
  type Statement,
} from './types';

/** How to hash new passwords. */
export interface PlanOptions {
  /** how new passwords are hashed */
  encryption: PasswordEncryption;
  /**
   * the manifest asked for `encryption` (`postgresql.parameters.password_encryption`): a role whose verifier is in
   * the other encryption gets its password again in this one. Otherwise a verifier in either encryption that holds
   * the Secret's password is kept (Zalando's operator v1.15 writes md5 unless the manifest says otherwise).
   */
  strictEncryption?: boolean;
  /** fresh random salt (16 bytes) for each new SCRAM verifier */
  salt: () => Buffer;
}

/** Statements in the order to run them, and what had to be skipped. */
export interface SqlPlan {
  statements: Statement[];
  notes: RoleNote[];
}

const ATTRIBUTE_FIELDS: Record<string, keyof CatalogRole> = {
  SUPERUSER: 'superuser',
  LOGIN: 'login',
  CREATEDB: 'createdb',
  INHERIT: 'inherit',
  REPLICATION: 'replication',
  BYPASSRLS: 'bypassrls',
  CREATEROLE: 'createrole',
};

/** @returns whether the catalog role already has the attribute (`CREATEDB`) or its absence (`NOCREATEDB`) */
function hasAttribute(role: CatalogRole, attribute: string): boolean {
  const positive = ATTRIBUTE_FIELDS[attribute];
  if (positive) return role[positive] === true;
  const negative = attribute.startsWith('NO') ? ATTRIBUTE_FIELDS[attribute.slice(2)] : undefined;
  if (negative) return role[negative] === false;
  throw new Error(`unknown role attribute ${attribute}`);
}

/** @returns the role names and database names whose catalog rows the plan needs */
export function catalogNames(
  roles: readonly DesiredRole[],
  databases: readonly DesiredDatabase[],
): { roles: string[]; databases: string[] } {
  const names = new Set<string>();
  for (const role of roles) {
    names.add(role.name);
    role.memberOf.forEach((g) => names.add(g));
    role.admins.forEach((a) => names.add(a));
  }
  databases.forEach((d) => names.add(d.owner));
  return { roles: [...names].sort(), databases: databases.map((d) => d.name).sort() };
}

/**
 * @param roles merged desired roles (see `mergeRoles`)
 * @param catalog what exists, for at least the names of `catalogNames`
 * @returns the statements; notes for memberships whose group role does not exist
 */
export function planRoles(roles: readonly DesiredRole[], catalog: Catalog, options: PlanOptions): SqlPlan {
  const creates: Statement[] = [];
  const alters: Statement[] = [];
  const grants: Statement[] = [];
  const adminGrants: Statement[] = [];
  const settings: Statement[] = [];
  const notes: RoleNote[] = [];
  const created = new Set(roles.filter((r) => !catalog.roles.has(r.name)).map((r) => r.name));
  const exists = (name: string) => catalog.roles.has(name) || created.has(name);

  for (const role of roles) {
    const current = catalog.roles.get(role.name);
    const purpose = ORIGIN_PURPOSE[role.origin];
    const missingGroup = (group: string, what: string) =>
      notes.push({
        name: role.name,
        origin: role.origin,
        message: `role ${JSON.stringify(role.name)}: ${what} ${JSON.stringify(group)} does not exist; skipped until it does`,
      });
    const groups = role.memberOf.filter((g) => exists(g) || (missingGroup(g, 'group role'), false));
    const admins = role.admins.filter((a) => exists(a) || (missingGroup(a, 'admin role'), false));

    if (!current) {
      const password =
        typeof role.password === 'string'
          ? makeVerifier(options.encryption, role.name, role.password, options.salt)
          : role.password;
      creates.push({
        type: 'create-role',
        role: role.name,
        attributes: role.attributes,
        inRoles: groups.filter((g) => catalog.roles.has(g)),
        admins: admins.filter((a) => catalog.roles.has(a)),
        password,
        reason: `create ${purpose} ${role.name}`,
      });
      const laterGroups = groups.filter((g) => !catalog.roles.has(g));
      if (laterGroups.length)
        grants.push({
          type: 'grant-membership',
          role: role.name,
          groups: laterGroups,
          reason: `${role.name}: member of new roles ${laterGroups.join(', ')}`,
        });
      for (const admin of admins.filter((a) => !catalog.roles.has(a))) {
        adminGrants.push({
          type: 'grant-admin',
          role: role.name,
          admin,
          reason: `${role.name}: ADMIN OPTION for new role ${admin}`,
        });
      }
      for (const [name, value] of Object.entries(role.parameters).sort()) {
        settings.push({
          type: 'set-parameter',
          role: role.name,
          name,
          values: parameterValues(name, value),
          reason: `${role.name}: set ${name}`,
        });
      }
      continue;
    }

    const missing = role.attributes.filter((a) => !hasAttribute(current, a));
    // The Secret's password, when the role's verifier does not match it.
    const newPassword =
      typeof role.password === 'string' &&
      !passwordMatches(current.password, options.encryption, role.name, role.password, options.strictEncryption ?? true)
        ? role.password
        : undefined;
    const passwordChanged = newPassword !== undefined;
    // A user and its Secret disagree (not just another encryption of the same password): said with the role's name.
    if (
      newPassword !== undefined &&
      current.password !== null &&
      !passwordMatches(current.password, options.encryption, role.name, newPassword, false)
    )
      notes.push({
        name: role.name,
        origin: role.origin,
        message: `role ${JSON.stringify(role.name)} logged in with a password other than its Secret's; the Secret's password was set`,
      });
    if (missing.length || passwordChanged) {
      const why = [
        missing.length ? `missing ${missing.join(' ')}` : '',
        passwordChanged
          ? `password differs from its Secret${options.strictEncryption === false ? '' : ` (or is not ${options.encryption})`}`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
      alters.push({
        type: 'alter-role',
        role: role.name,
        attributes: missing,
        password:
          newPassword !== undefined
            ? makeVerifier(options.encryption, role.name, newPassword, options.salt)
            : undefined,
        reason: `${role.name}: ${why}`,
      });
    }
    const newGroups = groups.filter((g) => !current.memberOf.includes(g));
    if (newGroups.length)
      grants.push({
        type: 'grant-membership',
        role: role.name,
        groups: newGroups,
        reason: `${role.name}: not a member of ${newGroups.join(', ')}`,
      });
    for (const admin of admins.filter((a) => !current.admins.includes(a))) {
      adminGrants.push({
        type: 'grant-admin',
        role: role.name,
        admin,
        reason: `${role.name}: ${admin} lacks ADMIN OPTION`,
      });
    }
    settings.push(...parameterStatements(role, current));
  }
  return { statements: [...creates, ...alters, ...grants, ...adminGrants, ...settings], notes };
}

/**
 * The settings of an existing role: those that differ are set. As in Zalando's operator, a role whose sources ask
 * for parameters keeps no others: when it holds a setting no source asks for (removed from the config), the plan
 * runs `RESET ALL` first and then sets every wanted one. A role asking for no parameters is left as it is.
 */
function parameterStatements(role: DesiredRole, current: CatalogRole): Statement[] {
  const wanted = Object.entries(role.parameters).sort();
  if (wanted.length === 0) return [];
  const stale = Object.keys(current.parameters)
    .filter((name) => !(name in role.parameters))
    .sort();
  const set = (name: string, value: string, why: string): Statement => ({
    type: 'set-parameter',
    role: role.name,
    name,
    values: parameterValues(name, value),
    reason: `${role.name}: ${why}`,
  });
  if (stale.length)
    return [
      { type: 'reset-parameters', role: role.name, reason: `${role.name}: ${stale.join(', ')} no longer configured` },
      ...wanted.map(([name, value]) => set(name, value, `set ${name} again after RESET ALL`)),
    ];
  return wanted
    .filter(([name, value]) => !parameterMatches(name, current.parameters[name], value))
    .map(([name, value]) =>
      set(name, value, `${name} is ${current.parameters[name] === undefined ? 'not set' : 'different'}`),
    );
}

/**
 * @param databases desired databases (see `manifestDatabases`)
 * @param roles the role names that exist once the role statements ran
 * @returns CREATE DATABASE for missing ones, ALTER DATABASE ... OWNER TO for a different owner
 */
export function planDatabases(
  databases: readonly DesiredDatabase[],
  catalog: Catalog,
  roles: ReadonlySet<string>,
): SqlPlan {
  const statements: Statement[] = [];
  const notes: RoleNote[] = [];
  for (const database of databases) {
    if (!roles.has(database.owner) && !catalog.roles.has(database.owner)) {
      notes.push({
        name: database.name,
        origin: 'database',
        message: `database ${JSON.stringify(database.name)} skipped: owner ${JSON.stringify(database.owner)} does not exist`,
      });
      continue;
    }
    const owner = catalog.databases.get(database.name);
    if (owner === undefined) {
      statements.push({
        type: 'create-database',
        database: database.name,
        owner: database.owner,
        reason: `create database ${database.name} owned by ${database.owner}`,
      });
    } else if (owner !== database.owner && !database.createOnly) {
      statements.push({
        type: 'alter-database-owner',
        database: database.name,
        owner: database.owner,
        reason: `database ${database.name}: owner ${owner} -> ${database.owner}`,
      });
    }
  }
  return { statements, notes };
}
