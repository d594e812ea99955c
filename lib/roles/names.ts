/**
 * Strict checks for the names that end up in SQL: roles, databases and role parameters. Every name is checked here
 * before a statement is planned, and again by `lib/pg/sql.ts` before it is quoted, so a hostile name (quotes,
 * semicolons, backslashes, unicode, NUL, more than 63 bytes) is refused with a message instead of reaching the server.
 *
 * Source: Zalando postgres-operator (user name rule of manifest users; database names `^[a-zA-Z_][a-zA-Z0-9_]*$`);
 * PostgreSQL docs, "Identifiers and Key Words" (NAMEDATALEN - 1 = 63 bytes, longer names are truncated).
 */
import { DATABASE_NAME, MAX_IDENTIFIER_BYTES, SYSTEM_DATABASES } from '../model/rules';
import { USER_NAME } from '../model/validate';

// The identifier rules are the manifest validation's (lib/model/rules.ts); this layer checks every name again
// before SQL, whatever its source (infrastructure roles, the Teams API).
export { DATABASE_NAME, MAX_IDENTIFIER_BYTES, SYSTEM_DATABASES };

/** Names of settings for `ALTER ROLE ... SET` (`log_statement`, `pg_stat_statements.track`). */
export const PARAMETER_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*$/;

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

function check(kind: string, name: unknown, pattern: RegExp): string | undefined {
  if (typeof name !== 'string') return `invalid ${kind} name ${JSON.stringify(name)}: not a string`;
  if (name === '') return `invalid ${kind} name "": empty`;
  const bytes = utf8Length(name);
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return `invalid ${kind} name ${JSON.stringify(name)}: ${bytes} bytes, at most ${MAX_IDENTIFIER_BYTES}`;
  }
  if (!pattern.test(name)) return `invalid ${kind} name ${JSON.stringify(name)}: must match ${pattern.source}`;
  return undefined;
}

/**
 * @returns why `name` cannot be a role (lower case letters, digits, `-`, `_`, dot-separated parts, at most 63
 *   bytes), or undefined when it can
 */
export function roleNameProblem(name: unknown): string | undefined {
  return check('role', name, USER_NAME);
}

/** @returns why `name` cannot be a database (`^[a-zA-Z_][a-zA-Z0-9_]*$`, at most 63 bytes), or undefined */
export function databaseNameProblem(name: unknown): string | undefined {
  return check('database', name, DATABASE_NAME);
}

/** @returns why `name` cannot be a role parameter (setting) name, or undefined */
export function parameterNameProblem(name: unknown): string | undefined {
  return check('parameter', name, PARAMETER_NAME);
}
