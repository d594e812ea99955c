/**
 * Password rotation in credentials Secrets, as Zalando's operator v1.15.1 does it, planned without a clock of its
 * own (`now` is always a parameter) and without randomness (new passwords are passed in):
 *
 * - which users rotate: with `enable_password_rotation`, every manifest user and every LOGIN role of a prepared
 *   database with a Secret, except database owners (`spec.databases` values and `_owner_user` roles: ownership is
 *   not inherited by a rotation user) and NOLOGIN roles; in any case the LOGIN users listed in
 *   `usersWithSecretRotation` or `usersWithInPlaceSecretRotation`; never a user in `usersIgnoringSecretRotation`,
 *   nor a system user (the superuser, the replication user, the pooler's role: their passwords are in pods'
 *   environments; a listed one is reported), nor in a standby cluster (its databases are read-only);
 * - when: the Secret's `nextRotation` (RFC 3339, UTC) is in the past. A Secret without one gets `now + interval`
 *   first (the first rotation date is derived from the sync's clock alone, so two syncs at the same instant agree);
 * - how: a new LOGIN role `<user><yymmdd>` that is a member of `<user>` (it inherits every privilege) takes the
 *   `username` and `password` of the Secret, or, for `usersWithInPlaceSecretRotation`, the password of `<user>`
 *   itself changes. The previous rotation role keeps its password, so a client that read the Secret before keeps
 *   logging in until the retention ends;
 * - retention: rotation roles whose date suffix is older than `password_rotation_user_retention` days (at least
 *   twice the interval, as Zalando enforces) are dropped, except the one the Secret names.
 *
 * Source: Zalando postgres-operator docs, administrator.md ("Password rotation in K8s secrets", "Password rotation
 * for single users", "Password replacement without extra users", "Turning off password rotation"),
 * reference/cluster_manifest.md (usersWithSecretRotation, usersWithInPlaceSecretRotation,
 * usersIgnoringSecretRotation), reference/operator_parameters.md (enable_password_rotation,
 * password_rotation_interval, password_rotation_user_retention); pkg/cluster/sync.go (checkForPasswordRotation,
 * rotatePasswordInSecret) for the order of the checks.
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { normalizeUserFlags } from '../model/user-flags';
import { MAX_IDENTIFIER_BYTES } from './names';
import { preparedLoginUsers } from './prepared-databases';
import type { DesiredRole, RoleNote } from './types';

/** How a user's credentials rotate: a new dated role, or a new password for the role itself. */
export type RotationMode = 'new-user' | 'in-place';

/** What a credentials Secret holds (decoded). */
export interface SecretCredentials {
  username: string;
  password: string;
  /** RFC 3339 time of the next rotation; absent when rotation is off */
  nextRotation?: string;
}

const DAY_MS = 86_400_000;
const ROTATION_SUFFIX = /^\d{6}$/;

