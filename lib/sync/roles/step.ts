/**
 * The role and database step of `syncCluster`, run after the cluster's objects are applied:
 *
 * 1. skipped when `enable_database_access` is false or the cluster has no instances (no condition then);
 * 2. waits, without touching the network, until the master is up (see `roles-master.ts`): the sync then returns
 *    `retryable` with the reason, and the `RolesSynced` condition says "waiting for the master pod";
 * 3. reads the passwords from the credentials Secrets (the source of truth), the infrastructure roles and the
 *    Teams API members; merges the sources; connects as the superuser; plans and runs the SQL;
 * 4. while a connection pooler runs, checks its lookup function in every database and installs it where it is
 *    missing or differs (`pooler-lookup.ts`);
 * 5. in each prepared database (`spec.preparedDatabases`), creates missing schemas, schema grants, default privileges
 *    and extensions (`prepared-databases.ts`); none in a standby cluster;
 * 6. password rotation (`rotation.ts`): the roles rotated Secrets name are part of the plan, the Secrets are written
 *    after that DDL, and rotation roles past the retention are dropped.
 *
 * The outcome is the `RolesSynced` condition on the `postgresql` status (reasons `WaitingForMaster`, `Synced`,
 * `SyncedWithWarnings`, `TeamsApiUnavailable`, `ConnectionFailed`, `SyncFailed`), written with the rest of the
 * status only when it changes; an Event is recorded when statements ran or the condition changed. So a second
 * sync with nothing changed runs no DDL and makes no Kubernetes write. Statements are logged by their reason;
 * passwords, tokens and Secret data never are.
 *
 * Source: Zalando postgres-operator (roles and databases synced after the pods, errors not fatal to the sync;
 * no database access with 0 instances or enable_database_access=false); Kubernetes API conventions (conditions).
 */
import { numberOfInstances } from '../../builders/instances';
import { secretName } from '../../builders/names';
import { isRetryable } from '../../k8s/errors';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { KubeObject } from '../../k8s/client';
import type { Logger } from '../../log/logger';
import type { Condition, Postgresql, PostgresqlStatus } from '../../model/postgresql';
import { connectionDefaults, masterAddress, PgSession, PostgresError } from '../../pg/connection';
import { desiredState } from '../../roles/desired';
import type { PasswordEncryption, Statement } from '../../roles/types';
import { poolerDatabaseState } from '../../roles/pooler';
import { applyRolesAndDatabases } from './apply';
import { syncLookupFunctions, type LookupOutcome } from './pooler-lookup';
import { describePrepared, summarizePrepared, syncPreparedDatabases, type PreparedOutcome } from './prepared-databases';
import { readInfrastructureRoles, secretPasswords } from './inputs';
import { readTeamMembers, teamsApiNotAsked } from './teams';
import { masterState } from './master';
import { infrastructureSecretWrites } from './infrastructure-secrets';
import {
  dropExpiredRotationRoles,
  planSecretRotation,
  withoutRotationNotes,
  withSecretRotation,
  writableRotations,
} from './rotation';
import type { SyncContext } from '../context';

/** Type of the condition this step owns. */
export const ROLES_CONDITION = 'RolesSynced';

/** What the role and database step did. */
export interface RolesSummary {
  /** statements run this time (0 on an unchanged cluster) */
  statements: number;
  /** statements that failed */
  failed: number;
  /** refusals and skips, as in the condition message */
  notes: string[];
}

/** The step's outcome for `syncCluster`. */
export interface RolesStepResult {
  /** the `RolesSynced` condition; undefined when database access is off or there are no instances */
  condition?: Condition;
  /** why roles are not in sync yet when trying again later may help (e.g. waiting for the master pod) */
  pending?: string;
  retryable?: boolean;
  summary?: RolesSummary;
  /**
   * with `leaseHeld: false`: what the step would write (DDL, a Secret); nothing was written, and the sync runs the
   * step again holding the cluster's Lease
   */
  needsLease?: string;
}

/** How the step runs. */
export interface RolesStepOptions {
  /** whether the cluster's Lease is held: without it the step writes nothing and answers `needsLease` instead */
  leaseHeld: boolean;
  /** the environment (POSTGRES_* connection settings, OPERATOR_NAMESPACE); default process.env */
  env?: Record<string, string | undefined>;
}

/**
 * What a pass without the Lease read (infrastructure roles, team members) before it stopped for the Lease, kept
 * for the pass under it in the same invocation, so the Teams API is asked once per sync.
 */
