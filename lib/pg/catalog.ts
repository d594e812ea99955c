/**
 * Reads what the planner compares against: the roles asked about (attributes, password verifier, memberships,
 * ADMIN OPTION holders, database-independent settings) and the owners of the databases asked about. Two
 * parameterized queries, whatever the number of roles. Needs a superuser (`pg_authid` holds the verifiers).
 *
 * Source: PostgreSQL docs, system catalogs pg_authid, pg_auth_members, pg_db_role_setting, pg_database; SHOW.
 */
import type { Catalog, CatalogRole, PasswordEncryption } from '../roles/types';
import type { PgSession } from './connection';

// `name[]` has no parser in node-postgres (it would arrive as the string "{a,b}"): arrays are built as text[].
const ROLES_QUERY = `
SELECT a.rolname::text AS rolname, a.rolsuper, a.rolinherit, a.rolcreaterole, a.rolcreatedb, a.rolcanlogin, a.rolreplication,
       a.rolbypassrls, a.rolpassword,
       ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_authid g ON g.oid = m.roleid
             WHERE m.member = a.oid ORDER BY 1) AS member_of,
       ARRAY(SELECT u.rolname::text FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_authid u ON u.oid = m.member
             WHERE m.roleid = a.oid AND m.admin_option ORDER BY 1) AS admins,
       COALESCE(s.setconfig, '{}') AS setconfig
  FROM pg_catalog.pg_authid a
  LEFT JOIN pg_catalog.pg_db_role_setting s ON s.setrole = a.oid AND s.setdatabase = 0
 WHERE a.rolname = ANY($1::text[])`;

const DATABASES_QUERY = `
SELECT datname::text AS datname, pg_catalog.pg_get_userbyid(datdba)::text AS owner FROM pg_catalog.pg_database WHERE datname = ANY($1::text[])`;

interface RoleRow extends Record<string, unknown> {
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolpassword: string | null;
  member_of: string[];
  admins: string[];
  setconfig: string[];
}

/** @returns `name=value` entries as a map (the value may itself contain `=`) */
function settings(entries: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at > 0) result[entry.slice(0, at).toLowerCase()] = entry.slice(at + 1);
  }
  return result;
}

const names = (value: unknown, what: string): string[] => {
  if (!Array.isArray(value)) throw new Error(`unexpected ${what} from pg_authid: not an array`);
  return value as string[];
};

/** @returns the catalog rows of these roles and databases (absent names are simply not in the maps) */
export async function readCatalog(
  session: PgSession,
  roleNames: readonly string[],
  databaseNames: readonly string[],
): Promise<Catalog> {
  const roleRows = await session.query<RoleRow>(ROLES_QUERY, [roleNames], 'read roles from pg_authid');
  const roles = new Map<string, CatalogRole>(
    roleRows.map((row) => [
      row.rolname,
      {
        name: row.rolname,
        superuser: row.rolsuper,
        inherit: row.rolinherit,
        createrole: row.rolcreaterole,
        createdb: row.rolcreatedb,
        login: row.rolcanlogin,
        replication: row.rolreplication,
        bypassrls: row.rolbypassrls,
        password: row.rolpassword,
        memberOf: names(row.member_of, 'member_of'),
        admins: names(row.admins, 'admins'),
        parameters: settings(names(row.setconfig, 'setconfig')),
      },
    ]),
  );
  const databases = new Map<string, string>();
  if (databaseNames.length) {
    const rows = await session.query<{ datname: string; owner: string }>(
      DATABASES_QUERY,
      [databaseNames],
      'read pg_database',
    );
    for (const row of rows) databases.set(row.datname, row.owner);
  }
  return { roles, databases };
}

const MEMBERS_QUERY = `
SELECT u.rolname::text AS rolname FROM pg_catalog.pg_auth_members m
  JOIN pg_catalog.pg_authid g ON g.oid = m.roleid JOIN pg_catalog.pg_authid u ON u.oid = m.member
 WHERE g.rolname = $1 ORDER BY 1`;

/** @returns the names of the roles that are members of `group` (none when it does not exist) */
export async function readGroupMembers(session: PgSession, group: string): Promise<string[]> {
  const rows = await session.query<{ rolname: string }>(MEMBERS_QUERY, [group], `read the members of ${group}`);
  return rows.map((row) => row.rolname);
}

/** @returns the server's `password_encryption` (`on`, from before PostgreSQL 14, means md5) */
export async function serverPasswordEncryption(session: PgSession): Promise<PasswordEncryption> {
  const rows = await session.query<{ password_encryption: string }>(
    'SHOW password_encryption',
    undefined,
    'read password_encryption',
  );
  return rows[0]?.password_encryption === 'scram-sha-256' ? 'scram-sha-256' : 'md5';
}