/** @returns `yymmdd` of the UTC date (Zalando's RotationUserDateFormat "060102") */
export function rotationSuffix(now: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(now.getUTCFullYear() % 100)}${two(now.getUTCMonth() + 1)}${two(now.getUTCDate())}`;
}

/** @returns the time as RFC 3339 in UTC without fractions (`2026-03-02T17:59:49Z`), as Go's time.RFC3339 writes it */
export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** @returns the date a rotation role was made (UTC midnight), or undefined when `name` is not `<user><yymmdd>` */
export function rotationDate(user: string, name: string): Date | undefined {
  if (!name.startsWith(user)) return undefined;
  const suffix = name.slice(user.length);
  if (!ROTATION_SUFFIX.test(suffix)) return undefined;
  const yy = Number(suffix.slice(0, 2));
  // Go's two-digit years: 69-99 are 19xx, 00-68 are 20xx.
  const year = yy >= 69 ? 1900 + yy : 2000 + yy;
  const month = Number(suffix.slice(2, 4));
  const day = Number(suffix.slice(4, 6));
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? date : undefined;
}

/** @returns `password_rotation_interval`, at least 1 day (Zalando's documented minimum: 0 would rotate every sync) */
export function rotationIntervalDays(config: OperatorConfig): number {
  return Math.max(1, config.password_rotation_interval);
}

/** @returns the retention in days Zalando uses: the configured one, raised to twice the interval */
export function effectiveRetentionDays(config: OperatorConfig): number {
  return Math.max(config.password_rotation_user_retention, 2 * rotationIntervalDays(config));
}

/** The rotation settings of one cluster's users and what was asked but cannot be done. */
export interface RotationSettings {
  /** user -> mode, for the users whose Secret rotates */
  modes: Map<string, RotationMode>;
  notes: RoleNote[];
}

/**
 * @param users the users with a credentials Secret but the system users (manifest users, prepared databases' LOGIN
 *   roles: `secretUsers` without its `system`)
 * @param systemUsers the superuser, the replication user and the pooler's role: not rotated here (their passwords
 *   are in the pods' environment; Zalando rotates the latter two in place and replaces the pods)
 * @returns which users rotate and how; notes for listed users that are not rotated, naming the field
 */
export function rotationSettings(
  cluster: Postgresql,
  config: OperatorConfig,
  users: readonly string[],
  systemUsers: readonly string[],
): RotationSettings {
  const spec = cluster.spec;
  const listed = new Set(spec.usersWithSecretRotation ?? []);
  const inPlace = new Set(spec.usersWithInPlaceSecretRotation ?? []);
  const ignoring = new Set(spec.usersIgnoringSecretRotation ?? []);
  // Database owners: ownership is not inherited by a rotation role (the `_owner_user` roles of prepared databases too).
  const owners = new Set([
    ...Object.values(spec.databases ?? {}),
    ...preparedLoginUsers(cluster).filter((u) => u.endsWith('_owner_user')),
  ]);
  const modes = new Map<string, RotationMode>();
  const notes: RoleNote[] = [];
  const known = new Set(users);
  for (const [field, names] of [
    ['usersWithSecretRotation', listed],
    ['usersWithInPlaceSecretRotation', inPlace],
  ] as const) {
    for (const name of [...names].sort()) {
      if (known.has(name)) continue;
      const why = systemUsers.includes(name)
        ? `${JSON.stringify(name)} is a system user, whose password is not rotated by this operator`
        : `${JSON.stringify(name)} is not a user with a Secret (manifest users, LOGIN roles of prepared databases)`;
      notes.push({ name, origin: 'manifest', message: `spec.${field}: ${why}` });
    }
  }
  if (spec.standby) {
    if (listed.size || inPlace.size || config.enable_password_rotation)
      notes.push({
        name: cluster.metadata.name,
        origin: 'manifest',
        message: 'password rotation is paused: a standby cluster is read-only',
      });
    return { modes, notes };
  }
  for (const user of users) {
    const asked = listed.has(user) || inPlace.has(user);
    if (ignoring.has(user)) {
      if (asked)
        notes.push({
          name: user,
          origin: 'manifest',
          message: `password of ${JSON.stringify(user)} not rotated: it is in spec.usersIgnoringSecretRotation too`,
        });
      continue;
    }
    const global = config.enable_password_rotation && !owners.has(user);
    if (!asked && !global) continue;
    // Only LOGIN roles rotate (Zalando's docs): nothing logs in with the Secret of a NOLOGIN manifest role.
    const flags = spec.users?.[user] !== undefined ? normalizeUserFlags(spec.users[user]) : undefined;
    if (flags?.ok && !flags.flags.includes('LOGIN')) {
      if (asked)
        notes.push({
          name: user,
          origin: 'manifest',
          message: `password of ${JSON.stringify(user)} not rotated: the role is NOLOGIN`,
        });
      continue;
    }
    const mode: RotationMode = inPlace.has(user) ? 'in-place' : 'new-user';
    if (mode === 'new-user' && Buffer.byteLength(user) + 6 > MAX_IDENTIFIER_BYTES) {
      notes.push({
        name: user,
        origin: 'manifest',
        message: `password of ${JSON.stringify(user)} not rotated: ${JSON.stringify(user)} plus a 6-digit date is longer than ${MAX_IDENTIFIER_BYTES} bytes`,
      });
      continue;
    }
    modes.set(user, mode);
  }
  return { modes, notes };
}

/** The Secret after the rotation check, and why it changed. */
export interface RotationStep {
  credentials: SecretCredentials;
  /** set when the Secret must be written: why */
  change?: string;
  /** whether the credentials were rotated now (a new password) */
  rotated: boolean;
}

/**
 * Zalando's rotatePasswordInSecret, with the clock and the new password passed in.
 * @param current what the Secret holds now
 * @param newPassword called only when the password rotates: `(username) => password`
 * @returns the credentials to keep in the Secret; `change` is undefined when nothing changes
 */
export function rotateCredentials(
  user: string,
  mode: RotationMode,
  current: SecretCredentials,
  now: Date,
  intervalDays: number,
  newPassword: (username: string) => string,
): RotationStep {
  const next = rfc3339(new Date(now.getTime() + intervalDays * DAY_MS));
  const stored = current.nextRotation;
  const storedTime = stored && RFC3339.test(stored) ? Date.parse(stored) : NaN;
  const expected = mode === 'new-user' ? `${user}${rotationSuffix(now)}` : user;
  // Switching a rotated user to in-place rotation hands the Secret back to the role itself at once.
  const modeChanged = current.username.length > expected.length;
  if (Number.isNaN(storedTime) && !modeChanged)
    return {
      credentials: { ...current, nextRotation: next },
      change: `no valid rotation date in the Secret of ${user}: the first rotation is at ${next}`,
      rotated: false,
    };
  if (!(now.getTime() > storedTime) && !modeChanged) return { credentials: current, rotated: false };
  return {
    credentials: { username: expected, password: newPassword(expected), nextRotation: next },
    change:
      mode === 'new-user'
        ? `password of ${user} rotated: new role ${expected}; next rotation at ${next}`
        : `password of ${user} rotated in place; next rotation at ${next}`,
    rotated: true,
  };
}

/**
 * Which rotating users need the role step now (the fleet sync cannot see a date pass otherwise): a Secret without a
 * valid rotation date, past it, or naming a rotation role while the user rotates in place; the same rules as
 * `rotateCredentials`.
 * @param existing the decoded `username` and `nextRotation` of each user's Secret (undefined: no Secret yet)
 * @returns the users, in the order of `modes`
 */
export function rotationsDue(
  modes: ReadonlyMap<string, RotationMode>,
  existing: (user: string) => { username?: string; nextRotation?: string } | undefined,
  now: Date,
): string[] {
  return [...modes].flatMap(([user, mode]) => {
    const secret = existing(user);
    if (!secret) return [];
    const stored = secret.nextRotation;
    const time = stored && RFC3339.test(stored) ? Date.parse(stored) : NaN;
    const modeChanged = mode === 'in-place' && (secret.username ?? user).length > user.length;
    return Number.isNaN(time) || now.getTime() > time || modeChanged ? [user] : [];
  });
}

/** RFC 3339 date-time (with `Z` or an offset), the shape Zalando writes and parses. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The roles behind rotated Secrets: a Secret whose `username` is `<user><yymmdd>` needs that LOGIN role, a member of
 * `<user>` with the user's attributes, ADMIN roles and settings, holding the Secret's password; `<user>` itself
 * keeps whatever password it has (clients that read the Secret before still use it), and everything else the
 * sources ask for it.
 * @param logins user -> the Secret's username and password, for the users whose Secret names a rotation role
 * @returns the roles, with the rotation roles after the others; notes for names another source already uses
 */
export function withRotationRoles(
  roles: readonly DesiredRole[],
  logins: ReadonlyMap<string, { username: string; password: string }>,
): { roles: DesiredRole[]; notes: RoleNote[] } {
  const names = new Set(roles.map((r) => r.name));
  const notes: RoleNote[] = [];
  const added: DesiredRole[] = [];
  const out = roles.map((role) => {
    const login = logins.get(role.name);
    if (!login || login.username === role.name || !ROTATING_ORIGINS.has(role.origin)) return role;
    if (names.has(login.username)) {
      notes.push({
        name: login.username,
        origin: role.origin,
        message: `rotation role ${JSON.stringify(login.username)} of ${JSON.stringify(role.name)} is also a role of another source; not created`,
      });
      return role;
    }
    added.push({ ...role, name: login.username, memberOf: [role.name], password: login.password });
    const { password: _managedByRotation, ...rest } = role;
    return rest;
  });
  return { roles: [...out, ...added], notes };
}

/** Origins whose Secrets rotate (Zalando: manifest and bootstrap roles, the latter the `_user` roles of prepared databases). */
export const ROTATING_ORIGINS: ReadonlySet<string> = new Set(['manifest', 'bootstrap']);

/**
 * @param user the user whose rotation roles are looked at
 * @param existing role names that exist (any; only `<user><yymmdd>` ones count)
 * @param keep names never dropped (the role the Secret names, roles some source asks for)
 * @returns the rotation roles made more than `retentionDays` days before `now`, sorted
 */
export function expiredRotationRoles(
  user: string,
  existing: readonly string[],
  now: Date,
  retentionDays: number,
  keep: ReadonlySet<string>,
): string[] {
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  return existing
    .filter((name) => {
      const made = rotationDate(user, name);
      return made !== undefined && made.getTime() < cutoff && !keep.has(name);
    })
    .sort();
}

/**
 * The `username` and `nextRotation` a built Secret keeps from the Secret that exists, as it keeps its password: the
 * Secret is the truth. A username that is neither the user nor one of its rotation roles is replaced by the user's
 * name. Only the role step changes these fields (`lib/sync/roles/rotation.ts`), after the DDL they need: a rotation,
 * or the Secret handed back to the user when rotation is turned off.
 */
export function keptSecretFields(
  user: string,
  existing: { username?: string; nextRotation?: string } | undefined,
): { username: string; nextRotation?: string } {
  if (!existing) return { username: user };
  const username =
    existing.username === user || (existing.username && rotationDate(user, existing.username))
      ? existing.username
      : user;
  return existing.nextRotation !== undefined ? { username, nextRotation: existing.nextRotation } : { username };
}
