/**
 * Password rotation in the role step (the decisions are `lib/roles/rotation.ts`'s, with the sync's clock):
 *
 * 1. before planning, each rotating user's Secret (as read and written by this sync) is checked against `now`:
 *    a Secret without a rotation date gets one; a Secret past it gets new credentials (a dated rotation role, or a
 *    new password for the user itself). New passwords are derived like the passwords of new Secrets (HMAC of the
 *    operator's key, the cluster's uid and the rotation role's name, or the user and the day for in-place), so two
 *    syncs racing on one rotation write the same password;
 * 2. the roles the rotated Secrets name are added to the desired roles, so the DDL creates them first;
 * 3. the Secrets are written only after that DDL succeeded: a client never reads credentials that do not log in
 *    yet, and the credentials it read before keep working (their role keeps its password);
 * 4. rotation roles of rotating users past `password_rotation_user_retention` (at least twice the interval) are
 *    dropped, except the one a Secret names and any role a source asks for. Checked on every sync (one catalog
 *    read when some user rotates), where Zalando checks only when a rotation happens;
 * 5. a user whose rotation was turned off gets its Secret back (its own name, no date) after its role took the
 *    Secret's password.
 *
 * Events (Normal): `PasswordRotationScheduled` (first date set), `PasswordRotated`, `PasswordRotationOff` per
 * Secret, `RotationRoleDropped` per dropped role; a role that cannot be dropped (it owns objects), a Secret held
 * back by a failed statement and a listed user that cannot rotate are notes in the `RolesSynced` condition.
 *
 * Source: Zalando postgres-operator docs, administrator.md ("Password rotation in K8s secrets"); pkg/cluster/sync.go
 * (syncSecrets, updateSecret, rotatePasswordInSecret) and the cleanup of rotated users.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { secretUsers } from '../../builders';
import { secretName } from '../../builders/names';
import type { DesiredObject } from '../../builders/object-meta';
import { buildSecrets } from '../../builders/secrets';
import type { KubeObject } from '../../k8s/client';
import { sortKeys } from '../../model/canonical';
import type { Postgresql } from '../../model/postgresql';
import type { PgSession } from '../../pg/connection';
import type { DesiredState } from '../../roles/desired';
import { executeStatements } from '../../pg/execute';
import { withDesiredHash } from '../../plan/plan';
import {
  effectiveRetentionDays,
  expiredRotationRoles,
  rotateCredentials,
  rotationIntervalDays,
  rotationSettings,
  ROTATING_ORIGINS,
  rotationSuffix,
  withRotationRoles,
  type SecretCredentials,
} from '../../roles/rotation';
import type { RoleNote, Statement } from '../../roles/types';
import type { SyncContext } from '../context';

/** A rotated (or newly dated) Secret, written once the DDL it needs ran. */
export interface RotationWrite {
  user: string;
  secret: DesiredObject;
  /** why, for the log and the Event */
  change: string;
  /** the Event's reason: the first date set, a rotation, or the Secret handed back when rotation is off */
  event: 'PasswordRotationScheduled' | 'PasswordRotated' | 'PasswordRotationOff';
  /** the role the Secret names gets a password it did not have (in place, or handed back) */
  rolePasswordChanges: boolean;
}

/** What rotation changes in this sync's role inputs. */
export interface SecretRotation {
  /** the passwords of every user with a Secret, rotated ones replaced */
  passwords: Record<string, string>;
  /** user -> the role and password its Secret names, for users whose Secret names a rotation role */
  logins: Map<string, { username: string; password: string }>;
  writes: RotationWrite[];
  /** users whose old rotation roles are looked for */
  retentionUsers: string[];
  /** role names a Secret names (never dropped) */
  secretUsernames: Set<string>;
  notes: RoleNote[];
}

const decode = (value: string | undefined) =>
  value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');

/**
 * @param observed the children as read and written by this sync (the Secrets are there after the objects step)
 * @param passwords user -> password of the Secrets (see `secretPasswords`)
 * @param now the sync's clock (`ctx.now()`; tests pass a fake one)
 * @returns the rotated inputs and the Secrets to write; nothing is written here
 */
