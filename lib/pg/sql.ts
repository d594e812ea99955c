/**
 * Renders planned statements to SQL text. Every name is checked again with the strict rules of `lib/roles/names`
 * and then quoted with pg's own `escapeIdentifier`; every value goes through pg's `escapeLiteral`. A name that
 * fails the check throws: it never reaches the server. Utility statements take no `$1` parameters, which is why
 * the text is built here and nowhere else.
 *
 * Passwords are verifiers (md5 or SCRAM), never plaintext; still, the SQL text of a statement with a password is
 * never logged (log `statement.reason` instead).
 *
 * Source: node-postgres (`escapeIdentifier`, `escapeLiteral`); PostgreSQL docs, CREATE ROLE, ALTER ROLE, GRANT,
 * CREATE DATABASE, ALTER DATABASE.
 */
// pg's own escaping functions from their module, so that rendering SQL does not load the whole client at start.
import pgUtils from 'pg/lib/utils.js';
import { databaseNameProblem, parameterNameProblem, roleNameProblem } from '../roles/names';
import type { Statement } from '../roles/types';

/** A name refused at rendering time (a planner bug or a bypassed check; never sent). */
export class UnsafeNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeNameError';
  }
}

/** pg's `escapeIdentifier` and `escapeLiteral`, without loading the client (see the import). */
export const { escapeIdentifier, escapeLiteral } = pgUtils;

const ATTRIBUTE = /^(NO)?(SUPERUSER|LOGIN|CREATEDB|INHERIT|REPLICATION|BYPASSRLS|CREATEROLE)$/;

const role = (name: string): string => {
  const problem = roleNameProblem(name);
  if (problem) throw new UnsafeNameError(problem);
  return escapeIdentifier(name);
};
const database = (name: string): string => {
  const problem = databaseNameProblem(name);
  if (problem) throw new UnsafeNameError(problem);
  return escapeIdentifier(name);
};
const parameter = (name: string): string => {
  const problem = parameterNameProblem(name);
  if (problem) throw new UnsafeNameError(problem);
  return name
    .split('.')
    .map((part) => escapeIdentifier(part))
    .join('.');
};
const literal = (value: string): string => {
  if (value.includes('\0')) throw new UnsafeNameError('a value contains a NUL byte');
  return escapeLiteral(value);
};
const attributes = (list: readonly string[]): string =>
  list
    .map((a) => {
      if (!ATTRIBUTE.test(a)) throw new UnsafeNameError(`unknown role attribute ${JSON.stringify(a)}`);
      return ` ${a}`;
    })
    .join('');
const password = (value: string | null | undefined): string =>
  value === undefined ? '' : value === null ? ' PASSWORD NULL' : ` PASSWORD ${literal(value)}`;

/** @returns the SQL text of one statement; throws UnsafeNameError for a name that fails the strict check */
export function renderStatement(statement: Statement): string {
  switch (statement.type) {
    case 'create-role': {
      const inRoles = statement.inRoles.length ? ` IN ROLE ${statement.inRoles.map(role).join(', ')}` : '';
      const admins = statement.admins.length ? ` ADMIN ${statement.admins.map(role).join(', ')}` : '';
      return `CREATE ROLE ${role(statement.role)} WITH${attributes(statement.attributes)}${inRoles}${admins}${password(statement.password)}`;
    }
    case 'alter-role':
      return `ALTER ROLE ${role(statement.role)} WITH${attributes(statement.attributes)}${password(statement.password)}`;
    case 'grant-membership':
      return `GRANT ${statement.groups.map(role).join(', ')} TO ${role(statement.role)}`;
    case 'grant-admin':
      return `GRANT ${role(statement.role)} TO ${role(statement.admin)} WITH ADMIN OPTION`;
    case 'set-parameter':
      if (statement.values.length === 0) throw new UnsafeNameError(`parameter ${statement.name} has no value`);
      return `ALTER ROLE ${role(statement.role)} SET ${parameter(statement.name)} TO ${statement.values.map(literal).join(', ')}`;
    case 'reset-parameters':
      return `ALTER ROLE ${role(statement.role)} RESET ALL`;
    case 'rename-role':
      return `ALTER ROLE ${role(statement.role)} RENAME TO ${role(statement.newName)}`;
    case 'drop-role':
      return `DROP ROLE IF EXISTS ${role(statement.role)}`;
    case 'create-database':
      return `CREATE DATABASE ${database(statement.database)} OWNER ${role(statement.owner)}`;
    case 'alter-database-owner':
      return `ALTER DATABASE ${database(statement.database)} OWNER TO ${role(statement.owner)}`;
  }
}
