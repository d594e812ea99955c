/**
 * Brings one database server to the desired roles and databases over an open session: read the catalog for the
 * names involved, plan, run the role statements, then plan and run the database statements (their owners may
 * have just been created). An unchanged server costs two catalog reads and one `SHOW`, and runs no DDL.
 *
 * Source: see `lib/roles/plan.ts` (planning) and `lib/pg` (catalog, execution).
 */
import { randomBytes } from 'node:crypto';
import { readCatalog, readGroupMembers, serverPasswordEncryption } from '../../pg/catalog';
import type { PgSession } from '../../pg/connection';
import { executeStatements, type ExecutionResult } from '../../pg/execute';
import { deprecatedNames, planDeprecation } from '../../roles/deprecation';
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
  /**
   * `enable_team_member_deprecation` with the team members read: roles of removed members (members of
   * `pamRoleName` no source asks for) are set NOLOGIN and renamed with `suffix`; returning members restored
   */
  deprecation?: { pamRoleName: string; suffix: string };
  /**
   * whether DDL may run now (the cluster's Lease is held); when false and there is something to run, nothing runs
   * and `needsLease` says what (default true)
   */
  mayWrite?: boolean;
  /** called after each statement that ran (log its reason, never its SQL) */
  onDone?: (statement: Statement, existed: boolean) => void;
}

/** What was planned, run and refused. */
export interface ApplyResult extends ExecutionResult {
  encryption: PasswordEncryption;
  /** statements planned (roles and databases) */
  planned: number;
  notes: RoleNote[];
  /** with `mayWrite: false`: the reasons of the first statements that would run; nothing ran */
  needsLease?: string;
}

/** @returns what happened; throws PostgresError when the catalog cannot be read */
export async function applyRolesAndDatabases(
  session: PgSession,
  state: DesiredState,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const names = catalogNames(state.roles, state.databases);
  const deprecation = options.deprecation;
  const pamMembers = deprecation ? await readGroupMembers(session, deprecation.pamRoleName) : [];
  const extra = deprecation ? [...deprecatedNames(state.roles, deprecation.suffix), ...pamMembers] : [];
  const [read, encryption] = await Promise.all([
    readCatalog(session, [...new Set([...names.roles, ...extra])].sort(), names.databases),
    options.encryption ? Promise.resolve(options.encryption) : serverPasswordEncryption(session),
  ]);
  const deprecated = deprecation
    ? planDeprecation(state.roles, read, pamMembers, deprecation.suffix)
    : { statements: [], catalog: read, notes: [] };
  const catalog = deprecated.catalog;
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
  const notes = [...deprecated.notes, ...kept.notes, ...rolePlan.notes];
  const roleStatements = [...deprecated.statements, ...rolePlan.statements];
  if (options.mayWrite === false) {
    const created = rolePlan.statements.flatMap((s) => (s.type === 'create-role' ? [s.role] : []));
    const databases = planDatabases(state.databases, catalog, new Set([...catalog.roles.keys(), ...created]));
    const pending = [...roleStatements, ...databases.statements];
    if (pending.length)
      return {
        encryption,
        planned: pending.length,
        executed: [],
        failed: [],
        aborted: false,
        notes: [...notes, ...databases.notes],
        needsLease: pending
          .slice(0, 3)
          .map((s) => s.reason)
          .join('; '),
      };
  }
  const roles = await executeStatements(session, roleStatements, options.onDone);
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
    planned: deprecated.statements.length + rolePlan.statements.length + databasePlan.statements.length,
    executed: [...roles.executed, ...databases.executed],
    failed: [...roles.failed, ...databases.failed],
    aborted: roles.aborted || databases.aborted,
    notes: [...notes, ...databasePlan.notes],
  };
}
