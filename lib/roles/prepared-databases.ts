/**
 * Prepared databases (`spec.preparedDatabases`): for each database, Zalando's NOLOGIN roles `<db>_owner`,
 * `<db>_reader`, `<db>_writer` (the writer a member of the reader), with `defaultUsers` their LOGIN `_user`
 * variants (each a member of its role, with a credentials Secret), the same set per schema as
 * `<db>_<schema>_owner|reader|writer[_user]` unless the schema sets `defaultRoles: false`; the database owned by
 * `<db>_owner`; each schema owned by its schema owner role (or the database owner); default privileges so that what
 * an owner role creates is readable by the reader roles and writable by the writer roles; `search_path` set on every
 * role; extensions in their schema.
 *
 * Pure: the planner takes what `lib/pg/prepared-databases.ts` read from one database's catalog and returns the
 * statements that are missing, so an unchanged database gets none. Where Zalando's operator sets default
 * privileges and schema grants only when it creates the database or schema, they are checked on every sync
 * here and only missing ones granted (nothing is ever revoked).
 *
 * Source: Zalando postgres-operator v1.15.1, docs/user.md "Prepared databases with roles and default privileges",
 * docs/reference/cluster_manifest.md "Prepared Databases" (roles, admins, memberships, the `data` schema, the
 * database named after the cluster for an empty section); PostgreSQL docs, ALTER DEFAULT PRIVILEGES,
 * pg_default_acl, CREATE SCHEMA, GRANT, CREATE EXTENSION, ALTER EXTENSION.
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { DATABASE_NAME, MAX_IDENTIFIER_BYTES, SYSTEM_DATABASES, databaseNameProblem, roleNameProblem } from './names';
import type { DesiredRole, RoleNote } from './types';

/** Zalando's role suffixes (pkg/util/constants/roles.go). */
export const OWNER = '_owner';
export const READER = '_reader';
export const WRITER = '_writer';
export const USER = '_user';

/** The role that holds ADMIN OPTION on every `<db>_owner` (Spilo creates it at bootstrap; Zalando names it so). */
export const PREPARED_ADMIN_ROLE = 'admin';

/** The schema a prepared database gets when it lists none. */
export const DEFAULT_SCHEMA = 'data';

/** One schema of a prepared database, with Zalando's defaults filled in. */
export interface PreparedSchema {
  name: string;
  /** `<db>_<schema>_owner|reader|writer` roles (default true) */
  defaultRoles: boolean;
  /** their `_user` LOGIN variants (default false; only with defaultRoles) */
  defaultUsers: boolean;
}

/** One prepared database, with Zalando's defaults filled in. */
export interface PreparedDatabase {
  name: string;
  /** `<db>_owner_user`, `<db>_reader_user`, `<db>_writer_user` LOGIN roles */
  defaultUsers: boolean;
  /** sorted by name; `data` when the manifest lists none */
  schemas: PreparedSchema[];
  /** extension -> schema, sorted by extension */
  extensions: Array<{ name: string; schema: string }>;
}

/** Extension names: identifiers, `-` allowed (`uuid-ossp`). */
const EXTENSION_NAME = /^[a-zA-Z_][a-zA-Z0-9_-]*$/;

const byName = <T>(entries: Array<[string, T]>): Array<[string, T]> =>
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const nameProblem = (kind: string, name: string, pattern: RegExp): string | undefined => {
  if (new TextEncoder().encode(name).length > MAX_IDENTIFIER_BYTES)
    return `invalid ${kind} name ${JSON.stringify(name)}: more than ${MAX_IDENTIFIER_BYTES} bytes`;
  return pattern.test(name) ? undefined : `invalid ${kind} name ${JSON.stringify(name)}: must match ${pattern.source}`;
};

/** @returns why `name` cannot be a prepared schema (Zalando's database name rule), or undefined */
export const preparedSchemaProblem = (name: string): string | undefined => nameProblem('schema', name, DATABASE_NAME);

/** @returns why `name` cannot be an extension name, or undefined */
export const extensionNameProblem = (name: string): string | undefined =>
  nameProblem('extension', name, EXTENSION_NAME);

