/**
 * Brings one database server to the desired roles and databases over an open session: read the catalog for the
 * names involved, plan, run the role statements, then plan and run the database statements (their owners may
 * have just been created). An unchanged server costs two catalog reads and one `SHOW`, and runs no DDL.
 *
 * Source: see `lib/roles/plan.ts` (planning) and `lib/pg` (catalog, execution).
 */
import { randomBytes } from 'node:crypto';
import { readCatalog, serverPasswordEncryption } from '../../pg/catalog';
import type { PgSession } from '../../pg/connection';
import { executeStatements, type ExecutionResult } from '../../pg/execute';
import type { DesiredState } from '../../roles/desired';
import { withoutTeamMemberRoles } from '../../roles/merge';
import { catalogNames, planDatabases, planRoles } from '../../roles/plan';
import type { PasswordEncryption, RoleNote, Statement } from '../../roles/types';

/** How to apply. */
export interface ApplyOptions {
  /**
   * how to hash passwords, as the manifest asks (then a verifier in the other encryption is replaced); default:
   * the server's `password_encryption` for new passwords, and existing md5 or SCRAM verifiers that hold the
   * Secret's password are kept
   */
  encryption?: PasswordEncryption;
  /** the Teams API could not be read: existing team members' roles (members of this PAM role) are left alone */
  teamsUnavailable?: { pamRoleName: string };
  /** called after each statement that ran (log its reason, never its SQL) */
  onDone?: (statement: Statement, existed: boolean) => void;
}

/** What was planned, run and refused. */
export interface ApplyResult extends ExecutionResult {
  encryption: PasswordEncryption;
  /** statements planned (roles and databases) */
  planned: number;
  notes: RoleNote[];
}

/** @returns what happened; throws PostgresError when the catalog cannot be read */
export async function applyRolesAndDatabases(
  session: PgSession,
  state: DesiredState,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const names = catalogNames(state.roles, state.databases);
  const [catalog, encryption] = await Promise.all([
    readCatalog(session, names.roles, names.databases),
    options.encryption ? Promise.resolve(options.encryption) : serverPasswordEncryption(session),
  ]);
  const kept = options.teamsUnavailable
    ? withoutTeamMemberRoles(
        state.roles,
        new Map([...catalog.roles].map(([name, row]) => [name, row.memberOf])),
        options.teamsUnavailable.pamRoleName,
      )
    : { roles: state.roles, notes: [] };
  const rolePlan = planRoles(kept.roles, catalog, {
    encryption,
    strictEncryption: options.encryption !== undefined,
    salt: () => randomBytes(16),
  });
  const roles = await executeStatements(session, rolePlan.statements, options.onDone);
  const existing = new Set([
    ...catalog.roles.keys(),
    ...roles.executed.filter((s) => s.type === 'create-role').map((s) => s.role),
  ]);
  const databasePlan = roles.aborted
    ? { statements: [], notes: [] }
    : planDatabases(state.databases, catalog, existing);
  const databases = await executeStatements(session, databasePlan.statements, options.onDone);
  return {
    encryption,
    planned: rolePlan.statements.length + databasePlan.statements.length,
    executed: [...roles.executed, ...databases.executed],
    failed: [...roles.failed, ...databases.failed],
    aborted: roles.aborted || databases.aborted,
    notes: [...kept.notes, ...rolePlan.notes, ...databasePlan.notes],
  };
}
