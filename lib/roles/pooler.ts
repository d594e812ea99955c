/**
 * The connection pooler in PostgreSQL: its role (LOGIN, the password of its Secret) and, in every database, the
 * schema `<schema>` with the function `<schema>.user_lookup(text)` PgBouncer's `auth_query` calls to read a
 * user's password verifier from `pg_shadow`. The function runs as its owner (SECURITY DEFINER, the superuser), and
 * only the pooler role may execute it. Pure: the catalog state is read by `lib/pg/pooler-lookup.ts`.
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/user.md#connection-pooler (the pooler user and
 * schema, the lookup function in each database); PgBouncer docs, https://www.pgbouncer.org/config.html (auth_user,
 * auth_query); PostgreSQL docs, CREATE FUNCTION (SECURITY DEFINER), pg_proc, aclexplode.
 */
import type { OperatorConfig } from '../model/config';
import { anyPoolerEnabled, poolerSettings } from '../model/pooler';
import type { Postgresql } from '../model/postgresql';
import type { DesiredRole } from './types';

/**
 * The function's body, whitespace collapsed. The same as Zalando's, so a function its operator installed is
 * recognised and not replaced; the parameter names (`i_username`, `uname`, `phash`) must stay as they are too,
 * since CREATE OR REPLACE cannot rename parameters.
 */
export const LOOKUP_BODY =
  'BEGIN SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = i_username INTO uname, phash; RETURN; END;';

/** What one database holds of the lookup function, as read from its catalog. */
export interface LookupState {
  schemaExists: boolean;
  functionExists: boolean;
  securityDefiner: boolean;
  /** `prosrc` with whitespace collapsed and trimmed ('' when the function is missing) */
  body: string;
  /** PUBLIC holds EXECUTE (the default for a new function, which the install revokes) */
  publicCanExecute: boolean;
  /** the pooler role holds EXECUTE by a grant of its own */
  roleCanExecute: boolean;
  /** the pooler role holds USAGE on the schema */
  roleHasUsage: boolean;
}

/** What the pooler needs in the database, when any pooler runs (standby clusters are read-only: nothing there). */
export interface PoolerDatabaseState {
  role: DesiredRole;
  schema: string;
}

/**
 * @param passwords user -> password of the credentials Secrets (the pooler role's among them)
 * @returns the pooler role and schema, or undefined when no pooler runs
 */
export function poolerDatabaseState(
  cluster: Postgresql,
  config: OperatorConfig,
  passwords: Readonly<Record<string, string>>,
): PoolerDatabaseState | undefined {
  if (!anyPoolerEnabled(cluster.spec)) return undefined;
  const { user, schema } = poolerSettings(cluster.spec, config);
  return {
    role: {
      name: user,
      origin: 'system',
      attributes: ['LOGIN'],
      memberOf: [],
      admins: [],
      parameters: {},
      password: passwords[user],
    },
    schema,
  };
}

/** @returns why the lookup function must be (re)installed in a database, one phrase each; empty when it is right */
export function lookupProblems(state: LookupState): string[] {
  const problems: string[] = [];
  if (!state.schemaExists) problems.push('the schema is missing');
  if (!state.functionExists) problems.push('the function is missing');
  else {
    if (!state.securityDefiner) problems.push('the function is not SECURITY DEFINER');
    if (state.body !== LOOKUP_BODY) problems.push('the function body differs');
    if (state.publicCanExecute) problems.push('PUBLIC may execute it');
    if (!state.roleCanExecute) problems.push('the pooler role may not execute it');
  }
  if (state.schemaExists && !state.roleHasUsage) problems.push('the pooler role has no USAGE on the schema');
  return problems;
}

/** A database of `pg_database`. */
export interface DatabaseRow {
  name: string;
  allowConnections: boolean;
}

/** @returns the databases the function goes into: every one that accepts connections but the templates */
export function lookupDatabases(rows: readonly DatabaseRow[]): string[] {
  return rows
    .filter((row) => row.allowConnections && row.name !== 'template0' && row.name !== 'template1')
    .map((row) => row.name)
    .sort();
}