/**
 * `spec.preparedDatabases` with Zalando's defaults: an empty section means one database named like the cluster
 * (`-` turned into `_`); a database without schemas gets the schema `data` (with default roles). Names that cannot
 * be used are skipped with a note naming the field. `secretNamespace` is reported, not followed: the Secrets of the
 * LOGIN roles are in the cluster namespace, as in Zalando with `enable_cross_namespace_secret` off (this operator
 * does not make Secrets in other namespaces yet).
 * @param config for the note on `secretNamespace` (none without it)
 * @returns the valid prepared databases, sorted by name, and the skipped entries
 */
export function preparedDatabases(
  cluster: Postgresql,
  config?: Pick<OperatorConfig, 'enable_cross_namespace_secret'>,
): { databases: PreparedDatabase[]; notes: RoleNote[] } {
  const section = cluster.spec.preparedDatabases;
  if (section === undefined || section === null) return { databases: [], notes: [] };
  const entries = Object.keys(section).length ? section : { [cluster.metadata.name.replaceAll('-', '_')]: {} };
  const databases: PreparedDatabase[] = [];
  const notes: RoleNote[] = [];
  const skip = (name: string, message: string) => notes.push({ name, origin: 'database', message });
  for (const [name, value] of byName(Object.entries(entries))) {
    const field = `spec.preparedDatabases.${name}`;
    const problem =
      databaseNameProblem(name) ??
      (SYSTEM_DATABASES.includes(name) ? `${JSON.stringify(name)} is a system database` : undefined);
    if (problem) {
      skip(name, `${field} skipped: ${problem}`);
      continue;
    }
    const spec = value ?? {};
    if (config && spec.secretNamespace && spec.secretNamespace !== cluster.metadata.namespace)
      skip(
        name,
        `${field}.secretNamespace ignored: Secrets in other namespaces are not supported yet (as Zalando's with enable_cross_namespace_secret off); the Secrets are in the cluster namespace`,
      );
    const given = byName(Object.entries(spec.schemas ?? {}));
    const schemas: PreparedSchema[] = [];
    for (const [schema, settings] of given.length ? given : [[DEFAULT_SCHEMA, {}] as [string, object]]) {
      const bad = preparedSchemaProblem(schema);
      if (bad) {
        skip(name, `${field}.schemas.${schema} skipped: ${bad}`);
        continue;
      }
      const s = (settings ?? {}) as { defaultRoles?: boolean; defaultUsers?: boolean };
      const defaultRoles = s.defaultRoles !== false;
      if (!defaultRoles && s.defaultUsers)
        skip(
          name,
          `${field}.schemas.${schema}.defaultUsers ignored: defaultRoles is false, so there are no schema roles`,
        );
      schemas.push({ name: schema, defaultRoles, defaultUsers: defaultRoles && s.defaultUsers === true });
    }
    const extensions: PreparedDatabase['extensions'] = [];
    for (const [extension, schema] of byName(Object.entries(spec.extensions ?? {}))) {
      const bad = extensionNameProblem(extension) ?? preparedSchemaProblem(schema);
      if (bad) skip(name, `${field}.extensions.${extension} skipped: ${bad}`);
      else extensions.push({ name: extension, schema });
    }
    databases.push({ name, defaultUsers: spec.defaultUsers === true, schemas, extensions });
  }
  return { databases, notes };
}

/** A schema's role prefix `<db>_<schema>`, or undefined when the schema has no roles of its own. */
const schemaPrefix = (database: PreparedDatabase, schema: PreparedSchema): string | undefined =>
  schema.defaultRoles ? `${database.name}_${schema.name}` : undefined;

/** `"$user", "<schema>", ...` as Zalando writes the search_path (schemas sorted here; Go's map order is random). */
const searchPath = (schemas: readonly string[]): string => ['"$user"', ...schemas.map((s) => `"${s}"`)].join(', ');

interface RoleSet {
  prefix: string;
  /** ADMIN of the owner roles (`admin` for a database, `<db>_owner` for a schema) */
  ownerAdmin: string;
  users: boolean;
  searchPath: string;
}

