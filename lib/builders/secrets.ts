/**
 * Credentials Secrets: one per role with a password (the superuser, the replication user, the connection pooler's
 * role while a pooler runs, and every valid manifest user, NOLOGIN ones included as in Zalando v1.15.1), named by
 * `secret_name_template`, with keys `username` and `password` (and `nextRotation` while its password rotates: the
 * `username` may then name the user's current rotation role, see `lib/roles/rotation.ts`).
 * Passwords are inputs: the caller passes the password already in the Secret, or a new one, so an existing
 * password is never replaced. Secrets are owned by the cluster (deleted with it) only with `enable_secrets_deletion`.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (secret_name_template,
 * super_username, replication_username, protected_role_names); Kubernetes API reference, core/v1 Secret.
 */
import type { OperatorConfig } from '../model/config';
import { anyPoolerEnabled, poolerSettings } from '../model/pooler';
import type { Postgresql } from '../model/postgresql';
import { normalizeUserFlags } from '../model/user-flags';
import { preparedLoginUsers } from '../roles/prepared-databases';
import { keptSecretFields } from '../roles/rotation';
import { inheritedAnnotations, objectLabels } from './labels';
import { secretName } from './names';
import { childMetadata, type DesiredObject } from './object-meta';
import { poolerLabels } from './pooler';

const b64 = (value: string) => Buffer.from(value).toString('base64');

/** The role name whose Secret carries the pooler's labels, whatever role the pooler uses. */
const POOLER_SECRET_USER = 'pooler';

/** A role that gets a credentials Secret, and why it was left out when it does not. */
export interface SecretUsers {
  users: string[];
  /** the system users among `users`: the superuser, the replication user, the pooler's role while a pooler runs */
  system: string[];
  skipped: Array<{ user: string; reason: string }>;
}

/**
 * @returns the roles that get a Secret (system users first, the pooler's role among them while a pooler runs, then
 *   manifest users sorted, then the `_user` roles of prepared databases), and the skipped ones
 */
export function secretUsers(cluster: Postgresql, config: OperatorConfig): SecretUsers {
  const system = [config.super_username, config.replication_username];
  if (anyPoolerEnabled(cluster.spec)) {
    const pooler = poolerSettings(cluster.spec, config).user;
    if (!system.includes(pooler)) system.push(pooler);
  }
  const users = [...system];
  const skipped: SecretUsers['skipped'] = [];
  for (const user of Object.keys(cluster.spec.users ?? {}).sort()) {
    if (system.includes(user)) {
      skipped.push({
        user,
        reason: `cannot initialize a new manifest robot role with the name of the system user ${JSON.stringify(user)}`,
      });
    } else if (config.protected_role_names.includes(user)) {
      skipped.push({
        user,
        reason: `cannot initialize a new manifest robot role with the name of the protected user ${JSON.stringify(user)}`,
      });
    } else {
      // NOLOGIN roles get one too, as in Zalando v1.15.1: its flag normalization drops NOLOGIN before
      // generateSingleUserSecret looks for it, so every valid manifest user has a Secret.
      if (normalizeUserFlags(cluster.spec.users?.[user]).ok) users.push(user);
    }
  }
  // The LOGIN `_user` roles of prepared databases (Zalando: bootstrap roles; their NOLOGIN roles get none).
  for (const user of preparedLoginUsers(cluster))
    if (!users.includes(user) && !config.protected_role_names.includes(user)) users.push(user);
  return { users, system, skipped };
}

/** What a credentials Secret holds besides the password (decoded), as far as the builders keep it. */
export interface SecretFields {
  username: string;
  /** RFC 3339 time of the next password rotation (`lib/roles/rotation.ts`) */
  nextRotation?: string;
}

/**
 * The `username` and `nextRotation` of each user's Secret, kept from the existing Secret as its password is (see
 * `keptSecretFields`).
 * @param existing the decoded `username` and `nextRotation` of a user's existing Secret, if any
 */
export function secretFields(
  cluster: Postgresql,
  config: OperatorConfig,
  existing: (user: string) => { username?: string; nextRotation?: string } | undefined,
): Record<string, SecretFields> {
  return Object.fromEntries(
    secretUsers(cluster, config).users.map((user) => [user, keptSecretFields(user, existing(user))]),
  );
}

/**
 * @param passwords username -> password for every user of `secretUsers` (existing passwords kept by the caller)
 * @param fields username -> the Secret's `username` and `nextRotation` (see `secretFields`); default the user's name
 * @returns core/v1 Secrets; throws when a password is missing (a caller bug, never user input)
 */
export function buildSecrets(
  cluster: Postgresql,
  config: OperatorConfig,
  users: readonly string[],
  passwords: Readonly<Record<string, string>>,
  fields: Readonly<Record<string, SecretFields>> = {},
): DesiredObject[] {
  return users.map((user) => {
    const password = passwords[user];
    if (password === undefined) throw new Error(`no password for user ${user}`);
    // Zalando v1.15.1 (generateSingleUserSecret) labels the Secret of a role named `pooler` as a pooler object.
    const labels =
      user === POOLER_SECRET_USER ? poolerLabels(cluster, config, 'master', false) : objectLabels(cluster, config);
    const metadata = childMetadata(
      cluster,
      config,
      secretName(config, cluster.metadata.name, user),
      labels,
      inheritedAnnotations(cluster, config),
    );
    // Without enable_secrets_deletion the Secrets outlive the cluster, so the garbage collector must not own them.
    if (!config.enable_secrets_deletion) delete metadata.ownerReferences;
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata,
      data: {
        username: b64(fields[user]?.username ?? user),
        password: b64(password),
        ...(fields[user]?.nextRotation !== undefined ? { nextRotation: b64(fields[user]!.nextRotation!) } : {}),
      },
    };
  });
}
