/**
 * Runs planned statements one by one, outside any transaction (CREATE DATABASE refuses to run in one). A statement
 * that fails does not stop the others; "already exists" (42710 duplicate_object, 42P04 duplicate_database: a
 * concurrent sync got there first) counts as done. A statement whose names fail the strict check is never sent.
 *
 * Source: PostgreSQL docs, "Error Codes" (42710, 42P04), CREATE DATABASE ("cannot be executed inside a
 * transaction block").
 */
import type { Statement } from '../roles/types';
import { PostgresError, type PgSession } from './connection';
import { renderStatement, UnsafeNameError } from './sql';

/** SQLSTATEs that mean the object is already there. */
export const ALREADY_EXISTS: ReadonlySet<string> = new Set(['42710', '42P04']);

/** What happened to the statements. Errors name the statement by its reason, never by its SQL. */
export interface ExecutionResult {
  /** statements the server ran (or found already done) */
  executed: Statement[];
  failed: Array<{ statement: Statement; error: string; retryable: boolean }>;
  /** whether the session itself broke (timeout, connection lost): the remaining statements were not tried */
  aborted: boolean;
}

/**
 * @param onDone called after each statement that ran, e.g. to log its reason
 * @returns executed and failed statements; throws nothing
 */
export async function executeStatements(
  session: PgSession,
  statements: readonly Statement[],
  onDone: (statement: Statement, existed: boolean) => void = () => undefined,
): Promise<ExecutionResult> {
  const result: ExecutionResult = { executed: [], failed: [], aborted: false };
  for (const [i, statement] of statements.entries()) {
    let sql: string;
    try {
      sql = renderStatement(statement);
    } catch (error) {
      if (!(error instanceof UnsafeNameError)) throw error;
      result.failed.push({ statement, error: `${statement.reason}: refused: ${error.message}`, retryable: false });
      continue;
    }
    try {
      await session.query(sql, undefined, statement.reason);
      result.executed.push(statement);
      onDone(statement, false);
    } catch (error) {
      const e = error as PostgresError;
      if (e.code && ALREADY_EXISTS.has(e.code)) {
        result.executed.push(statement);
        onDone(statement, true);
        continue;
      }
      result.failed.push({ statement, error: e.message, retryable: e.retryable });
      if (e.code === undefined && e.retryable) {
        // the connection is gone: the rest cannot run now
        result.aborted = true;
        for (const rest of statements.slice(i + 1))
          result.failed.push({ statement: rest, error: `${rest.reason}: not run (${e.message})`, retryable: true });
        break;
      }
    }
  }
  return result;
}
