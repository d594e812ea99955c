/**
 * The connection pooler's lookup function in every database of a cluster (the role step, once roles and
 * databases are in place): the databases are listed over the superuser's session, each is read and the function
 * installed where it is missing or differs (`lib/roles/pooler.ts` decides). An unchanged cluster costs one read per
 * database and runs no DDL. A database that fails does not stop the others.
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/user.md#connection-pooler.
 */
import type { PgSession } from '../../pg/connection';
import { PostgresError } from '../../pg/connection';
import { installLookupFunction, listDatabases, readLookupState } from '../../pg/pooler-lookup';
import { lookupDatabases, lookupProblems } from '../../roles/pooler';

/** What happened in the databases. */
export interface LookupOutcome {
  /** `<database>: <why>` for each database where the function was installed */
  installed: string[];
  failed: Array<{ database: string; error: string; retryable: boolean }>;
}

/**
 * @param main an open session to the `postgres` database as the superuser
 * @param open opens a session to another database with the same settings
 * @returns the databases installed and failed; throws nothing but a failure to list the databases
 */
export async function syncLookupFunctions(
  main: PgSession,
  open: (database: string) => Promise<PgSession>,
  schema: string,
  role: string,
): Promise<LookupOutcome> {
  const outcome: LookupOutcome = { installed: [], failed: [] };
  const databases = lookupDatabases(await listDatabases(main));
  for (const database of databases) {
    let session: PgSession | undefined;
    try {
      session = database === 'postgres' ? main : await open(database);
      const problems = lookupProblems(await readLookupState(session, schema, role));
      if (problems.length === 0) continue;
      await installLookupFunction(session, schema, role);
      outcome.installed.push(`${database} (${problems.join(', ')})`);
    } catch (error) {
      const e = error instanceof PostgresError ? error : new PostgresError(String(error), undefined, false);
      outcome.failed.push({ database, error: `database ${database}: ${e.message}`, retryable: e.retryable });
    } finally {
      if (session && session !== main) await session.close();
    }
  }
  return outcome;
}