export function planSecretRotation(
  ctx: SyncContext,
  cluster: Postgresql,
  observed: ReadonlyMap<string, KubeObject>,
  passwords: Readonly<Record<string, string>>,
  now: Date,
): SecretRotation {
  const { users, system } = secretUsers(cluster, ctx.config);
  const settings = rotationSettings(
    cluster,
    ctx.config,
    users.filter((u) => !system.includes(u)),
    system,
  );
  const result: SecretRotation = {
    passwords: { ...passwords },
    logins: new Map(),
    writes: [],
    retentionUsers: [],
    secretUsernames: new Set(),
    notes: settings.notes,
  };
  const uid = cluster.metadata.uid ?? '';
  for (const user of users) {
    const secret: V1Secret | undefined = observed.get(`Secret/${secretName(ctx.config, cluster.metadata.name, user)}`);
    const username = decode(secret?.data?.username) ?? user;
    result.secretUsernames.add(username);
    const mode = settings.modes.get(user);
    const password = passwords[user];
    if (!secret || password === undefined) continue;
    const nextRotation = decode(secret.data?.nextRotation);
    if (!mode) {
      // Rotation turned off (Zalando's "Turning off password rotation"): the Secret names the user again and has no
      // date; the user's role takes the Secret's password, so a client that reads the Secret logs in, and one that
      // still holds the rotation role's credentials too, until that role's retention ends.
      const off = !cluster.spec.standby && !system.includes(user) && (username !== user || nextRotation !== undefined);
      if (off)
        result.writes.push({
          user,
          secret: secretObject(ctx, cluster, user, { username: user, password }),
          change: `password rotation of ${user} is off: its Secret names ${user} again, without a rotation date`,
          event: 'PasswordRotationOff',
          rolePasswordChanges: username !== user,
        });
      continue;
    }
    result.retentionUsers.push(user);
    const current: SecretCredentials = { username, password, ...(nextRotation !== undefined ? { nextRotation } : {}) };
    const step = rotateCredentials(user, mode, current, now, rotationIntervalDays(ctx.config), (name) =>
      ctx.newPassword(uid, name === user ? `${user}\0rotation\0${rotationSuffix(now)}` : `${name}\0rotation`),
    );
    const { credentials } = step;
    result.passwords[user] = credentials.password;
    result.secretUsernames.add(credentials.username);
    if (credentials.username !== user)
      result.logins.set(user, { username: credentials.username, password: credentials.password });
    if (step.change === undefined) continue;
    result.writes.push({
      user,
      secret: secretObject(ctx, cluster, user, credentials),
      change: step.change,
      event: step.rotated ? 'PasswordRotated' : 'PasswordRotationScheduled',
      rolePasswordChanges: step.rotated && credentials.username === user,
    });
  }
  return result;
}

/**
 * @returns the user's Secret holding these credentials, as the objects step writes Secrets (sorted, with the
 *   desired-hash annotation): its next pass keeps the username, password and date it finds, so the two never fight
 */
function secretObject(ctx: SyncContext, cluster: Postgresql, user: string, credentials: SecretCredentials) {
  const [built] = buildSecrets(
    cluster,
    ctx.config,
    [user],
    { [user]: credentials.password },
    { [user]: { username: credentials.username, nextRotation: credentials.nextRotation } },
  );
  return withDesiredHash(sortKeys(built!));
}

/**
 * @returns the desired state with the roles the rotated Secrets name (see `withRotationRoles`) and the rotation
 *   notes; drops from `rotation.writes` the users whose role another source took
 */
export function withSecretRotation(state: DesiredState, rotation: SecretRotation): DesiredState {
  // A manifest user whose name another source took (an infrastructure or team role wins) keeps that source's
  // password: its Secret is not rotated.
  const origins = new Map(state.roles.map((r) => [r.name, r.origin]));
  const taken = rotation.writes.filter((w) => !ROTATING_ORIGINS.has(origins.get(w.user) ?? '')).map((w) => w.user);
  rotation.writes = rotation.writes.filter((w) => !taken.includes(w.user));
  const rotated = withRotationRoles(state.roles, rotation.logins);
  const notes = taken.map((user) => ({
    name: user,
    origin: 'manifest' as const,
    message: `password of ${JSON.stringify(user)} not rotated: the role comes from another source`,
  }));
  return { ...state, roles: rotated.roles, notes: [...state.notes, ...rotation.notes, ...notes, ...rotated.notes] };
}