/** Zalando's initDefaultRoles for one prefix: the three roles, and with `users` their `_user` LOGIN variants. */
function roleSet(set: RoleSet, config: OperatorConfig, passwords: Readonly<Record<string, string>>): DesiredRole[] {
  const owner = `${set.prefix}${OWNER}`;
  const kinds: Array<[suffix: string, memberOf: string | undefined]> = [
    [OWNER, undefined],
    [READER, undefined],
    [WRITER, `${set.prefix}${READER}`],
  ];
  if (set.users)
    kinds.push(
      [`${OWNER}${USER}`, owner],
      [`${READER}${USER}`, `${set.prefix}${READER}`],
      [`${WRITER}${USER}`, `${set.prefix}${WRITER}`],
    );
  return kinds.map(([suffix, memberOf]) => {
    const name = `${set.prefix}${suffix}`;
    const login = suffix.endsWith(USER);
    // Owner roles own databases, so they get the additional_owner_roles as Zalando's IsDbOwner users do.
    const isOwner = suffix.startsWith(OWNER);
    return {
      name,
      origin: 'bootstrap',
      attributes: [login ? 'LOGIN' : 'NOLOGIN'],
      memberOf: [...(memberOf ? [memberOf] : []), ...(isOwner ? config.additional_owner_roles : [])].sort(),
      admins: [isOwner ? set.ownerAdmin : owner],
      parameters: { search_path: set.searchPath },
      // NOLOGIN roles get no Secret, so no password is managed for them.
      ...(login ? { password: passwords[name] } : {}),
    };
  });
}

/**
 * @param passwords user -> password of the credentials Secrets (the `_user` roles' among them)
 * @returns every role of the prepared databases, origin `bootstrap` (Zalando's highest role priority)
 */
export function preparedRoles(
  databases: readonly PreparedDatabase[],
  config: OperatorConfig,
  passwords: Readonly<Record<string, string>>,
): DesiredRole[] {
  const roles: DesiredRole[] = [];
  for (const database of databases) {
    roles.push(
      ...roleSet(
        {
          prefix: database.name,
          ownerAdmin: PREPARED_ADMIN_ROLE,
          users: database.defaultUsers,
          searchPath: searchPath(database.schemas.map((s) => s.name)),
        },
        config,
        passwords,
      ),
    );
    for (const schema of database.schemas) {
      const prefix = schemaPrefix(database, schema);
      if (prefix)
        roles.push(
          ...roleSet(
            {
              prefix,
              ownerAdmin: `${database.name}${OWNER}`,
              users: schema.defaultUsers,
              searchPath: searchPath([schema.name]),
            },
            config,
            passwords,
          ),
        );
    }
  }
  return roles;
}

/** @returns the LOGIN `_user` roles of the prepared databases: each gets a credentials Secret */
export function preparedLoginUsers(cluster: Postgresql): string[] {
  return preparedDatabases(cluster)
    .databases.flatMap((database) => {
      const prefixes = [
        ...(database.defaultUsers ? [database.name] : []),
        ...database.schemas.filter((s) => s.defaultUsers).map((s) => `${database.name}_${s.name}`),
      ];
      return prefixes.flatMap((p) => [`${p}${OWNER}${USER}`, `${p}${READER}${USER}`, `${p}${WRITER}${USER}`]);
    })
    .filter((name) => roleNameProblem(name) === undefined);
}

/** The databases to create: each owned by its `<db>_owner` (created when missing, its owner never changed). */
export const preparedDatabaseOwners = (
  databases: readonly PreparedDatabase[],
): Array<{ name: string; owner: string }> => databases.map((d) => ({ name: d.name, owner: `${d.name}${OWNER}` }));

/** Object kinds of ALTER DEFAULT PRIVILEGES, with their `pg_default_acl.defaclobjtype` code. */
export const OBJECT_TYPES = { TABLES: 'r', SEQUENCES: 'S', FUNCTIONS: 'f', TYPES: 'T', SCHEMAS: 'n' } as const;
export type ObjectType = keyof typeof OBJECT_TYPES;

/** `ALTER DEFAULT PRIVILEGES FOR ROLE <owner> [IN SCHEMA <schema>] GRANT <privileges> ON <objects> TO <grantees>`. */
export interface DefaultPrivilege {
  owner: string;
  /** undefined: for the whole database */
  schema?: string;
  objects: ObjectType;
  privileges: string[];
  grantees: string[];
}