const readBeforeLease = new WeakMap<
  SyncContext,
  Map<string, [Awaited<ReturnType<typeof readInfrastructureRoles>>, Awaited<ReturnType<typeof readTeamMembers>>]>
>();

/** Longest condition message, in characters. */
const MAX_MESSAGE = 2000;

const clip = (text: string): string => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text);

/** @returns this step's condition on the `postgresql` object as read (a string status, as Zalando's, has none) */
function previousCondition(raw: KubeObject): Condition | undefined {
  const status: PostgresqlStatus | string | undefined = raw.status;
  const conditions = typeof status === 'object' ? status?.conditions : undefined;
  return (conditions ?? []).find((c) => c.type === ROLES_CONDITION);
}

function makeCondition(raw: KubeObject, ok: boolean, reason: string, message: string, now: Date): Condition {
  const previous = previousCondition(raw);
  const status = ok ? 'True' : 'False';
  const metadata: V1ObjectMeta | undefined = raw.metadata;
  return {
    type: ROLES_CONDITION,
    status,
    reason,
    message: clip(message),
    observedGeneration: metadata?.generation ?? 0,
    lastTransitionTime:
      previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : now.toISOString(),
  };
}

/** Words for a statement in logs and Events ("Created role foo"). */
function describe(statement: Statement): string {
  switch (statement.type) {
    case 'create-role':
      return `Created role ${statement.role}`;
    case 'alter-role':
      return `Altered role ${statement.reason}`;
    case 'grant-membership':
      return `Granted ${statement.groups.join(', ')} to ${statement.role}`;
    case 'grant-admin':
      return `Granted ADMIN OPTION on ${statement.role} to ${statement.admin}`;
    case 'set-parameter':
      return `Set ${statement.name} for ${statement.role}`;
    case 'reset-parameters':
      return `Reset the parameters of ${statement.role}`;
    case 'rename-role':
      return `Renamed role ${statement.role} to ${statement.newName}`;
    case 'drop-role':
      return `Dropped role ${statement.role}`;
    case 'create-database':
      return `Created database ${statement.database} owned by ${statement.owner}`;
    case 'alter-database-owner':
      return `Changed owner of ${statement.reason}`;
  }
}

const encryptionOf = (cluster: Postgresql): PasswordEncryption | undefined => {
  const value = cluster.spec.postgresql.parameters?.password_encryption;
  return value === 'md5' || value === 'scram-sha-256' ? value : undefined;
};

/**
 * @param raw the `postgresql` object as read (its status holds the previous condition)
 * @param cluster the validated cluster, with its namespace
 * @param observed the children as read and written by this sync
 * @param options whether the cluster's Lease is held (DDL and Secret writes only then), the environment
 * @returns the condition and whether to retry; never throws
 */
