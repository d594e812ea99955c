/**
 * The connection pooler's lookup function in one database: read its state from the catalog, install it (one
 * implicit transaction: the schema, the function, its privileges). Names are checked with the strict rules and
 * quoted; the body is fixed text.
 *
 * Source: PostgreSQL docs, CREATE SCHEMA, CREATE FUNCTION, REVOKE/GRANT, aclexplode, to_regprocedure; "Message
 * Flow", simple query (several statements in one query string run as one transaction); PgBouncer docs,
 * https://www.pgbouncer.org/config.html (auth_query).
 */
import { roleNameProblem } from '../roles/names';
import { LOOKUP_BODY, type DatabaseRow, type LookupState } from '../roles/pooler';
import { schemaNameProblem } from '../model/rules';
import type { PgSession } from './connection';
import { escapeIdentifier, UnsafeNameError } from './sql';

const STATE_QUERY = `
SELECT (SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = $1) = 1 AS schema_exists,
       p.oid IS NOT NULL AS function_exists,
       COALESCE(p.prosecdef, false) AS security_definer,
       COALESCE(pg_catalog.btrim(pg_catalog.regexp_replace(p.prosrc, '\\s+', ' ', 'g')), '') AS body,
       COALESCE((SELECT pg_catalog.bool_or(a.grantee = 0)
                   FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                  WHERE a.privilege_type = 'EXECUTE'), false) AS public_can_execute,
       COALESCE((SELECT pg_catalog.bool_or(a.grantee = r.oid)
                   FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a,
                        pg_catalog.pg_roles r
                  WHERE r.rolname = $2 AND a.privilege_type = 'EXECUTE'), false) AS role_can_execute,
       COALESCE((SELECT pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')
                   FROM pg_catalog.pg_roles r, pg_catalog.pg_namespace n
                  WHERE r.rolname = $2 AND n.nspname = $1), false) AS role_has_usage
  FROM (SELECT pg_catalog.to_regprocedure(pg_catalog.format('%I.user_lookup(text)', $1::text))::oid AS oid) f
  LEFT JOIN pg_catalog.pg_proc p ON p.oid = f.oid`;

interface StateRow extends Record<string, unknown> {
  schema_exists: boolean;
  function_exists: boolean;
  security_definer: boolean;
  body: string;
  public_can_execute: boolean;
  role_can_execute: boolean;
  role_has_usage: boolean;
}

const checked = (name: string, problem: string | undefined): string => {
  if (problem) throw new UnsafeNameError(problem);
  return escapeIdentifier(name);
};

/** @returns the SQL that installs the function for `role` in `schema`; throws UnsafeNameError for a bad name */
export function lookupInstallSql(schema: string, role: string): string {
  const s = checked(schema, schemaNameProblem(schema));
  const r = checked(role, roleNameProblem(role));
  const fn = `${s}.user_lookup(text)`;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE OR REPLACE FUNCTION ${s}.user_lookup(IN i_username text, OUT uname text, OUT phash text) RETURNS record` +
      ` LANGUAGE plpgsql SECURITY DEFINER AS $lookup$ ${LOOKUP_BODY} $lookup$`,
    `REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC, ${r}`,
    `GRANT EXECUTE ON FUNCTION ${fn} TO ${r}`,
    `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
  ].join(';\n');
}

/** @returns the lookup function's state in the session's database */
export async function readLookupState(session: PgSession, schema: string, role: string): Promise<LookupState> {
  const [row] = await session.query<StateRow>(STATE_QUERY, [schema, role], 'read the pooler lookup function');
  return {
    schemaExists: row!.schema_exists,
    functionExists: row!.function_exists,
    securityDefiner: row!.security_definer,
    body: row!.body,
    publicCanExecute: row!.public_can_execute,
    roleCanExecute: row!.role_can_execute,
    roleHasUsage: row!.role_has_usage,
  };
}

/** Installs (or repairs) the lookup function in the session's database, in one transaction. */
export async function installLookupFunction(session: PgSession, schema: string, role: string): Promise<void> {
  await session.query(lookupInstallSql(schema, role), undefined, `install ${schema}.user_lookup`);
}

/** @returns every database of the server, with whether it accepts connections */
export async function listDatabases(session: PgSession): Promise<DatabaseRow[]> {
  const rows = await session.query<{ datname: string; datallowconn: boolean }>(
    'SELECT datname::text AS datname, datallowconn FROM pg_catalog.pg_database',
    undefined,
    'list databases',
  );
  return rows.map((row) => ({ name: row.datname, allowConnections: row.datallowconn }));
}
