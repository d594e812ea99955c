/**
 * A prepared database's catalog and statements: reads the schemas (owner, USAGE grantees), extensions, exploded
 * `pg_default_acl` entries and role names the planner asks about, in one query each; renders and runs the planned
 * statements. Names are checked with the strict rules again and quoted with pg's `escapeIdentifier`; nothing else
 * goes into the text.
 *
 * Source: PostgreSQL docs, pg_namespace, pg_extension, pg_default_acl, aclexplode, acldefault, CREATE SCHEMA,
 * GRANT, ALTER DEFAULT PRIVILEGES, CREATE EXTENSION, ALTER EXTENSION, SET ROLE; "Error Codes" (42501
 * insufficient_privilege).
 */
import { databaseNameProblem, roleNameProblem } from '../roles/names';
import {
  defaultAclKey,
  extensionNameProblem,
  OBJECT_TYPES,
  preparedSchemaProblem,
  type PreparedCatalog,
  type PreparedStatement,
} from '../roles/prepared-databases';
import { PostgresError, type PgSession } from './connection';
import { escapeIdentifier, UnsafeNameError } from './sql';

const SCHEMAS_QUERY = `
SELECT n.nspname::text AS name, pg_catalog.pg_get_userbyid(n.nspowner)::text AS owner,
       ARRAY(SELECT pg_catalog.pg_get_userbyid(a.grantee)::text
               FROM pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
              WHERE a.privilege_type = 'USAGE' AND a.grantee <> 0 ORDER BY 1) AS usage
  FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1::text[])`;

const EXTENSIONS_QUERY = `
SELECT e.extname::text AS name, n.nspname::text AS schema
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = ANY($1::text[])`;

const DEFAULT_ACL_QUERY = `
SELECT pg_catalog.pg_get_userbyid(d.defaclrole)::text AS owner, COALESCE(n.nspname::text, '') AS schema,
       d.defaclobjtype::text AS objtype, pg_catalog.pg_get_userbyid(a.grantee)::text AS grantee,
       a.privilege_type::text AS privilege
  FROM pg_catalog.pg_default_acl d
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
  CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a
 WHERE a.grantee <> 0`;

const ROLES_QUERY = `SELECT rolname::text AS name FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])`;

/** @returns what the session's database holds of these schemas, extensions and roles, and every default ACL entry */
export async function readPreparedCatalog(
  session: PgSession,
  names: { schemas: readonly string[]; extensions: readonly string[]; roles: readonly string[] },
): Promise<PreparedCatalog> {
  const [schemas, extensions, acl, roles] = await Promise.all([
    session.query<{ name: string; owner: string; usage: string[] }>(SCHEMAS_QUERY, [names.schemas], 'read schemas'),
    session.query<{ name: string; schema: string }>(EXTENSIONS_QUERY, [names.extensions], 'read extensions'),
    session.query<{ owner: string; schema: string; objtype: string; grantee: string; privilege: string }>(
      DEFAULT_ACL_QUERY,
      undefined,
      'read default privileges',
    ),
    session.query<{ name: string }>(ROLES_QUERY, [names.roles], 'read role names'),
  ]);
  return {
    schemas: new Map(schemas.map((s) => [s.name, { owner: s.owner, usage: s.usage }])),
    extensions: new Map(extensions.map((e) => [e.name, e.schema])),
    defaultAcl: new Set(acl.map((a) => defaultAclKey(a.owner, a.schema, a.objtype, a.grantee, a.privilege))),
    roles: new Set(roles.map((r) => r.name)),
  };
}

const checked = (name: string, problem: string | undefined): string => {
  if (problem) throw new UnsafeNameError(problem);
  return escapeIdentifier(name);
};
const role = (name: string) => checked(name, roleNameProblem(name));
const schema = (name: string) => checked(name, preparedSchemaProblem(name));
const extension = (name: string) => checked(name, extensionNameProblem(name));
const PRIVILEGE = /^(SELECT|INSERT|UPDATE|DELETE|USAGE|EXECUTE)$/;

/** @returns the SQL of one statement; throws UnsafeNameError for a name that fails the strict check */
export function renderPreparedStatement(statement: PreparedStatement): string {
  switch (statement.type) {
    case 'create-schema':
      return `CREATE SCHEMA IF NOT EXISTS ${schema(statement.schema)} AUTHORIZATION ${role(statement.owner)}`;
    case 'grant-schema-usage':
      return `GRANT USAGE ON SCHEMA ${schema(statement.schema)} TO ${statement.roles.map(role).join(', ')}`;
    case 'default-privileges': {
      if (!(statement.objects in OBJECT_TYPES)) throw new UnsafeNameError(`unknown object type ${statement.objects}`);
      const privileges = statement.privileges.map((p) => {
        if (!PRIVILEGE.test(p)) throw new UnsafeNameError(`unknown privilege ${JSON.stringify(p)}`);
        return p;
      });
      const where = statement.schema === undefined ? '' : ` IN SCHEMA ${schema(statement.schema)}`;
      return `ALTER DEFAULT PRIVILEGES FOR ROLE ${role(statement.owner)}${where} GRANT ${privileges.join(', ')} ON ${statement.objects} TO ${statement.grantees.map(role).join(', ')}`;
    }
    case 'create-extension':
      return `CREATE EXTENSION IF NOT EXISTS ${extension(statement.extension)} SCHEMA ${schema(statement.schema)}`;
    case 'alter-extension-schema':
      return `ALTER EXTENSION ${extension(statement.extension)} SET SCHEMA ${schema(statement.schema)}`;
  }
}

/** What happened to a database's statements. Errors name the statement by its reason. */
export interface PreparedExecution {
  executed: PreparedStatement[];
  failed: Array<{ statement: PreparedStatement; error: string; retryable: boolean }>;
  /** extensions created by the superuser because the database owner may not create them */
  asSuperuser: string[];
}

/**
 * Runs the statements in order; one that fails does not stop the others. An extension is created as the database
 * owner (`SET ROLE` in the same implicit transaction, so the session's role is back afterwards); when PostgreSQL
 * refuses that (42501: an untrusted extension), as the superuser.
 */
export async function executePreparedStatements(
  session: PgSession,
  database: string,
  statements: readonly PreparedStatement[],
): Promise<PreparedExecution> {
  const result: PreparedExecution = { executed: [], failed: [], asSuperuser: [] };
  const fail = (statement: PreparedStatement, error: unknown) => {
    const e = error as PostgresError;
    result.failed.push({
      statement,
      error: error instanceof UnsafeNameError ? `${statement.reason}: refused: ${e.message}` : e.message,
      retryable: error instanceof UnsafeNameError ? false : Boolean(e.retryable),
    });
  };
  checked(database, databaseNameProblem(database));
  for (const statement of statements) {
    try {
      const sql = renderPreparedStatement(statement);
      if (statement.type === 'create-extension') {
        try {
          await session.query(`SET LOCAL ROLE ${role(statement.owner)}; ${sql}`, undefined, statement.reason);
        } catch (error) {
          if ((error as PostgresError).code !== '42501') throw error;
          await session.query(sql, undefined, statement.reason);
          result.asSuperuser.push(statement.extension);
        }
      } else await session.query(sql, undefined, statement.reason);
      result.executed.push(statement);
    } catch (error) {
      if (!(error instanceof UnsafeNameError) && !(error instanceof PostgresError)) throw error;
      fail(statement, error);
    }
  }
  return result;
}