export async function syncRolesAndDatabases(
  ctx: SyncContext,
  raw: KubeObject,
  cluster: Postgresql,
  observed: ReadonlyMap<string, KubeObject>,
  log: Logger,
  options: RolesStepOptions,
): Promise<RolesStepResult> {
  const env = options.env ?? process.env;
  if (!ctx.config.enable_database_access) return {};
  if (numberOfInstances(cluster, ctx.config).instances <= 0) return {};
  const now = ctx.now();
  const previous = previousCondition(raw);
  const finish = async (result: RolesStepResult): Promise<RolesStepResult> => {
    const c = result.condition!;
    const changed = previous?.reason !== c.reason || previous?.message !== c.message;
    const warn = (c.status === 'False' && c.reason !== 'WaitingForMaster') || c.reason === 'SyncedWithWarnings';
    if (changed && warn) {
      log.warn(c.status === 'False' ? 'Roles not in sync' : 'Some roles or databases were skipped', {
        reason: c.message,
      });
      await ctx.events.record(raw, 'Warning', c.reason!, c.message!);
    }
    return result;
  };

  try {
    const master = await masterState(ctx, cluster, observed);
    if (!master.ready) {
      return {
        condition: makeCondition(raw, false, 'WaitingForMaster', master.reason, now),
        pending: master.reason,
        retryable: true,
      };
    }
    const operatorNamespace = env.OPERATOR_NAMESPACE || 'default';
    const passwords = secretPasswords(ctx, cluster, observed);
    const superPassword = passwords[ctx.config.super_username];
    if (!superPassword) {
      const message = `no password for ${ctx.config.super_username}: Secret ${secretName(ctx.config, cluster.metadata.name, ctx.config.super_username)} is missing`;
      return finish({
        condition: makeCondition(raw, false, 'SyncFailed', message, now),
        pending: message,
        retryable: true,
      });
    }
    const clusterKey = `${cluster.metadata.namespace}/${cluster.metadata.name}`;
    const kept = readBeforeLease.get(ctx)?.get(clusterKey);
    readBeforeLease.get(ctx)?.delete(clusterKey);
    const [infrastructure, team] =
      kept ??
      (await Promise.all([
        readInfrastructureRoles(ctx, operatorNamespace),
        readTeamMembers(ctx, cluster, operatorNamespace),
      ]));
    const stopForLease = (why: string): RolesStepResult => {
      if (!readBeforeLease.has(ctx)) readBeforeLease.set(ctx, new Map());
      readBeforeLease.get(ctx)!.set(clusterKey, [infrastructure, team]);
      return { needsLease: why };
    };
    const rotation = planSecretRotation(ctx, cluster, observed, passwords, now);
    const state = withSecretRotation(
      desiredState({
        cluster,
        config: ctx.config,
        passwords: rotation.passwords,
        infrastructure: infrastructure.sources,
        team: team?.ok ? { members: team.members, superuserMembers: team.superuserMembers } : undefined,
      }),
      rotation,
    );
    const secrets = await infrastructureSecretWrites(ctx, cluster, state.roles, observed);
    if (secrets.length && !options.leaseHeld)
      return stopForLease(`the Secrets of infrastructure roles ${secrets.map((x) => x.user).join(', ')}`);
    if (rotation.writes.length && !options.leaseHeld)
      return stopForLease(`password rotation: ${rotation.writes.map((w) => w.change).join('; ')}`);

    const defaults = connectionDefaults(env);
    const address = masterAddress(
      defaults.hostTemplate,
      cluster.metadata.name,
      cluster.metadata.namespace!,
      ctx.config.cluster_domain,
    );
    const open = (database: string) =>
      PgSession.open(
        {
          ...address,
          ...defaults,
          user: ctx.config.super_username,
          password: superPassword,
          database,
          applicationName: 'postgres-operator-functions',
        },
        ctx.signal,
      );
    let session: PgSession;
    try {
      session = await open('postgres');
    } catch (error) {
      const e = error as PostgresError;
      return finish({
        condition: makeCondition(raw, false, 'ConnectionFailed', e.message, now),
        pending: e.retryable ? e.message : undefined,
        retryable: e.retryable,
      });
    }
    let applied;
    let lookup: LookupOutcome | undefined;
    let prepared: PreparedOutcome | undefined;
    let retention: Awaited<ReturnType<typeof dropExpiredRotationRoles>> | undefined;
    const pooler = poolerDatabaseState(cluster, ctx.config, passwords);
    try {
      applied = await applyRolesAndDatabases(session, state, {
        encryption: encryptionOf(cluster),
        teamsUnavailable: team && !team.ok ? { pamRoleName: ctx.config.pam_role_name } : undefined,
        // Only when every source of team members was read: with the Teams API on but not asked (placeholder URL),
        // its members are unknown, and deprecating them would lock out people who are still in the team.
        deprecation:
          team?.ok &&
          !teamsApiNotAsked(ctx.config) &&
          ctx.config.enable_team_member_deprecation &&
          ctx.config.pam_role_name
            ? { pamRoleName: ctx.config.pam_role_name, suffix: ctx.config.role_deletion_suffix }
            : undefined,
        mayWrite: options.leaseHeld,
        onDone: (statement, existed) =>
          log.info(existed ? `${describe(statement)} (already there)` : describe(statement), {
            reason: statement.reason,
          }),
      });
      if (!applied.aborted && !applied.needsLease)
        retention = await dropExpiredRotationRoles(
          ctx,
          session,
          rotation,
          new Set(state.roles.map((r) => r.name)),
          now,
          options.leaseHeld,
          (statement) => log.info(describe(statement), { reason: statement.reason }),
        );
      // Zalando v1.15.1 installs no lookup function in a standby cluster: its databases are read-only.
      if (pooler && !cluster.spec.standby && !applied.aborted && !applied.needsLease) {
        lookup = await syncLookupFunctions(session, open, pooler.schema, pooler.role.name);
        for (const where of lookup.installed) log.info(`Installed ${pooler.schema}.user_lookup`, { database: where });
      }
      // Schemas, default privileges and extensions of spec.preparedDatabases, each database over its own session.
      if (state.prepared.length && !cluster.spec.standby && !applied.aborted && !applied.needsLease)
        prepared = await syncPreparedDatabases(state.prepared, open, options.leaseHeld, (database, statement) =>
          log.info(describePrepared(database, statement), { reason: statement.reason }),
        );
    } finally {
      await session.close();
    }
    if (applied.needsLease) return stopForLease(applied.needsLease);
    if (retention?.needsLease) return stopForLease(retention.needsLease);
    if (prepared?.needsLease) return stopForLease(prepared.needsLease);
    const rotated = writableRotations(rotation, applied.failed);
    for (const { user, secret, change, event } of rotated.writes) {
      await ctx.client.apply(secret, ctx.signal);
      log.info(change, { secret: secret.metadata.name, user });
      await ctx.events.record(raw, 'Normal', event, change);
    }
    for (const role of retention?.dropped ?? [])
      await ctx.events.record(
        raw,
        'Normal',
        'RotationRoleDropped',
        `Dropped rotation role ${role}: past the retention`,
      );
    for (const { user, secret } of secrets) {
      await ctx.client.apply(secret, ctx.signal);
      log.info('Wrote the Secret of an infrastructure role', { secret: secret.metadata.name, user });
      await ctx.events.record(
        raw,
        'Normal',
        'InfrastructureRoleSecret',
        `Secret ${secret.metadata.name} holds the password of infrastructure role ${user}`,
      );
    }

    // What the server showed first (a password that was not the Secret's, a missing group): an Event keeps only the
    // first 1024 characters of the message.
    const notes = [
      ...withoutRotationNotes(applied.notes, rotation).map((n) => n.message),
      ...rotated.notes,
      ...(retention?.notes ?? []),
      ...(prepared?.notes ?? []).map((n) => n.message),
      ...infrastructure.errors,
      ...state.notes.map((n) => n.message),
      ...(team?.ok ? team.warnings : []),
      ...(pooler && cluster.spec.standby
        ? [`the pooler's ${pooler.schema}.user_lookup is not installed: a standby cluster is read-only`]
        : []),
    ];
    const installed = lookup?.installed ?? [];
    const failed = [
      ...applied.failed,
      ...(lookup?.failed ?? []).map((f) => ({ error: f.error, retryable: f.retryable })),
      ...(prepared?.failed ?? []),
    ];
    const preparedDone = summarizePrepared(prepared?.executed ?? []);
    preparedDone.push(
      ...(prepared?.asSuperuser ?? []).map((e) => `Extension ${e} created by the superuser: its owner role may not`),
    );
    const summary: RolesSummary = {
      statements:
        applied.executed.length +
        installed.length +
        (retention?.dropped.length ?? 0) +
        (prepared?.executed.length ?? 0),
      failed: failed.length,
      notes,
    };
    if (applied.executed.length + installed.length + preparedDone.length > 0) {
      const message = [
        ...applied.executed.map(describe),
        ...installed.map((where) => `Installed ${pooler!.schema}.user_lookup in database ${where}`),
        ...preparedDone,
      ].join('; ');
      await ctx.events.record(raw, 'Normal', 'RolesSynced', message);
    }
    const inSync = `${state.roles.length} roles and ${state.databases.length} databases`;
    if (failed.length > 0) {
      const planned =
        applied.planned +
        installed.length +
        (lookup?.failed.length ?? 0) +
        (prepared ? prepared.executed.length + prepared.failed.length : 0);
      const message = `${failed.length} of ${planned} statements failed: ${failed.map((f) => f.error).join('; ')}`;
      const retryable = failed.some((f) => f.retryable);
      return finish({
        condition: makeCondition(raw, false, 'SyncFailed', message, now),
        pending: retryable ? message : undefined,
        retryable,
        summary,
      });
    }
    if (team && !team.ok) {
      const message = `Teams API: ${team.error}; roles of team members left as they are; ${inSync} in sync`;
      // Not retryable on purpose: a wrong teams_api_url would otherwise be retried forever; the periodic sync
      // tries again, and the condition says why until then.
      return finish({
        condition: makeCondition(
          raw,
          false,
          'TeamsApiUnavailable',
          notes.length ? `${message}; ${notes.join('; ')}` : message,
          now,
        ),
        summary,
      });
    }
    const notAsked = teamsApiNotAsked(ctx.config);
    const message = [`${inSync} in sync`, ...(notAsked ? [notAsked] : []), ...notes].join('; ');
    return finish({
      condition: makeCondition(raw, true, notes.length ? 'SyncedWithWarnings' : 'Synced', message, now),
      summary,
    });
  } catch (error) {
    const message = `role and database sync failed: ${(error as Error).message}`;
    const retryable = isRetryable(error) || (error instanceof PostgresError && error.retryable);
    return finish({
      condition: makeCondition(raw, false, 'SyncFailed', message, now),
      pending: retryable ? message : undefined,
      retryable,
    });
  }
}