/** Zalando's default privileges of one owner for one reader/writer prefix (database-wide or in one schema). */
function defaultPrivileges(owner: string, prefix: string, schema?: string): DefaultPrivilege[] {
  const reader = `${prefix}${READER}`;
  const writer = `${prefix}${WRITER}`;
  const at = (objects: ObjectType, privileges: string[], grantees: string[]): DefaultPrivilege => ({
    owner,
    ...(schema === undefined ? {} : { schema }),
    objects,
    privileges,
    grantees,
  });
  return [
    // Schemas have database-wide default privileges only; a schema gets USAGE by a GRANT of its own.
    ...(schema === undefined ? [at('SCHEMAS', ['USAGE'], [reader, writer])] : []),
    at('TABLES', ['SELECT'], [reader]),
    at('SEQUENCES', ['SELECT'], [reader]),
    at('TABLES', ['INSERT', 'UPDATE', 'DELETE'], [writer]),
    at('SEQUENCES', ['USAGE', 'UPDATE'], [writer]),
    at('FUNCTIONS', ['EXECUTE'], [reader, writer]),
    at('TYPES', ['USAGE'], [reader, writer]),
  ];
}

/** What one prepared database should hold besides its roles. */
export interface PreparedObjects {
  /** schema -> owner role */
  schemas: Array<{ name: string; owner: string }>;
  /** schema -> roles with USAGE on it */
  schemaUsage: Array<{ schema: string; roles: string[] }>;
  defaultPrivileges: DefaultPrivilege[];
  extensions: PreparedDatabase['extensions'];
}

/**
 * The owners whose default privileges Zalando sets, and for which reader/writer prefix: database-wide for
 * `<db>_owner` (and `<db>_owner_user`); in each schema for the schema's owner towards the database roles, and,
 * when the schema has roles of its own, for every owner role of the database and the schema towards the schema
 * roles.
 * @returns the schemas, grants and default privileges of one prepared database
 */
export function preparedObjects(database: PreparedDatabase): PreparedObjects {
  const db = database.name;
  const dbOwners = [`${db}${OWNER}`, ...(database.defaultUsers ? [`${db}${OWNER}${USER}`] : [])];
  const privileges: DefaultPrivilege[] = dbOwners.flatMap((owner) => defaultPrivileges(owner, db));
  const schemas: PreparedObjects['schemas'] = [];
  const usage: PreparedObjects['schemaUsage'] = [];
  for (const schema of database.schemas) {
    const prefix = schemaPrefix(database, schema);
    const owner = prefix ? `${prefix}${OWNER}` : `${db}${OWNER}`;
    schemas.push({ name: schema.name, owner });
    // [owner role, reader/writer prefix] pairs, as Zalando's execCreateDatabaseSchema sets them
    const pairs: Array<[string, string]> = [[owner, db]];
    if (prefix) {
      if (schema.defaultUsers) pairs.push([`${owner}${USER}`, db]);
      const owners = [...dbOwners, owner, ...(schema.defaultUsers ? [`${owner}${USER}`] : [])];
      pairs.push(...owners.map((o): [string, string] => [o, prefix]));
    } else if (database.defaultUsers) pairs.push([`${db}${OWNER}${USER}`, db]);
    for (const [o, p] of pairs) privileges.push(...defaultPrivileges(o, p, schema.name));
    const grantees = [...new Set(pairs.flatMap(([, p]) => [`${p}${READER}`, `${p}${WRITER}`]))].sort();
    usage.push({ schema: schema.name, roles: grantees });
  }
  return { schemas, schemaUsage: usage, defaultPrivileges: privileges, extensions: database.extensions };
}

/** What one database's catalog holds of the names the plan asks about. */
export interface PreparedCatalog {
  /** schema -> its owner and the roles holding USAGE by a grant */
  schemas: ReadonlyMap<string, { owner: string; usage: readonly string[] }>;
  /** extension -> its schema */
  extensions: ReadonlyMap<string, string>;
  /** exploded `pg_default_acl` entries, as `defaultAclKey` strings */
  defaultAcl: ReadonlySet<string>;
  /** the roles that exist, of those the plan asks about */
  roles: ReadonlySet<string>;
}

/** @returns the key of one exploded default ACL entry (schema '' for database-wide entries) */
export const defaultAclKey = (owner: string, schema: string, objtype: string, grantee: string, privilege: string) =>
  JSON.stringify([owner, schema, objtype, grantee, privilege]);

/** A statement of a prepared database; run in that database. */
export type PreparedStatement =
  | { type: 'create-schema'; schema: string; owner: string; reason: string }
  | { type: 'grant-schema-usage'; schema: string; roles: string[]; reason: string }
  | ({ type: 'default-privileges'; reason: string } & DefaultPrivilege)
  /** created as `owner` (the database owner, as Zalando's docs say), as the superuser when that is refused */
  | { type: 'create-extension'; extension: string; schema: string; owner: string; reason: string }
  | { type: 'alter-extension-schema'; extension: string; schema: string; reason: string };

