/**
 * The prepared databases part of the role step, run after the roles and databases are in place: in each prepared
 * database, read its catalog, plan what is missing (schemas, schema grants, default privileges, extensions) and
 * run it. An unchanged database costs one connection and four catalog reads, and runs no DDL. Without the Lease
 * nothing runs: the reasons of what would run are returned instead.
 *
 * Source: Zalando postgres-operator v1.15.1 (syncPreparedDatabases after syncDatabases, each database over its own
 * connection, errors collected and not fatal); see `lib/roles/prepared-databases.ts` for the rules.
 */
import type { PgSession } from '../../pg/connection';
import { PostgresError } from '../../pg/connection';
import { executePreparedStatements, readPreparedCatalog } from '../../pg/prepared-databases';
import {
  planPreparedDatabase,
  preparedObjects,
  preparedRoleNames,
  type PreparedDatabase,
  type PreparedStatement,
} from '../../roles/prepared-databases';
import type { RoleNote } from '../../roles/types';

/** What the prepared databases step did, over all databases. */
export interface PreparedOutcome {
  executed: Array<{ database: string; statement: PreparedStatement }>;
  failed: Array<{ error: string; retryable: boolean }>;
  notes: RoleNote[];
  /** extensions the database owner could not create, created by the superuser (`<database>.<extension>`) */
  asSuperuser: string[];
  /** without the Lease: the first reasons of what would run (nothing ran) */
  needsLease?: string;
}

/** Words for a statement in logs and Events. */
export function describePrepared(database: string, statement: PreparedStatement): string {
  switch (statement.type) {
    case 'create-schema':
      return `Created schema ${statement.schema} in database ${database} owned by ${statement.owner}`;
    case 'grant-schema-usage':
      return `Granted USAGE on schema ${database}.${statement.schema} to ${statement.roles.join(', ')}`;
    case 'default-privileges':
      return `Set default privileges of ${statement.owner} in database ${database}${statement.schema === undefined ? '' : `, schema ${statement.schema}`}`;
    case 'create-extension':
      return `Created extension ${statement.extension} in ${database}.${statement.schema}`;
    case 'alter-extension-schema':
      return `Moved extension ${statement.extension} to ${database}.${statement.schema}`;
  }
}

/**
 * @returns one phrase per database for an Event ("Database bar: created schema data; granted USAGE on 1 schema;
 *   set 25 default privileges; created extension pgcrypto"), in the order the databases ran
 */
export function summarizePrepared(executed: PreparedOutcome['executed']): string[] {
  const byDatabase = new Map<string, PreparedStatement[]>();
  for (const { database, statement } of executed)
    byDatabase.set(database, [...(byDatabase.get(database) ?? []), statement]);
  return [...byDatabase].map(([database, statements]) => {
    const of = <T extends PreparedStatement['type']>(type: T) =>
      statements.filter((s): s is Extract<PreparedStatement, { type: T }> => s.type === type);
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    const parts = [
      ...of('create-schema').map((s) => `created schema ${s.schema} owned by ${s.owner}`),
      ...(of('grant-schema-usage').length
        ? [`granted USAGE on ${count(of('grant-schema-usage').length, 'schema')}`]
        : []),
      ...(of('default-privileges').length
        ? [`set ${count(of('default-privileges').length, 'default privilege')}`]
        : []),
      ...of('create-extension').map((s) => `created extension ${s.extension} in schema ${s.schema}`),
      ...of('alter-extension-schema').map((s) => `moved extension ${s.extension} to schema ${s.schema}`),
    ];
    return `Database ${database}: ${parts.join('; ')}`;
  });
}

/**
 * @param open opens a superuser session to a database
 * @param mayWrite whether DDL may run (the cluster's Lease is held)
 * @returns what ran, failed and waits; never throws for database errors
 */
export async function syncPreparedDatabases(
  databases: readonly PreparedDatabase[],
  open: (database: string) => Promise<PgSession>,
  mayWrite: boolean,
  onDone: (database: string, statement: PreparedStatement) => void = () => undefined,
): Promise<PreparedOutcome> {
  const outcome: PreparedOutcome = { executed: [], failed: [], notes: [], asSuperuser: [] };
  const pending: string[] = [];
  for (const database of databases) {
    let session: PgSession;
    try {
      session = await open(database.name);
    } catch (error) {
      const e = error as PostgresError;
      outcome.failed.push({ error: `database ${database.name}: ${e.message}`, retryable: e.retryable ?? true });
      continue;
    }
    try {
      const objects = preparedObjects(database);
      const catalog = await readPreparedCatalog(session, {
        schemas: [...new Set([...objects.schemas.map((s) => s.name), ...objects.extensions.map((e) => e.schema)])],
        extensions: objects.extensions.map((e) => e.name),
        roles: preparedRoleNames(objects),
      });
      const plan = planPreparedDatabase(database, catalog);
      outcome.notes.push(...plan.notes);
      if (!mayWrite) {
        pending.push(...plan.statements.map((s) => s.reason));
        continue;
      }
      const ran = await executePreparedStatements(session, database.name, plan.statements);
      for (const statement of ran.executed) {
        outcome.executed.push({ database: database.name, statement });
        onDone(database.name, statement);
      }
      outcome.failed.push(...ran.failed.map((f) => ({ error: f.error, retryable: f.retryable })));
      outcome.asSuperuser.push(...ran.asSuperuser.map((e) => `${database.name}.${e}`));
    } catch (error) {
      if (!(error instanceof PostgresError)) throw error;
      outcome.failed.push({ error: `database ${database.name}: ${error.message}`, retryable: error.retryable });
    } finally {
      await session.close();
    }
  }
  if (pending.length) outcome.needsLease = pending.slice(0, 3).join('; ');
  return outcome;
}