/**
 * @param failed the statements that failed this sync
 * @returns the writes whose role is in place (no failed statement for the role the Secret names), and notes for
 *   the others (kept for the next sync: the credentials a client has keep working)
 */
export function writableRotations(
  rotation: SecretRotation,
  failed: ReadonlyArray<{ statement: Statement }>,
): { writes: RotationWrite[]; notes: string[] } {
  const broken = new Set(failed.map((f) => ('role' in f.statement ? f.statement.role : '')));
  const writes: RotationWrite[] = [];
  const notes: string[] = [];
  for (const write of rotation.writes) {
    const username = rotation.logins.get(write.user)?.username ?? write.user;
    if (broken.has(username) || broken.has(write.user))
      notes.push(`the Secret of ${write.user} is not rotated yet: a statement for role ${username} failed`);
    else writes.push(write);
  }
  return { writes, notes };
}

/**
 * @returns the planner's notes without "logged in with a password other than its Secret's" for the users whose
 *   password this sync changes on purpose (rotated in place, or the Secret handed back)
 */
export function withoutRotationNotes(notes: readonly RoleNote[], rotation: SecretRotation): RoleNote[] {
  const inPlace = new Set(rotation.writes.filter((w) => w.rolePasswordChanges).map((w) => w.user));
  return notes.filter((n) => !(inPlace.has(n.name) && n.message.includes('a password other than its Secret')));
}

/** Rotation roles dropped, or why not. */
export interface RetentionOutcome {
  dropped: string[];
  notes: string[];
  /** with `mayWrite: false`: the roles that would be dropped; nothing was */
  needsLease?: string;
}

const CANDIDATES_QUERY = `SELECT r.rolname FROM pg_catalog.pg_roles r, unnest($1::text[]) AS u(name)
  WHERE left(r.rolname, length(u.name)) = u.name AND length(r.rolname) = length(u.name) + 6
    AND right(r.rolname, 6) ~ '^[0-9]{6}$'
  ORDER BY 1`;

/**
 * Drops the rotation roles past the retention.
 * @param keep role names never dropped (the desired roles, the roles the Secrets name)
 * @param mayWrite whether DDL may run now (the cluster's Lease is held)
 * @param onDone called after each DROP that ran
 * @returns what was dropped; throws PostgresError when the catalog cannot be read
 */
export async function dropExpiredRotationRoles(
  ctx: SyncContext,
  session: PgSession,
  rotation: SecretRotation,
  keep: ReadonlySet<string>,
  now: Date,
  mayWrite: boolean,
  onDone: (statement: Statement, existed: boolean) => void,
): Promise<RetentionOutcome> {
  if (rotation.retentionUsers.length === 0) return { dropped: [], notes: [] };
  const rows = await session.query<{ rolname: string }>(
    CANDIDATES_QUERY,
    [rotation.retentionUsers],
    'read password rotation roles',
  );
  const existing = rows.map((r) => r.rolname);
  const protectedNames = new Set([...keep, ...rotation.secretUsernames]);
  const retention = effectiveRetentionDays(ctx.config);
  const statements: Statement[] = rotation.retentionUsers.flatMap((user) =>
    expiredRotationRoles(user, existing, now, retention, protectedNames).map((role): Statement => ({
      type: 'drop-role',
      role,
      reason: `${role}: rotation role of ${user} older than ${retention} days (password_rotation_user_retention)`,
    })),
  );
  if (statements.length === 0) return { dropped: [], notes: [] };
  if (!mayWrite) return { dropped: [], notes: [], needsLease: statements.map((s) => s.reason).join('; ') };
  const result = await executeStatements(session, statements, onDone);
  return {
    dropped: result.executed.flatMap((s) => (s.type === 'drop-role' ? [s.role] : [])),
    notes: result.failed.map((f) => `rotation role not dropped: ${f.error}`),
  };
}