/** @returns the role names whose existence `planPreparedDatabase` checks */
export function preparedRoleNames(objects: PreparedObjects): string[] {
  const names = new Set<string>();
  objects.schemas.forEach((s) => names.add(s.owner));
  objects.schemaUsage.forEach((u) => u.roles.forEach((r) => names.add(r)));
  objects.defaultPrivileges.forEach((p) => [p.owner, ...p.grantees].forEach((r) => names.add(r)));
  return [...names].sort();
}

/**
 * @param database the prepared database (its name is the database the statements run in)
 * @param catalog what that database holds (see `PreparedCatalog`)
 * @returns the missing schemas, schema grants, default privileges and extensions, in that order; notes for what
 *   waits on a role that does not exist
 */
export function planPreparedDatabase(
  database: PreparedDatabase,
  catalog: PreparedCatalog,
): { statements: PreparedStatement[]; notes: RoleNote[] } {
  const objects = preparedObjects(database);
  const notes: RoleNote[] = [];
  const missingRoles = new Set<string>();
  const ready = (roles: readonly string[]): boolean => {
    const missing = roles.filter((r) => !catalog.roles.has(r));
    missing.forEach((r) => missingRoles.add(r));
    return missing.length === 0;
  };
  const statements: PreparedStatement[] = [];
  const schemaExists = (name: string) => catalog.schemas.has(name) || objects.schemas.some((s) => s.name === name);
  for (const schema of objects.schemas) {
    if (catalog.schemas.has(schema.name) || !ready([schema.owner])) continue;
    statements.push({
      type: 'create-schema',
      schema: schema.name,
      owner: schema.owner,
      reason: `database ${database.name}: create schema ${schema.name} owned by ${schema.owner}`,
    });
  }
  for (const { schema, roles } of objects.schemaUsage) {
    const has = catalog.schemas.get(schema)?.usage ?? [];
    const missing = roles.filter((r) => !has.includes(r));
    if (missing.length && ready(missing))
      statements.push({
        type: 'grant-schema-usage',
        schema,
        roles: missing,
        reason: `database ${database.name}: USAGE on schema ${schema} for ${missing.join(', ')}`,
      });
  }
  for (const privilege of objects.defaultPrivileges) {
    const objtype = OBJECT_TYPES[privilege.objects];
    const complete = privilege.grantees.every((g) =>
      privilege.privileges.every((p) =>
        catalog.defaultAcl.has(defaultAclKey(privilege.owner, privilege.schema ?? '', objtype, g, p)),
      ),
    );
    if (complete || !ready([privilege.owner, ...privilege.grantees])) continue;
    const where = privilege.schema === undefined ? '' : ` in schema ${privilege.schema}`;
    statements.push({
      type: 'default-privileges',
      ...privilege,
      reason: `database ${database.name}: default privileges of ${privilege.owner}${where}: ${privilege.privileges.join(', ')} on ${privilege.objects.toLowerCase()} for ${privilege.grantees.join(', ')}`,
    });
  }
  const owner = `${database.name}${OWNER}`;
  for (const extension of objects.extensions) {
    const current = catalog.extensions.get(extension.name);
    if (current === extension.schema) continue;
    if (!schemaExists(extension.schema)) {
      notes.push({
        name: database.name,
        origin: 'database',
        message: `database ${database.name}: extension ${extension.name} waits for schema ${JSON.stringify(extension.schema)}, which does not exist`,
      });
      continue;
    }
    statements.push(
      current === undefined
        ? {
            type: 'create-extension',
            extension: extension.name,
            schema: extension.schema,
            owner,
            reason: `database ${database.name}: create extension ${extension.name} in schema ${extension.schema}`,
          }
        : {
            type: 'alter-extension-schema',
            extension: extension.name,
            schema: extension.schema,
            reason: `database ${database.name}: move extension ${extension.name} from schema ${current} to ${extension.schema}`,
          },
    );
  }
  if (missingRoles.size)
    notes.push({
      name: database.name,
      origin: 'database',
      message: `database ${database.name}: privileges wait for roles that do not exist: ${[...missingRoles].sort().join(', ')}`,
    });
  return { statements, notes };
}
